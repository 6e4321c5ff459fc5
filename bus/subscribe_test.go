package bus_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/fxbus/fxbus/bus"
)

// publishLog publishes a fresh event and returns the handlers that ran.
func publishLog(t testing.TB, topic *bus.Topic[event], b *bus.Bus) []string {
	t.Helper()
	e := &event{}
	require.NoError(t, topic.Publish(context.Background(), b, e))
	return e.Log
}

func subscribe(t testing.TB, topic *bus.Topic[event], b *bus.Bus, h func(context.Context, *event) error, opts ...bus.ListenerOption) *bus.Subscription {
	t.Helper()
	s, err := topic.Subscribe(b, h, opts...)
	require.NoError(t, err)
	require.NotNil(t, s)
	return s
}

func TestSubscribeMergesByRank(t *testing.T) {
	topic := bus.NewTopic[event]("sub.merge")
	b := newBus(t, []bus.Listener{
		bus.On(topic, record("a"), bus.Rank(-1)),
		bus.On(topic, record("c"), bus.Rank(1)),
	})
	assert.Equal(t, []string{"a", "c"}, publishLog(t, topic, b))

	sb := subscribe(t, topic, b, record("b"))
	assert.Equal(t, []string{"a", "b", "c"}, publishLog(t, topic, b))

	subscribe(t, topic, b, record("d"), bus.Rank(1))
	subscribe(t, topic, b, record("e"), bus.Rank(-1))
	assert.Equal(t, []string{"a", "e", "b", "c", "d"}, publishLog(t, topic, b),
		"equal ranks: the subscription after the listeners declared before it")

	require.NoError(t, sb.Close())
	assert.Equal(t, []string{"a", "e", "c", "d"}, publishLog(t, topic, b))
}

func TestSubscribeToTopicWithoutStaticListeners(t *testing.T) {
	topic := bus.NewTopic[event]("sub.fresh")
	b := newBus(t, nil)
	assert.Empty(t, publishLog(t, topic, b))
	s := subscribe(t, topic, b, record("s"))
	assert.Equal(t, []string{"s"}, publishLog(t, topic, b))
	require.NoError(t, s.Close())
	assert.Empty(t, publishLog(t, topic, b))
}

func TestSubscriptionInfo(t *testing.T) {
	topic := bus.NewTopic[event]("sub.info")
	b := newBus(t, nil)
	s := subscribe(t, topic, b, record("x"), bus.Name("late"), bus.Rank(7))
	info := s.Info()
	assert.Equal(t, "late", info.Name)
	assert.Equal(t, 7, info.Rank)
	assert.Contains(t, info.Source.File, "subscribe_test.go")
}

func TestSubscriptionCloseIsIdempotent(t *testing.T) {
	topic := bus.NewTopic[event]("sub.close.twice")
	b := newBus(t, []bus.Listener{bus.On(topic, record("static"))})
	s := subscribe(t, topic, b, record("s"))
	s2 := subscribe(t, topic, b, record("s2"))
	require.NoError(t, s.Close())
	require.NoError(t, s.Close())
	assert.Equal(t, []string{"static", "s2"}, publishLog(t, topic, b), "closing twice removes only s")
	var nilSub *bus.Subscription
	require.NoError(t, nilSub.Close())
	require.NoError(t, s2.Close())
}

func TestSubscribeAndCloseFromHandlers(t *testing.T) {
	t.Run("subscribe applies from the next publish", func(t *testing.T) {
		topic := bus.NewTopic[event]("sub.inside.subscribe")
		var b *bus.Bus
		var subs []*bus.Subscription
		b = newBus(t, []bus.Listener{bus.On(topic, func(_ context.Context, e *event) error {
			e.Log = append(e.Log, "adder")
			s, err := topic.Subscribe(b, record(fmt.Sprintf("added%d", len(subs))), bus.Rank(1))
			subs = append(subs, s)
			return err
		})})
		assert.Equal(t, []string{"adder"}, publishLog(t, topic, b))
		assert.Equal(t, []string{"adder", "added0"}, publishLog(t, topic, b))
		assert.Equal(t, []string{"adder", "added0", "added1"}, publishLog(t, topic, b))
	})

	t.Run("close applies from the next publish", func(t *testing.T) {
		topic := bus.NewTopic[event]("sub.inside.close")
		var victim *bus.Subscription
		b := newBus(t, []bus.Listener{bus.On(topic, func(_ context.Context, e *event) error {
			e.Log = append(e.Log, "closer")
			return victim.Close()
		})})
		victim = subscribe(t, topic, b, record("victim"), bus.Rank(1))
		assert.Equal(t, []string{"closer", "victim"}, publishLog(t, topic, b),
			"the publish in flight still runs the handler it loaded")
		assert.Equal(t, []string{"closer"}, publishLog(t, topic, b))
	})

	t.Run("a subscription closes itself", func(t *testing.T) {
		topic := bus.NewTopic[event]("sub.inside.once")
		b := newBus(t, []bus.Listener{bus.On(topic, record("static"), bus.Rank(1))})
		var once *bus.Subscription
		once = subscribe(t, topic, b, func(_ context.Context, e *event) error {
			e.Log = append(e.Log, "once")
			return once.Close()
		})
		assert.Equal(t, []string{"once", "static"}, publishLog(t, topic, b))
		assert.Equal(t, []string{"static"}, publishLog(t, topic, b))
	})
}

