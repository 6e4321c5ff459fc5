package bus_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/bus"
)

// mwTrail returns a middleware that logs "name>" before and "<name" after
// the next handler into the event's log.
func mwTrail(name string) bus.Middleware {
	return func(next bus.Handler) bus.Handler {
		return func(ctx context.Context, env bus.Envelope) error {
			e := env.Payload.(*event)
			e.Log = append(e.Log, name+">")
			err := next(ctx, env)
			e.Log = append(e.Log, "<"+name)
			return err
		}
	}
}

func TestMiddlewareOrder(t *testing.T) {
	topic := bus.NewTopic[event]("mw.order")
	other := bus.NewTopic[event]("mw.other")
	b := newBus(t, []bus.Listener{
		bus.On(topic, record("h")),
		bus.On(other, record("o")),
	},
		bus.WithMiddleware(mwTrail("bus1")),
		bus.WithMiddleware(mwTrail("bus2")),
	)
	assert.Equal(t, []string{"bus1>", "bus2>", "h", "<bus2", "<bus1"}, publishLog(t, topic, b))
	assert.Equal(t, []string{"bus1>", "bus2>", "o", "<bus2", "<bus1"}, publishLog(t, other, b))

	s := subscribe(t, other, b, record("sub"), bus.Rank(1))
	assert.Equal(t, []string{"bus1>", "bus2>", "o", "<bus2", "<bus1", "bus1>", "bus2>", "sub", "<bus2", "<bus1"}, publishLog(t, other, b),
		"a subscription gets the bus's middleware")
	require.NoError(t, s.Close())
}

func TestMiddlewareSeesTopicAndListener(t *testing.T) {
	topic := bus.NewTopic[event]("mw.envelope")
	var seen []string
	spy := func(next bus.Handler) bus.Handler {
		return func(ctx context.Context, env bus.Envelope) error {
			seen = append(seen, env.Topic.Name()+"/"+env.Listener().Name)
			return next(ctx, env)
		}
	}
	b := newBus(t, []bus.Listener{bus.On(topic, record("h"), bus.Name("the-listener"))}, bus.WithMiddleware(spy))
	publishLog(t, topic, b)
	assert.Equal(t, []string{"mw.envelope/the-listener"}, seen)
}

func TestMiddlewareMistakesBecomeHandlerErrors(t *testing.T) {
	topic := bus.NewTopic[event]("mw.bad")
	swap := func(next bus.Handler) bus.Handler {
		return func(ctx context.Context, env bus.Envelope) error {
			env.Payload = &login{}
			return next(ctx, env)
		}
	}
	b := newBus(t, []bus.Listener{bus.On(topic, record("h"))}, bus.WithMiddleware(swap))
	err := topic.Publish(context.Background(), b, &event{})
	var he *bus.HandlerError
	require.ErrorAs(t, err, &he)
	assert.ErrorContains(t, err, "*bus_test.login")

	b = newBus(t, []bus.Listener{bus.On(topic, record("h"))}, bus.WithMiddleware(func(bus.Handler) bus.Handler { return nil }))
	assert.ErrorContains(t, topic.Publish(context.Background(), b, &event{}), "returned a nil handler")
}

// A nil middleware is a mistake reported where it was given, not a
// middleware silently left out.
func TestNilMiddlewareIsRefused(t *testing.T) {
	topic := bus.NewTopic[event]("mw.nil")
	pass := func(next bus.Handler) bus.Handler { return next }

	_, err := bus.New([]bus.Listener{bus.On(topic, record("h"))}, bus.WithMiddleware(pass, nil))
	var werr *bus.WiringError
	require.ErrorAs(t, err, &werr)
	assert.ErrorContains(t, err, "WithMiddleware: middleware #1 is nil")

	_, err = bus.New([]bus.Listener{bus.On(topic, record("h"), bus.Name("wrapped"), bus.Wrap(nil))})
	require.ErrorAs(t, err, &werr)
	assert.Equal(t, "wrapped", werr.Listener)
	assert.ErrorContains(t, err, "Wrap: middleware #0 is nil")

	b := newBus(t, []bus.Listener{bus.On(topic, record("h"))})
	remove, err := b.Use(pass, pass, nil)
	assert.Nil(t, remove)
	assert.EqualError(t, err, "fxbus: use middleware: middleware #2 is nil")
}

func TestUseInstallsAndRemovesMiddlewareAtRunTime(t *testing.T) {
	topic := bus.NewTopic[event]("mw.live")
	b := newBus(t, []bus.Listener{bus.On(topic, record("h"))}, bus.WithMiddleware(mwTrail("static")))
	remove1, err := b.Use(mwTrail("live1"))
	require.NoError(t, err)
	remove2, err := b.Use(mwTrail("live2"))
	require.NoError(t, err)
	assert.Equal(t, []string{"live1>", "live2>", "static>", "h", "<static", "<live2", "<live1"}, publishLog(t, topic, b),
		"runtime middleware runs outside the static, the first installed outermost")
	remove1()
	remove1()
	assert.Equal(t, []string{"live2>", "static>", "h", "<static", "<live2"}, publishLog(t, topic, b))
	remove2()
	assert.Equal(t, []string{"static>", "h", "<static"}, publishLog(t, topic, b))

	require.NoError(t, b.Close())
	_, err = b.Use(mwTrail("late"))
	assert.ErrorIs(t, err, bus.ErrClosed)
}

