package bus_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/bus"
)

func TestOnceRunsForOnePublish(t *testing.T) {
	topic := bus.NewTopic[event]("once.static")
	b := newBus(t, []bus.Listener{
		bus.On(topic, record("once"), bus.Once()),
		bus.On(topic, record("always"), bus.Rank(1)),
	})
	assert.Equal(t, []string{"once", "always"}, publishLog(t, topic, b))
	assert.Equal(t, []string{"always"}, publishLog(t, topic, b))
	assert.Len(t, b.Catalog().Topics[0].Listeners, 1, "a fired Once listener leaves the table")
}

func TestOnceWaitsForItsFilter(t *testing.T) {
	topic := bus.NewTopic[event]("once.filtered")
	b := newBus(t, nil)
	s := subscribe(t, topic, b, record("once"), bus.Once(), topic.When(func(e *event) bool { return e.ID == "yes" }))
	require.NoError(t, topic.Publish(context.Background(), b, &event{ID: "no"}))
	e := &event{ID: "yes"}
	require.NoError(t, topic.Publish(context.Background(), b, e))
	assert.Equal(t, []string{"once"}, e.Log)
	select {
	case <-s.Done():
	default:
		t.Fatal("a fired Once subscription is closed")
	}
	assert.Empty(t, publishLog(t, topic, b))
}

func TestOnceExactlyOnceUnderConcurrentPublishes(t *testing.T) {
	topic := bus.NewTopic[event]("once.concurrent")
	static := bus.NewTopic[event]("once.concurrent.static")
	var subRuns, staticRuns, wildRuns atomic.Int64
	b := newBus(t, []bus.Listener{
		bus.On(static, func(context.Context, *event) error { staticRuns.Add(1); return nil }, bus.Once()),
	})
	_, err := topic.Subscribe(b, func(context.Context, *event) error { subRuns.Add(1); return nil }, bus.Once())
	require.NoError(t, err)
	_, err = bus.SubscribeAll(b, func(context.Context, bus.Envelope) error { wildRuns.Add(1); return nil }, bus.Once())
	require.NoError(t, err)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 8 {
		wg.Go(func() {
			<-start
			for range 50 {
				assert.NoError(t, topic.Publish(context.Background(), b, &event{}))
				assert.NoError(t, static.Publish(context.Background(), b, &event{}))
			}
		})
	}
	close(start)
	wg.Wait()
	assert.EqualValues(t, 1, subRuns.Load())
	assert.EqualValues(t, 1, staticRuns.Load())
	assert.EqualValues(t, 1, wildRuns.Load(), "a bus-wide Once listener fires once across topics")
}

func TestOnceListenerGivenToTwoBusesFiresOnEach(t *testing.T) {
	topic := bus.NewTopic[event]("once.shared")
	l := bus.On(topic, record("once"), bus.Once())
	b1 := newBus(t, []bus.Listener{l})
	b2 := newBus(t, []bus.Listener{l})
	assert.Equal(t, []string{"once"}, publishLog(t, topic, b1))
	assert.Equal(t, []string{"once"}, publishLog(t, topic, b2))
	assert.Empty(t, publishLog(t, topic, b1))
}

// blocking returns a handler that signals entered and blocks until release
// is closed.
func blocking(entered chan<- struct{}, release <-chan struct{}) func(context.Context, *event) error {
	return func(context.Context, *event) error {
		entered <- struct{}{}
		<-release
		return nil
	}
}

func TestCloseWaitWaitsForRunningCalls(t *testing.T) {
	topic := bus.NewTopic[event]("wait.sub")
	b := newBus(t, nil)
	entered, release := make(chan struct{}), make(chan struct{})
	s := subscribe(t, topic, b, blocking(entered, release), bus.Awaited())
	published := make(chan error)
	go func() { published <- topic.Publish(context.Background(), b, &event{}) }()
	<-entered

	closed := make(chan error)
	go func() { closed <- s.CloseWait(context.Background()) }()
	select {
	case <-closed:
		t.Fatal("CloseWait returned while the handler runs")
	case <-s.Done():
		t.Fatal("Done closed while the handler runs")
	case <-time.After(20 * time.Millisecond): // a negative: nothing to wait on
	}
	close(release)
	require.NoError(t, <-closed)
	<-s.Done()
	require.NoError(t, <-published)
	require.NoError(t, topic.Publish(context.Background(), b, &event{}), "no handler now: nothing blocks")
}

func TestCloseWaitSkipsCallsNotBegun(t *testing.T) {
	topic := bus.NewTopic[event]("wait.skip")
	var b *bus.Bus
	var s *bus.Subscription
	b = newBus(t, []bus.Listener{bus.On(topic, func(ctx context.Context, e *event) error {
		e.Log = append(e.Log, "closer")
		return s.CloseWait(ctx) // from another listener: fine
	})})
	s = subscribe(t, topic, b, record("victim"), bus.Rank(1), bus.Awaited())
	assert.Equal(t, []string{"closer"}, publishLog(t, topic, b),
		"after CloseWait, not even a publish that began before calls the handler")
}

func TestCloseWaitGivesUpWithTheContext(t *testing.T) {
	topic := bus.NewTopic[event]("wait.ctx")
	b := newBus(t, nil)
	entered, release := make(chan struct{}), make(chan struct{})
	s := subscribe(t, topic, b, blocking(entered, release), bus.Awaited())
	done := make(chan struct{})
	go func() {
		defer close(done)
		assert.NoError(t, topic.Publish(context.Background(), b, &event{}))
	}()
	<-entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, s.CloseWait(ctx), context.Canceled)
	close(release)
	<-done
	<-s.Done()
}

func TestCloseWaitNeedsAwaited(t *testing.T) {
	topic := bus.NewTopic[event]("wait.unawaited")
	b := newBus(t, nil)
	s := subscribe(t, topic, b, record("x"), bus.Name("plain"))
	err := s.CloseWait(context.Background())
	require.ErrorIs(t, err, bus.ErrNotAwaited)
	assert.ErrorContains(t, err, `topic "wait.unawaited": listener plain (`)
	<-s.Done()
	assert.Empty(t, publishLog(t, topic, b), "closed anyway")
}

func TestDoneAfterPlainClose(t *testing.T) {
	topic := bus.NewTopic[event]("wait.plain")
	b := newBus(t, nil)
	s := subscribe(t, topic, b, record("x"))
	select {
	case <-s.Done():
		t.Fatal("Done before Close")
	default:
	}
	require.NoError(t, s.Close())
	<-s.Done()
}

func TestBusDone(t *testing.T) {
	b := newBus(t, nil)
	select {
	case <-b.Done():
		t.Fatal("Done before Close")
	default:
	}
	require.NoError(t, b.Close())
	<-b.Done()
}