func TestSubscribeExactlyOne(t *testing.T) {
	t.Run("already served by a static listener", func(t *testing.T) {
		topic := bus.NewTopic[event]("sub.one.static", bus.ExactlyOne)
		b := newBus(t, []bus.Listener{bus.On(topic, record("static"), bus.Name("static"))})
		s, err := topic.Subscribe(b, record("late"), bus.Name("late"))
		assert.Nil(t, s)
		require.ErrorIs(t, err, bus.ErrRequirement)
		var werr *bus.WiringError
		require.ErrorAs(t, err, &werr)
		assert.Equal(t, "sub.one.static", werr.Topic)
		assert.Contains(t, err.Error(), "late (")
		assert.Contains(t, err.Error(), "already has static (")
		assert.Equal(t, []string{"static"}, publishLog(t, topic, b))
	})

	t.Run("served by a subscription", func(t *testing.T) {
		topic := bus.NewTopic[event]("sub.one.dynamic", bus.ExactlyOne)
		b := newBus(t, nil)
		first := subscribe(t, topic, b, record("first"))
		_, err := topic.Subscribe(b, record("second"))
		require.ErrorIs(t, err, bus.ErrRequirement)
		require.NoError(t, first.Close())
		third := subscribe(t, topic, b, record("third"))
		assert.Equal(t, []string{"third"}, publishLog(t, topic, b))
		require.NoError(t, third.Close())
	})
}

func TestSubscribeErrors(t *testing.T) {
	topic := bus.NewTopic[event]("sub.errors")
	b := newBus(t, nil)

	_, err := topic.Subscribe(nil, record("x"))
	require.ErrorContains(t, err, "nil bus")
	assert.Contains(t, err.Error(), `"sub.errors"`)

	var nilTopic *bus.Topic[event]
	_, err = nilTopic.Subscribe(b, record("x"))
	require.Error(t, err)

	at := line() + 1
	_, err = topic.Subscribe(b, nil, bus.Name("nilh"))
	require.ErrorContains(t, err, "nil handler")
	assert.Contains(t, err.Error(), "nilh (")
	assert.Contains(t, err.Error(), fmt.Sprintf("subscribe_test.go:%d", at), "names the Subscribe call")

	_, err = topic.Subscribe(b, record("x"), bus.NewTopic[otherEvent]("sub.other").When(func(*otherEvent) bool { return true }))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "When of another topic")

	bad := bus.NewTopic[event]("")
	_, err = bad.Subscribe(b, record("x"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "empty name")
}

func TestBusClose(t *testing.T) {
	topic := bus.NewTopic[event]("sub.busclose")
	quiet := bus.NewTopic[event]("sub.busclose.quiet")
	b, err := bus.New([]bus.Listener{bus.On(topic, record("static"))})
	require.NoError(t, err)
	s := subscribe(t, topic, b, record("s"))

	require.NoError(t, b.Close())
	require.NoError(t, b.Close(), "Close is idempotent")

	e := &event{}
	require.ErrorIs(t, topic.Publish(t.Context(), b, e), bus.ErrClosed)
	assert.Empty(t, e.Log)
	require.ErrorIs(t, quiet.Publish(t.Context(), b, &event{}), bus.ErrClosed, "also for a topic without listeners")
	_, err = topic.Subscribe(b, record("late"))
	require.ErrorIs(t, err, bus.ErrClosed)
	require.NoError(t, s.Close(), "closing a subscription of a closed bus is fine")

	var nilBus *bus.Bus
	require.NotPanics(t, func() { require.NoError(t, nilBus.Close()) }, "like a failed New's result in a defer")
}

func TestBusCloseFromHandler(t *testing.T) {
	topic := bus.NewTopic[event]("sub.busclose.inside")
	var b *bus.Bus
	b = newBus(t, []bus.Listener{
		bus.On(topic, func(_ context.Context, e *event) error { e.Log = append(e.Log, "closer"); return b.Close() }),
		bus.On(topic, record("after")),
	})
	assert.Equal(t, []string{"closer", "after"}, publishLog(t, topic, b), "the publish in flight finishes")
	require.ErrorIs(t, topic.Publish(t.Context(), b, &event{}), bus.ErrClosed)
}

