package bus_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/fxbus/fxbus/bus"
)

// tapLog is a bus.Tap that keeps what it sees, in order, as lines.
type tapLog struct {
	mu    sync.Mutex
	pubs  []bus.PublishEvent
	calls []bus.HandlerCall
	lines []string
}

func (l *tapLog) PublishStarted(p bus.PublishEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf("start %s", p.Topic.Name()))
}

func (l *tapLog) PublishDone(p bus.PublishEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pubs = append(l.pubs, p)
	l.lines = append(l.lines, fmt.Sprintf("done %s handlers=%d err=%v", p.Topic.Name(), p.Handlers, p.Err != nil))
}

func (l *tapLog) HandlerDone(c bus.HandlerCall) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, c)
	l.lines = append(l.lines, fmt.Sprintf("%s %s %s", c.Topic.Name(), c.Listener.Name, c.Outcome))
}

func (l *tapLog) snapshot() ([]string, []bus.PublishEvent, []bus.HandlerCall) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...), append([]bus.PublishEvent(nil), l.pubs...), append([]bus.HandlerCall(nil), l.calls...)
}

func TestTapSeesEveryPublishAndHandlerCall(t *testing.T) {
	outer := bus.NewTopic[event]("tap.outer", bus.RunAll)
	inner := bus.NewTopic[event]("tap.inner")
	nobody := bus.NewTopic[event]("tap.nobody")
	boom := errors.New("boom")
	var b *bus.Bus
	b = newBus(t, []bus.Listener{
		bus.On(outer, record("ok"), bus.Name("ok"), bus.Rank(1)),
		bus.On(outer, func(ctx context.Context, e *event) error { return inner.Publish(ctx, b, e) }, bus.Name("nests"), bus.Rank(2)),
		bus.On(outer, func(context.Context, *event) error { return boom }, bus.Name("fails"), bus.Rank(3)),
		bus.On(outer, func(context.Context, *event) error { panic("oops") }, bus.Name("panics"), bus.Rank(4)),
		bus.On(outer, record("never"), bus.Name("filtered"), bus.Rank(5), outer.When(func(*event) bool { return false })),
		bus.On(outer, func(context.Context, *event) error { return bus.ErrStop }, bus.Name("stops"), bus.Rank(6)),
		bus.On(inner, record("inner"), bus.Name("inner")),
	})
	tap := &tapLog{}
	remove, err := b.Tap(tap)
	require.NoError(t, err)

	err = outer.Publish(context.Background(), b, &event{})
	require.ErrorIs(t, err, boom)
	require.NoError(t, nobody.Publish(context.Background(), b, &event{}))

	lines, pubs, calls := tap.snapshot()
	assert.Equal(t, []string{
		"start tap.outer",
		"tap.outer ok ok",
		"start tap.inner",
		"tap.inner inner ok",
		"done tap.inner handlers=1 err=false",
		"tap.outer nests ok",
		"tap.outer fails error",
		"tap.outer panics panic",
		"tap.outer filtered filtered",
		"tap.outer stops stopped",
		"done tap.outer handlers=6 err=true",
		"start tap.nobody",
		"done tap.nobody handlers=0 err=false",
	}, lines)

	require.Len(t, pubs, 3)
	in, out, none := pubs[0], pubs[1], pubs[2]
	assert.Zero(t, out.Parent, "a top-level publish has no parent")
	assert.ErrorIs(t, out.Err, boom)
	assert.Positive(t, out.Duration)
	require.Len(t, calls, 7)
	byName := map[string]bus.HandlerCall{}
	for _, c := range calls {
		byName[c.Listener.Name] = c
	}
	assert.Equal(t, byName["nests"].Seq, in.Parent, "the nested publish names the handler call that made it")
	assert.Equal(t, in.Seq, byName["inner"].Publish, "the inner handler call belongs to the inner publish")
	for _, name := range []string{"ok", "nests", "fails", "panics", "filtered", "stops"} {
		assert.Equal(t, out.Seq, byName[name].Publish, "%s belongs to the outer publish", name)
	}
	assert.ErrorIs(t, byName["fails"].Err, boom)
	assert.Equal(t, 3, byName["fails"].Listener.Rank)
	assert.NotEmpty(t, byName["fails"].Listener.Source.File)
	assert.Less(t, out.Seq, byName["ok"].Seq)
	assert.Zero(t, byName["filtered"].Duration)
	assert.Zero(t, none.Parent)

	remove()
	remove() // idempotent
	require.ErrorIs(t, outer.Publish(context.Background(), b, &event{}), boom)
	after, _, _ := tap.snapshot()
	assert.Len(t, after, len(lines), "a removed tap sees nothing")
}

