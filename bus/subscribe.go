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
		return nil, nilTopic("subscribe")
	}
	return b.subscribeTo(t, eraseHandler(h), opts)
}

// subscribeTo is Topic.Subscribe without the payload type.
func (b *Bus) subscribeTo(t topicCore, h erasedHandler, opts []ListenerOption) (*Subscription, error) {
	if b == nil {
		return nil, nilBus(t.Name())
	}
	return b.subscribe(newListener(t, h, 2, opts))
}

func nilBus(topic string) error { return fmt.Errorf("fxbus: subscribe to %q: %w", topic, errNilBus) }

// subscribe adds l to the running bus. Its cost grows with the logarithm
// of the number of the topic's listeners on this bus (see table).
func (b *Bus) subscribe(l *listener) (*Subscription, error) {
	if err := l.check(); err != nil {
		return nil, l.wiringError(err)
	}
	if err := l.topic.state().err; err != nil {
		return nil, &WiringError{Topic: l.topicName(), Err: err}
	}
	s := &Subscription{b: b, l: l}
	l.sub = s
	l.info.Subscribed = true
	o := l.owner()
	if o != nil {
		if err := o.Attach(s); err != nil {
			return nil, l.wiringError(err)
		}
	}
	if err := b.add(s); err != nil {
		if o != nil {
			o.Detach(s)
		}
		return nil, err
	}
	return s, nil
}

// add puts the subscription's listener in b's tables.
func (b *Bus) add(s *Subscription) error {
	l := s.l
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Load() {
		return fmt.Errorf("fxbus: subscribe to %q: %w", l.topicName(), b.closedErr())
	}
	if err := checkNewTopicName(b.index(), l.topic); err != nil {
		return err
	}
	slot := b.learn(l.topic)
	if err := slot.insert(b, l); err != nil {
		return err
	}
	if s.closed.Load() {
		// Closed while being added, by its owner say: Close found nothing
		// to remove.
		slot.remove(b, l)
	}
	return nil
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
	if !b.closed.Load() {
		if s.l.feat != nil && s.l.feat.wild != nil {
			b.removeWild(s.l)
		} else {
			b.learn(s.l.topic).remove(b, s.l)
		}
	}
	b.mu.Unlock()
	if o := s.l.owner(); o != nil {
		o.Detach(s)
	}
	return nil
}

// Info describes the subscribed listener.
func (s *Subscription) Info() ListenerInfo { return s.l.info }
