package webhooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"
)

// errAddress is an endpoint's address that the config does not allow.
var errAddress = errors.New("address not allowed")

// addrPolicy says which addresses endpoints may be on.
type addrPolicy struct {
	loopback, private bool
}

// check returns an error for an address the policy refuses.
func (p addrPolicy) check(a netip.Addr) error {
	a = a.Unmap()
	switch {
	case a.IsLoopback():
		if !p.loopback {
			return fmt.Errorf("%w: %s is a loopback address (Config.AllowLoopback is off)", errAddress, a)
		}
	case a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsUnspecified() ||
		a.IsMulticast() || a.IsInterfaceLocalMulticast():
		if !p.private {
			return fmt.Errorf("%w: %s is a private, link-local, multicast or unspecified address (Config.AllowPrivate is off)", errAddress, a)
		}
	}
	return nil
}

// checkHost checks a URL's host at start: an address, or "localhost".
// Other names are checked when they resolve, at each connection.
func (p addrPolicy) checkHost(host string) error {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return p.check(netip.IPv6Loopback())
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return p.check(a)
	}
	return nil
}

// control is the dialer's check of the address it is about to connect
// to, once a name has resolved: a name that resolves to an address the
// policy refuses fails the delivery, whatever it resolved to at start.
func (p addrPolicy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %q", errAddress, address)
	}
	return p.check(ap.Addr())
}

// throttle logs a kind of trouble at most once per interval, with how
// many times it happened since the last line, instead of once each time.
type throttle struct {
	every time.Duration

	mu      sync.Mutex
	last    time.Time
	pending int
}

// note counts one occurrence, and logs it with the count since the last
// line when the interval has passed since that line.
func (t *throttle) note(log *slog.Logger, msg string, args ...any) {
	t.mu.Lock()
	t.pending++
	now := time.Now()
	if !t.last.IsZero() && now.Sub(t.last) < t.every {
		t.mu.Unlock()
		return
	}
	n := t.pending
	t.pending, t.last = 0, now
	t.mu.Unlock()
	log.Log(context.Background(), slog.LevelWarn, msg, append(args, "count", n, "per", t.every)...)
}

// flush logs what was counted and not logged yet, if anything.
func (t *throttle) flush(log *slog.Logger, msg string, args ...any) {
	t.mu.Lock()
	n := t.pending
	t.pending = 0
	t.mu.Unlock()
	if n > 0 {
		log.Log(context.Background(), slog.LevelWarn, msg, append(args, "count", n)...)
	}
}