func TestTapSeesTheTraceOfEachHandlerCall(t *testing.T) {
	rec, tp := newRecorder(t)
	topic := bus.NewTopic[event]("tap.traced")
	b := newBus(t, []bus.Listener{bus.On(topic, record("a"), bus.Name("a"))}, bus.WithTracerProvider(tp))
	tap := &tapLog{}
	remove, err := b.Tap(tap)
	require.NoError(t, err)
	defer remove()
	require.NoError(t, topic.Publish(context.Background(), b, &event{}))
	_, _, calls := tap.snapshot()
	require.Len(t, calls, 1)
	sc := trace.SpanContextFromContext(calls[0].Ctx)
	require.True(t, sc.IsValid(), "the handler call's context carries its span")
	spans := rec.Ended()
	var found bool
	for _, s := range spans {
		if s.SpanContext().SpanID() == sc.SpanID() {
			found = true
			assert.Contains(t, s.Name(), "a")
		}
	}
	assert.True(t, found, "the span in the call's context is the handler's span")
}

func TestTapSeesSubscriptionsMadeWhileInstalled(t *testing.T) {
	topic := bus.NewTopic[event]("tap.later")
	b := newBus(t, nil)
	tap := &tapLog{}
	remove, err := b.Tap(tap)
	require.NoError(t, err)
	defer remove()
	subscribe(t, topic, b, record("late"), bus.Name("late"))
	require.NoError(t, topic.Publish(context.Background(), b, &event{}))
	lines, _, _ := tap.snapshot()
	assert.Equal(t, []string{"start tap.later", "tap.later late ok", "done tap.later handlers=1 err=false"}, lines)
}

func TestTapOnAClosedBus(t *testing.T) {
	b := newBus(t, nil)
	require.NoError(t, b.Close())
	_, err := b.Tap(&tapLog{})
	assert.ErrorIs(t, err, bus.ErrClosed)
	_, err = newBus(t, nil).Tap(nil)
	assert.EqualError(t, err, "fxbus: tap: nil Tap")
}

func TestTapConcurrentInstallAndPublish(t *testing.T) {
	topic := bus.NewTopic[event]("tap.churn")
	b := newBus(t, []bus.Listener{bus.On(topic, record("a"))})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := topic.Publish(context.Background(), b, &event{}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for range 50 {
		remove, err := b.Tap(&tapLog{})
		require.NoError(t, err)
		remove()
	}
	close(stop)
	wg.Wait()
}

// TestAllocAfterTapRemoved asserts that a tap leaves no cost behind.
func TestAllocAfterTapRemoved(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	topic := bus.NewTopic[tick]("alloc.tap")
	b := newBus(t, []bus.Listener{bus.On(topic, count)})
	remove, err := b.Tap(&tapLog{})
	require.NoError(t, err)
	require.NoError(t, topic.Publish(context.Background(), b, &tick{}))
	remove()
	assertNoAllocs(t, context.Background(), topic, b, 1)
}

// A tap sees the payload content a topic opted in to with SpanAttributes,
// heard or not, and none of a topic that did not opt in; the attribute
// function runs only while a tap (or a recording span) asks for it.
func TestTapSeesOptedInAttributesOnly(t *testing.T) {
	type login struct {
		User  string
		Email string
	}
	var calls atomic.Int64
	optedIn := bus.NewTopic[login]("tap.attrs.opted").
		SpanAttributes(func(l *login) []attribute.KeyValue {
			calls.Add(1)
			return []attribute.KeyValue{attribute.String("user", l.User)}
		})
	unheard := bus.NewTopic[login]("tap.attrs.unheard").
		SpanAttributes(func(l *login) []attribute.KeyValue { return []attribute.KeyValue{attribute.String("user", l.User)} })
	private := bus.NewTopic[login]("tap.attrs.private")
	b := newBus(t, []bus.Listener{
		bus.On(optedIn, func(context.Context, *login) error { return nil }),
		bus.On(private, func(context.Context, *login) error { return nil }),
	})
	ctx := context.Background()
	p := &login{User: "ann", Email: "ann@example.com"}
	require.NoError(t, optedIn.Publish(ctx, b, p))
	assert.Zero(t, calls.Load(), "no tap, no span: the attribute function is not called")

	l := &tapLog{}
	remove, err := b.Tap(l)
	require.NoError(t, err)
	defer remove()
	require.NoError(t, optedIn.Publish(ctx, b, p))
	require.NoError(t, unheard.Publish(ctx, b, p))
	require.NoError(t, private.Publish(ctx, b, p))
	_, pubs, _ := l.snapshot()
	require.Len(t, pubs, 3)
	want := []attribute.KeyValue{attribute.String("user", "ann")}
	assert.Equal(t, want, pubs[0].Attributes, "an opted-in topic with a listener")
	assert.Equal(t, want, pubs[1].Attributes, "an opted-in topic nobody hears")
	assert.Nil(t, pubs[2].Attributes, "a topic that did not opt in")
	assert.NotContains(t, fmt.Sprint(pubs), "ann@example.com")
}
