package bus

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"
)

// doneChan is a channel closed once, made on first use; its zero value is
// ready.
type doneChan struct {
	mu     sync.Mutex
	ch     chan struct{}
	closed bool
}

// C returns the channel.
func (d *doneChan) C() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ch == nil {
		d.ch = make(chan struct{})
		if d.closed {
			close(d.ch)
		}
	}
	return d.ch
}

// close closes the channel, once.
func (d *doneChan) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	d.closed = true
	if d.ch != nil {
		close(d.ch)
	}
}

// inflight counts the running calls of a subscription's handler.
type inflight struct {
	n       atomic.Int64
	closing atomic.Bool // the subscription is closed
	sealed  atomic.Bool // and calls not yet begun are skipped (CloseWait)
	done    doneChan    // closed when closing and no call runs
}

// tracked wraps fn, a subscription's handler, so that c counts its calls.
func tracked(c *inflight, fn func(context.Context, unsafe.Pointer) error) func(context.Context, unsafe.Pointer) error {
	return func(ctx context.Context, e unsafe.Pointer) error {
		c.n.Add(1)
		defer c.exit()
		if c.sealed.Load() {
			return nil
		}
		return fn(ctx, e)
	}
}

func (c *inflight) exit() {
	if c.n.Add(-1) == 0 && c.closing.Load() {
		c.done.close()
	}
}

// close marks the subscription closed; seal, that calls not yet begun are
// skipped.
func (c *inflight) close(seal bool) {
	if seal {
		c.sealed.Store(true)
	}
	c.closing.Store(true)
	if c.n.Load() == 0 {
		c.done.close()
	}
}

// Awaited makes a subscription count the calls of its handler that are
// running, so that [Subscription.CloseWait] (and bus/plugin's
// UnregisterWait, for a plugin's) can wait until they have returned, and
// [Subscription.Done] is closed only then, as tailscale's eventbus Close
// waits for a subscriber at work. Counting costs a little on every call,
// which is why it is asked for: a subscription without it costs what a
// listener given to [New] costs. New refuses it: its listeners are never
// closed.
func Awaited() ListenerOption {
	return listenerOptionFunc(func(l *listener) { l.feats().awaited = true })
}

// Done returns a channel that is closed once the subscription is closed
// (by Close, CloseWait, a plugin's Unregister or a [Once] listener's
// firing) and, for an [Awaited] subscription, no call of its handler is
// running. After Close, a publish that began before it may still call the
// handler (see Close); after CloseWait, no call begins.
func (s *Subscription) Done() <-chan struct{} { return s.calls.done.C() }

// CloseWait closes the subscription, as Close does, and waits until the
// calls of its handler that are running have returned: when it returns nil,
// the handler runs no more, not even for a publish that began before. The
// subscription must be [Awaited]: otherwise CloseWait closes it and
// returns an error wrapping [ErrNotAwaited] at once. It returns ctx.Err()
// if ctx is done first; the subscription is closed anyway. Do not call it
// from the subscription's own handler, which would wait for itself until
// ctx is done: use Close there.
func (s *Subscription) CloseWait(ctx context.Context) error {
	if s == nil {
		return nil
	}
	if s.l.feat == nil || !s.l.feat.awaited {
		_ = s.Close()
		return fmt.Errorf("fxbus: close and wait: topic %q: listener %s: %w", s.l.topicName(), s.l.info.String(), ErrNotAwaited)
	}
	_ = s.Close()
	s.calls.close(true)
	select {
	case <-s.calls.done.C():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Done returns a channel that is closed once the bus is closed.
func (b *Bus) Done() <-chan struct{} { return b.done.C() }
