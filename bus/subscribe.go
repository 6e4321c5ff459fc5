package bus

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
)

// Subscription is a handler added to a running bus by [Topic.Subscribe].
// Close removes it.
type Subscription struct {
	b      *Bus
	l      *listener
	closed atomic.Bool
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
		return nil, fmt.Errorf("fxbus: Subscribe on a nil topic")
	}
	if b == nil {
		return nil, fmt.Errorf("fxbus: subscribe to %q: %w", t.name, ErrNilBus)
	}
	return b.subscribe(newListener(t, h, 1, opts))
}

func (b *Bus) subscribe(l *listener) (*Subscription, error) {
	if err := l.check(); err != nil {
		return nil, &WiringError{Topic: l.topicName(), Listener: l.info.String(), Err: err}
	}
	if err := l.topic.declErr(); err != nil {
		return nil, fmt.Errorf("fxbus: %w", err)
	}
	s := &Subscription{b: b, l: l}
	l.sub = s
	l.info.Subscribed = true
	err := b.update(func(st *state) error {
		id := l.topic.topicID()
		if err := checkNewTopicName(st.topics, l.topic); err != nil {
			return err
		}
		cur := st.lists[id]
		if l.topic.Requirement() == ExactlyOne && !l.info.Observer {
			if srv := serving(cur); len(srv) > 0 {
				return &WiringError{Topic: l.topicName(), Listener: l.info.String(),
					Err: fmt.Errorf("%w: needs %v, already has %s", ErrRequirement, ExactlyOne, listenerList(srv))}
			}
		}
		if err := attachPlugin(l); err != nil {
			return err
		}
		next := append(slices.Clone(cur), l)
		slices.SortFunc(next, byDispatchOrder)
		st.topics[id] = l.topic
		st.lists[id] = next
		st.setTable(b, l.topic, id, next)
		return nil
	})
	if err != nil {
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
	err := s.b.update(func(st *state) error {
		detachPlugin(s.l)
		id := s.l.topic.topicID()
		next := slices.DeleteFunc(slices.Clone(st.lists[id]), func(l *listener) bool { return l == s.l })
		st.lists[id] = next
		st.setTable(s.b, s.l.topic, id, next)
		return nil
	})
	if err == ErrClosed {
		return nil
	}
	return err
}

// Info describes the subscribed listener.
func (s *Subscription) Info() ListenerInfo { return s.l.info }