// TestConcurrentPublishWithChurn publishes from many goroutines while others
// subscribe and close. Every publish must see a consistent snapshot: the
// static handlers first and last, any number of subscribed ones between.
// Run it under -race.
func TestConcurrentPublishWithChurn(t *testing.T) {
	t.Run("telemetry off", func(t *testing.T) { testConcurrentPublishWithChurn(t) })
	t.Run("telemetry on", func(t *testing.T) {
		_, tp := newRecorder(t)
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
		testConcurrentPublishWithChurn(t, bus.WithTracerProvider(tp), bus.WithMeterProvider(mp))
	})
}

func testConcurrentPublishWithChurn(t *testing.T, opts ...bus.Option) {
	topic := bus.NewTopic[event]("sub.churn")
	follow := bus.NewTopic[event]("sub.churn.follow")
	var firsts, lasts, follows atomic.Int64
	var b *bus.Bus
	b = newBus(t, []bus.Listener{
		bus.On(topic, func(_ context.Context, e *event) error {
			firsts.Add(1)
			e.Log = append(e.Log, "first")
			return nil
		}, bus.Rank(-100)),
		bus.On(topic, func(ctx context.Context, e *event) error {
			lasts.Add(1)
			e.Log = append(e.Log, "last")
			return follow.Publish(ctx, b, &event{}) // nested, on the shared context
		}, bus.Rank(100)),
		bus.On(follow, func(context.Context, *event) error { follows.Add(1); return nil }),
	}, opts...)

	const publishers, publishes, churners, churns = 8, 300, 4, 150
	ctx := t.Context()
	var wg sync.WaitGroup
	for range publishers {
		wg.Go(func() {
			for range publishes {
				e := &event{}
				if !assert.NoError(t, topic.Publish(ctx, b, e)) {
					return
				}
				n := len(e.Log)
				if !assert.GreaterOrEqual(t, n, 2) ||
					!assert.Equal(t, "first", e.Log[0]) ||
					!assert.Equal(t, "last", e.Log[n-1]) ||
					!assert.Equal(t, n-2, countOf(e.Log[1:n-1], "sub")) {
					return
				}
			}
		})
	}
	for i := range churners {
		wg.Go(func() {
			for range churns {
				s, err := topic.Subscribe(b, record("sub"), bus.Rank(i-churners/2))
				if !assert.NoError(t, err) {
					return
				}
				f, err := follow.Subscribe(b, func(context.Context, *event) error { return nil })
				if !assert.NoError(t, err) {
					return
				}
				assert.NoError(t, s.Close())
				assert.NoError(t, f.Close())
			}
		})
	}
	wg.Wait()

	assert.EqualValues(t, publishers*publishes, firsts.Load())
	assert.EqualValues(t, publishers*publishes, lasts.Load())
	assert.EqualValues(t, publishers*publishes, follows.Load())
	assert.Equal(t, []string{"first", "last"}, publishLog(t, topic, b), "every subscription closed")
}

// TestConcurrentPublishAndClose closes the bus while publishers run: each
// publish either completes or returns ErrClosed.
func TestConcurrentPublishAndClose(t *testing.T) {
	topic := bus.NewTopic[event]("sub.churn.close")
	b, err := bus.New([]bus.Listener{bus.On(topic, record("a")), bus.On(topic, record("b"))})
	require.NoError(t, err)

	const publishers = 6
	var started, wg sync.WaitGroup
	started.Add(publishers)
	for range publishers {
		wg.Go(func() {
			first := true
			for {
				e := &event{}
				err := topic.Publish(t.Context(), b, e)
				if first {
					started.Done()
					first = false
				}
				if errors.Is(err, bus.ErrClosed) {
					return
				}
				if !assert.NoError(t, err) || !assert.Equal(t, []string{"a", "b"}, e.Log) {
					return
				}
			}
		})
	}
	started.Wait()
	require.NoError(t, b.Close())
	wg.Wait()
}

func countOf(s []string, v string) int {
	return len(slices.DeleteFunc(slices.Clone(s), func(x string) bool { return x != v }))
}

// The zero Bus is an empty bus without telemetry: publishing to it is a
// no-op, it takes subscriptions, and it closes.
func TestZeroBus(t *testing.T) {
	var b bus.Bus
	topic := bus.NewTopic[event]("test.zero")
	require.NoError(t, topic.Publish(context.Background(), &b, &event{}))

	var got []string
	sub, err := topic.Subscribe(&b, func(_ context.Context, e *event) error { got = append(got, "sub"); return nil })
	require.NoError(t, err)
	require.NoError(t, topic.Publish(context.Background(), &b, &event{}))
	assert.Equal(t, []string{"sub"}, got)

	require.NoError(t, sub.Close())
	require.NoError(t, b.Close())
	require.ErrorIs(t, topic.Publish(context.Background(), &b, &event{}), bus.ErrClosed)
}
