package bus

import (
	"context"
	"fmt"
	"sync/atomic"
)

// Subscription is a handler added to a running bus by [Topic.Subscribe].
// Close removes it.
type Subscription struct {
	b      *Bus
	l      *listener
	closed atomic.Bool
	calls  inflight // the handler calls running; see wait.go
}

// Subscribe adds handler h for topic t to the running bus b. It merges with
// the bus's other listeners by rank (ties after those declared earlier) and
// applies from the next publish: a publish already running is not
// disturbed. It is safe from any goroutine, including from inside a handler.
//
// It fails with [ErrClosed] on a closed bus, and with a [*WiringError] for a
// nil handler, a mismatched [When], or a second listener on a topic that
// needs [ExactlyOne].
func (t *Topic[T]) Subscribe(b *Bus, h func(context.Context, *T) error, opts ...ListenerOption) (*Subscription, error) {
	if t == nil {
		return nil, fmt.Errorf("fxbus: subscribe: %w", ErrNilTopic)
	}
	if b == nil {
		return nil, fmt.Errorf("fxbus: subscribe to %q: %w", t.name, ErrNilBus)
	}
	return b.subscribe(newListener(t, h, 1, opts))
}

// subscribe adds l to the running bus. Its cost depends on the number of
// the topic's listeners on this bus only, and is far below linear in it:
// one chunk of the table and the list of chunks are copied.
func (b *Bus) subscribe(l *listener) (*Subscription, error) {
	if err := l.check(); err != nil {
		return nil, l.wiringError(err)
	}
	if err := l.topic.declErr(); err != nil {
		return nil, &WiringError{Topic: l.topicName(), Err: err}
	}
	s := &Subscription{b: b, l: l}
	l.sub = s
	l.info.Subscribed = true
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Load() {
		return nil, fmt.Errorf("fxbus: subscribe to %q: %w", l.topicName(), b.closedErr())
	}
	if err := checkNewTopicName(b.index(), l.topic); err != nil {
		return nil, err
	}
	if err := attachPlugin(l); err != nil {
		return nil, err
	}
	if err := b.learn(l.topic).insert(b, l); err != nil {
		detachPlugin(l)
		return nil, err
	}
	return s, nil
}

// Close removes the subscription; it applies from the next publish. Close
// is idempotent, and returns nil also when the bus is closed.
func (s *Subscription) Close() error {
	if s == nil || !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	defer s.calls.close(false)
	b := s.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Load() {
		return nil
	}
	detachPlugin(s.l)
	if s.l.feat != nil && s.l.feat.wild != nil {
		b.removeWild(s.l)
		return nil
	}
	b.learn(s.l.topic).remove(b, s.l)
	return nil
}

// Info describes the subscribed listener.
func (s *Subscription) Info() ListenerInfo { return s.l.info }
