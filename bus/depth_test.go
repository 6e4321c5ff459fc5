package bus_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"weak"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/bus"
)

// TestPublishChainOnce: a runaway recursion returns its DepthError, with
// the chain of topics once, not one HandlerError text per level.
func TestPublishChainOnce(t *testing.T) {
	topic := bus.NewTopic[event]("depth.ping")
	var b *bus.Bus
	b = newBus(t, []bus.Listener{bus.On(topic, func(ctx context.Context, e *event) error {
		return topic.Publish(ctx, b, e)
	})})
	err := topic.Publish(t.Context(), b, &event{})
	require.ErrorAs(t, err, new(*bus.DepthError))
	msg := err.Error()
	assert.Equal(t, 1, strings.Count(msg, "fxbus:"), msg)
	assert.Equal(t, defaultMaxDepth+1, strings.Count(msg, "depth.ping"), "the chain, once: %s", msg)
	var herr *bus.HandlerError
	require.ErrorAs(t, err, &herr, "each level still wraps the error for errors.As")
}

// TestDepthCountsOnlyRunningPublishes: a context kept after its handler
// returned, and published with later (by a goroutine, a queue, a retry),
// does not nest in a publish that is over, however many times it is
// handed on.
func TestDepthCountsOnlyRunningPublishes(t *testing.T) {
	topic := bus.NewTopic[event]("depth.handed")
	saved := make(chan context.Context, 1)
	b := newBus(t, []bus.Listener{bus.On(topic, func(ctx context.Context, _ *event) error {
		saved <- ctx
		return nil
	})})

	t.Run("in sequence", func(t *testing.T) {
		ctx := t.Context()
		for range 3 * defaultMaxDepth {
			require.NoError(t, topic.Publish(ctx, b, &event{}))
			ctx = <-saved
		}
	})
	t.Run("through goroutines", func(t *testing.T) {
		ctx := t.Context()
		for range 3 * defaultMaxDepth {
			errc := make(chan error, 1)
			go func() { errc <- topic.Publish(ctx, b, &event{}) }()
			require.NoError(t, <-errc)
			ctx = <-saved
		}
	})
}

// TestDepthCountsGoroutinesAwaited: a handler that publishes from
// goroutines it waits for is still nesting, and a recursion through them is
// bounded.
func TestDepthCountsGoroutinesAwaited(t *testing.T) {
	topic := bus.NewTopic[event]("depth.fanout")
	var b *bus.Bus
	b = newBus(t, []bus.Listener{bus.On(topic, func(ctx context.Context, e *event) error {
		var wg sync.WaitGroup
		var err error
		wg.Go(func() { err = topic.Publish(ctx, b, &event{}) })
		wg.Wait()
		return err
	})}, bus.WithMaxDepth(5))
	var derr *bus.DepthError
	require.ErrorAs(t, topic.Publish(t.Context(), b, &event{}), &derr)
	assert.Len(t, derr.Chain, 6)
}

// TestDepthGuardFollowsTheContext pins what the guard does not promise: it
// counts the publishes nested through the contexts the bus hands to
// handlers, so a handler that publishes with a context of its own, such as
// context.Background(), starts a new chain, and a recursion through such
// contexts overflows the stack. It runs in a subprocess with a small stack.
func TestDepthGuardFollowsTheContext(t *testing.T) {
	if os.Getenv("FXBUS_TEST_FRESH_RECURSION") == "1" {
		debug.SetMaxStack(4 << 20)
		topic := bus.NewTopic[event]("depth.fresh")
		var b *bus.Bus
		b = newBus(t, []bus.Listener{bus.On(topic, func(_ context.Context, e *event) error {
			return topic.Publish(context.Background(), b, e)
		})})
		_ = topic.Publish(context.Background(), b, &event{})
		return
	}
	if testing.Short() {
		t.Skip("starts a subprocess")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDepthGuardFollowsTheContext$")
	cmd.Env = append(os.Environ(), "FXBUS_TEST_FRESH_RECURSION=1")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "%s", out)
	assert.Contains(t, string(out), "stack exceeds", "a recursion through fresh contexts is not bounded")
}

type bigKey struct{}