func TestUseWhilePublishing(t *testing.T) {
	topic := bus.NewTopic[event]("mw.churn")
	b := newBus(t, []bus.Listener{bus.On(topic, record("h"))})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				e := &event{}
				if err := topic.Publish(context.Background(), b, e); err != nil {
					t.Error(err)
					return
				}
				if n := len(e.Log); n != 1 && n != 3 {
					t.Errorf("a publish saw half a middleware: %v", e.Log)
					return
				}
			}
		})
	}
	for range 50 {
		remove, err := b.Use(mwTrail("m"))
		require.NoError(t, err)
		remove()
	}
	close(stop)
	wg.Wait()
}

func TestWrapWrapsOneListenerBetweenNewAndUse(t *testing.T) {
	topic := bus.NewTopic[event]("mw.wrap")
	b := newBus(t, []bus.Listener{
		bus.On(topic, record("h"), bus.Wrap(mwTrail("own1"), mwTrail("own2"))),
		bus.On(topic, record("plain"), bus.Rank(1)),
	}, bus.WithMiddleware(mwTrail("new")))
	remove, err := b.Use(mwTrail("use"))
	require.NoError(t, err)
	defer remove()
	assert.Equal(t, []string{
		"use>", "own1>", "own2>", "new>", "h", "<new", "<own2", "<own1", "<use",
		"use>", "new>", "plain", "<new", "<use",
	}, publishLog(t, topic, b))

	s := subscribe(t, topic, b, record("sub"), bus.Rank(2), bus.Wrap(mwTrail("sub")))
	defer func() { require.NoError(t, s.Close()) }()
	assert.Equal(t, []string{"use>", "sub>", "new>", "sub", "<new", "<sub", "<use"}, publishLog(t, topic, b)[14:],
		"a subscription's own middleware")
}

func TestEnvelopeNamesTheBus(t *testing.T) {
	topic := bus.NewTopic[event]("mw.bus")
	var seen []*bus.Bus
	spy := func(next bus.Handler) bus.Handler {
		return func(ctx context.Context, env bus.Envelope) error {
			seen = append(seen, env.Bus)
			return next(ctx, env)
		}
	}
	b := newBus(t, []bus.Listener{
		bus.On(topic, record("h"), bus.Wrap(spy)),
		bus.OnAll(func(_ context.Context, env bus.Envelope) error { seen = append(seen, env.Bus); return nil }),
	})
	publishLog(t, topic, b)
	assert.Equal(t, []*bus.Bus{b, b}, seen, "a middleware and a bus-wide listener see the bus")
}

func TestMiddlewareCanRetry(t *testing.T) {
	topic := bus.NewTopic[event]("mw.retry")
	tries := 0
	flaky := errors.New("flaky")
	retry := func(next bus.Handler) bus.Handler {
		return func(ctx context.Context, env bus.Envelope) error {
			err := next(ctx, env)
			for i := 0; err != nil && i < 2; i++ {
				err = next(ctx, env)
			}
			return err
		}
	}
	b := newBus(t, []bus.Listener{bus.On(topic, func(context.Context, *event) error {
		tries++
		if tries < 3 {
			return flaky
		}
		return nil
	})}, bus.WithMiddleware(retry))
	require.NoError(t, topic.Publish(context.Background(), b, &event{}))
	assert.Equal(t, 3, tries)
}

// TestAllocNoMiddlewareAfterRemoval asserts that middleware installed and
// removed at run time leaves the publish without allocations.
func TestAllocNoMiddlewareAfterRemoval(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	topic := bus.NewTopic[tick]("alloc.mw")
	b := newBus(t, []bus.Listener{bus.On(topic, count)})
	remove, err := b.Use(func(next bus.Handler) bus.Handler { return next })
	require.NoError(t, err)
	remove()
	assertNoAllocs(t, context.Background(), topic, b, 1)
}

// TestAllocWithMiddlewareAndBusWide asserts that a middleware that only
// passes on, and a bus-wide listener, allocate nothing either.
func TestAllocWithMiddlewareAndBusWide(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	topic := bus.NewTopic[tick]("alloc.mw.installed")
	b := newBus(t, []bus.Listener{
		bus.On(topic, count),
		bus.OnAll(func(context.Context, bus.Envelope) error { return nil }),
	}, bus.WithMiddleware(func(next bus.Handler) bus.Handler { return next }))
	assertNoAllocs(t, context.Background(), topic, b, 1)
}
