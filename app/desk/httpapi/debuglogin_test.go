package httpapi

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clock is a time that tests move.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// A session ends DebugSessionTTL after its login, or at logout; the store
// keeps at most maxDebugSessions, dropping the one nearest its end.
func TestDebugSessionsExpireAndAreBounded(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	s := newDebugSessions(c.now)
	id, expires := s.add("tok")
	assert.Equal(t, c.t.Add(DebugSessionTTL), expires)
	c.t = expires.Add(-time.Second)
	tok, ok := s.token(id)
	require.True(t, ok)
	assert.Equal(t, "tok", tok)
	c.t = expires
	_, ok = s.token(id)
	assert.False(t, ok, "ended at its expiry")
	assert.Empty(t, s.m, "and forgotten")

	id, _ = s.add("tok")
	s.remove(id)
	_, ok = s.token(id)
	assert.False(t, ok, "ended at logout")

	first, _ := s.add("first")
	for range maxDebugSessions {
		c.t = c.t.Add(time.Millisecond)
		s.add("more")
	}
	assert.Len(t, s.m, maxDebugSessions)
	_, ok = s.token(first)
	assert.False(t, ok, "the oldest went first")
}

// The limiter allows loginAttempts per window per address, again in the
// next window, and never counts more than maxLimited addresses.
func TestAttemptLimiter(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	l := newAttemptLimiter(c.now)
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	for range loginAttempts {
		ok, _ := l.allow(a)
		require.True(t, ok)
	}
	c.t = c.t.Add(10 * time.Second)
	ok, retry := l.allow(a)
	assert.False(t, ok)
	assert.Equal(t, loginWindow-10*time.Second, retry)
	ok, _ = l.allow(b)
	assert.True(t, ok, "another address")
	c.t = c.t.Add(loginWindow)
	ok, _ = l.allow(a)
	assert.True(t, ok, "the next window")

	for i := range maxLimited {
		l.allow(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
	}
	assert.LessOrEqual(t, len(l.m), maxLimited)
	ok, _ = l.allow(netip.MustParseAddr("203.0.113.1"))
	assert.False(t, ok, "full of fresh windows: refused rather than grown")
	c.t = c.t.Add(loginWindow)
	ok, _ = l.allow(netip.MustParseAddr("203.0.113.1"))
	assert.True(t, ok, "the ended windows make room")
}