// TestPublishRetainsNothing: after Publish returns, the bus holds no
// reference to the caller's context (and what it carries) or the payload,
// whether the context is new or the one the previous publish used.
func TestPublishRetainsNothing(t *testing.T) {
	_, tp := newRecorder(t)
	for _, tc := range []struct {
		name string
		opts []bus.Option
	}{
		{"no telemetry", nil},
		{"tracing", []bus.Option{bus.WithTracerProvider(tp)}},
		{"no depth limit", []bus.Option{bus.WithMaxDepth(0)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			topic := bus.NewTopic[event]("retain." + tc.name)
			b := newBus(t, []bus.Listener{bus.On(topic, record("a"))}, tc.opts...)
			publish := func() (weak.Pointer[[8 << 20]byte], weak.Pointer[event]) {
				big := new([8 << 20]byte)
				ctx := context.WithValue(context.Background(), bigKey{}, big)
				e := &event{}
				for range 3 { // the same context again, as a long-lived one is
					require.NoError(t, topic.Publish(ctx, b, e))
				}
				return weak.Make(big), weak.Make(e)
			}
			big, e := publish()
			runtime.GC()
			runtime.GC()
			assert.Nil(t, big.Value(), "the context's value is still reachable")
			assert.Nil(t, e.Value(), "the payload is still reachable")
		})
	}
}

// TestNestedPanicErrStopIsAFailure: ErrStop inside another handler's
// failure (here, a nested publish whose handler panicked with it) is a
// failure of the outer handler, not a stop of the outer dispatch.
func TestNestedPanicErrStopIsAFailure(t *testing.T) {
	outer := bus.NewTopic[event]("stop.outer")
	inner := bus.NewTopic[event]("stop.inner")
	var b *bus.Bus
	b = newBus(t, []bus.Listener{
		bus.On(outer, func(ctx context.Context, e *event) error { return inner.Publish(ctx, b, e) }),
		bus.On(outer, record("after")),
		bus.On(inner, func(context.Context, *event) error { panic(bus.ErrStop) }),
	})
	e := &event{}
	err := outer.Publish(t.Context(), b, e)
	require.Error(t, err, "the outer publish reports the inner panic")
	var perr *bus.PanicError
	require.ErrorAs(t, err, &perr)
	herrs := handlerErrors(t, err)
	require.NotEmpty(t, herrs)
	assert.Equal(t, "stop.outer", herrs[0].Topic)
	assert.Empty(t, e.Log, "stop-on-error: later handlers do not run")

	t.Run("a handler's own wrapped ErrStop still stops", func(t *testing.T) {
		topic := bus.NewTopic[event]("stop.own")
		b := newBus(t, []bus.Listener{
			bus.On(topic, func(context.Context, *event) error { return errors.Join(errors.New("done"), bus.ErrStop) }),
			bus.On(topic, record("after")),
		})
		e := &event{}
		require.NoError(t, topic.Publish(t.Context(), b, e))
		assert.Empty(t, e.Log)
	})
}

func TestTopicOfAndDepthOf(t *testing.T) {
	outer := bus.NewTopic[event]("ctx.outer")
	inner := bus.NewTopic[event]("ctx.inner")
	var got []string
	shared := func(ctx context.Context, e *event) error {
		tp, ok := bus.TopicOf(ctx)
		require.True(t, ok)
		got = append(got, tp.Name()+"@"+string(rune('0'+bus.DepthOf(ctx))))
		return nil
	}
	var b *bus.Bus
	b = newBus(t, []bus.Listener{
		bus.On(outer, shared),
		bus.On(outer, func(ctx context.Context, e *event) error {
			if err := inner.Publish(ctx, b, e); err != nil {
				return err
			}
			return shared(ctx, e) // back in the outer publish
		}, bus.Rank(1)),
		bus.On(inner, shared),
	})
	require.NoError(t, outer.Publish(context.Background(), b, &event{}))
	assert.Equal(t, []string{"ctx.outer@1", "ctx.inner@2", "ctx.outer@1"}, got)
	_, ok := bus.TopicOf(context.Background())
	assert.False(t, ok)
	assert.Zero(t, bus.DepthOf(context.Background()))
	//lint:ignore SA1012 a nil context is 0, not a crash
	assert.Zero(t, bus.DepthOf(nil))
}
