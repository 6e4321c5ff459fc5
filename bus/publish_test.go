package bus_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/bus"
)

// event is the payload of most test topics: handlers append their name to
// Log, so a test reads back which handlers ran and in what order.
type event struct {
	ID  string
	Log []string
}

// record returns a handler that appends name to the payload's log.
func record(name string) func(context.Context, *event) error {
	return func(_ context.Context, e *event) error {
		e.Log = append(e.Log, name)
		return nil
	}
}

// failWith returns a handler that logs name and returns err.
func failWith(name string, err error) func(context.Context, *event) error {
	return func(_ context.Context, e *event) error {
		e.Log = append(e.Log, name)
		return err
	}
}

// panicBoom panics with a string; tests look for its name in the stack.
func panicBoom(context.Context, *event) error { panic("boom") }

// line returns the line of its call, so a test can name the file:line that
// an error must point at.
func line() int {
	_, _, l, _ := runtime.Caller(1)
	return l
}

// newBus builds a bus or fails the test.
func newBus(t testing.TB, ls []bus.Listener, opts ...bus.Option) *bus.Bus {
	t.Helper()
	b, err := bus.New(ls, opts...)
	require.NoError(t, err)
	require.NotNil(t, b)
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// handlerErrors returns the *HandlerErrors that err joins (or err itself).
func handlerErrors(t testing.TB, err error) []*bus.HandlerError {
	t.Helper()
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	var out []*bus.HandlerError
	for _, e := range errs {
		var h *bus.HandlerError
		require.ErrorAs(t, e, &h)
		out = append(out, h)
	}
	return out
}

func TestPublishOrderByRankThenDeclaration(t *testing.T) {
	topic := bus.NewTopic[event]("test.order")
	ranks := []int{0, -5, 3, 0, -5, 10, 0, 3, -100, 0, 7, -5}
	ls := make([]bus.Listener, len(ranks))
	for i, r := range ranks {
		name := fmt.Sprintf("l%02d", i)
		ls[i] = bus.On(topic, record(name), bus.Rank(r), bus.Name(name))
	}
	want := []string{
		"l08",               // -100
		"l01", "l04", "l11", // -5, in declaration order
		"l00", "l03", "l06", "l09", // 0
		"l02", "l07", // 3
		"l10", // 7
		"l05", // 10
	}

	rng := rand.New(rand.NewPCG(2024, 6))
	for i := range 200 {
		shuffled := slices.Clone(ls)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		b, err := bus.New(shuffled)
		require.NoError(t, err)
		e := &event{}
		require.NoError(t, topic.Publish(t.Context(), b, e))
		require.Equal(t, want, e.Log, "shuffle %d", i)
		require.NoError(t, b.Close())
	}
}

func TestPublishDefaultRankIsZero(t *testing.T) {
	topic := bus.NewTopic[event]("test.defaultrank")
	b := newBus(t, []bus.Listener{
		bus.On(topic, record("plus"), bus.Rank(1)),
		bus.On(topic, record("default")),
		bus.On(topic, record("minus"), bus.Rank(-1)),
	})
	e := &event{}
	require.NoError(t, topic.Publish(t.Context(), b, e))
	assert.Equal(t, []string{"minus", "default", "plus"}, e.Log)
}

func TestPublishPassesOnePayloadAlong(t *testing.T) {
	topic := bus.NewTopic[event]("test.alter")
	b := newBus(t, []bus.Listener{
		bus.On(topic, func(_ context.Context, e *event) error { e.ID += "-altered"; return nil }, bus.Rank(-1)),
		bus.On(topic, func(_ context.Context, e *event) error { e.Log = append(e.Log, e.ID); return nil }),
	})
	e := &event{ID: "msg"}
	require.NoError(t, topic.Publish(t.Context(), b, e))
	assert.Equal(t, []string{"msg-altered"}, e.Log)
	assert.Equal(t, "msg-altered", e.ID, "the publisher sees what handlers changed")
}

func TestPublishWithoutListeners(t *testing.T) {
	known := bus.NewTopic[event]("test.nolisteners")
	b := newBus(t, nil, bus.WithTopics(known))
	require.NoError(t, known.Publish(t.Context(), b, &event{}))

	unknown := bus.NewTopic[event]("test.unknown")
	require.NoError(t, unknown.Publish(t.Context(), b, &event{}), "a topic the bus never heard of has no listeners")
}

func TestPublishWhenFilters(t *testing.T) {
	topic := bus.NewTopic[event]("test.when")
	b := newBus(t, []bus.Listener{
		bus.On(topic, record("all")),
		bus.On(topic, record("vip"), topic.When(func(e *event) bool { return e.ID == "vip" })),
		bus.On(topic, record("vip-and-long"),
			topic.When(func(e *event) bool { return e.ID == "vip" }),
			topic.When(func(e *event) bool { return len(e.Log) > 5 })),
	})
	e := &event{ID: "vip"}
	require.NoError(t, topic.Publish(t.Context(), b, e))
	assert.Equal(t, []string{"all", "vip"}, e.Log)
	e = &event{ID: "plain"}
	require.NoError(t, topic.Publish(t.Context(), b, e))
	assert.Equal(t, []string{"all"}, e.Log)
}

func TestPublishNestedRunsDepthFirst(t *testing.T) {
	outer := bus.NewTopic[event]("test.nested.outer")
	inner := bus.NewTopic[event]("test.nested.inner")
	var b *bus.Bus
	var log []string
	rec := func(name string) func(context.Context, *event) error {
		return func(context.Context, *event) error { log = append(log, name); return nil }
	}
	b = newBus(t, []bus.Listener{
		bus.On(outer, func(ctx context.Context, _ *event) error {
			log = append(log, "outer1 before")
			err := inner.Publish(ctx, b, &event{})
			log = append(log, "outer1 after")
			return err
		}),
		bus.On(outer, rec("outer2"), bus.Rank(1)),
		bus.On(inner, rec("inner1")),
		bus.On(inner, rec("inner0"), bus.Rank(-1)),
	})
	require.NoError(t, outer.Publish(t.Context(), b, &event{}))
	assert.Equal(t, []string{"outer1 before", "inner0", "inner1", "outer1 after", "outer2"}, log)
}

func TestPublishErrorPolicies(t *testing.T) {
	errA := errors.New("a failed")
	errC := errors.New("c failed")

	t.Run("StopOnError returns the first and stops", func(t *testing.T) {
		topic := bus.NewTopic[event]("test.policy.stop")
		require.Equal(t, bus.StopOnError, topic.Info().ErrorPolicy, "the default policy")
		b := newBus(t, []bus.Listener{
			bus.On(topic, failWith("a", errA), bus.Name("a")),
			bus.On(topic, record("b"), bus.Name("b")),
			bus.On(topic, failWith("c", errC), bus.Name("c")),
		})
		e := &event{}
		err := topic.Publish(t.Context(), b, e)
		assert.Equal(t, []string{"a"}, e.Log)
		var herr *bus.HandlerError
		require.ErrorAs(t, err, &herr)
		assert.Equal(t, "test.policy.stop", herr.Topic)
		assert.Equal(t, "a", herr.Listener)
		assert.Contains(t, herr.Source.File, "publish_test.go")
		assert.Same(t, errA, herr.Err)
		assert.ErrorIs(t, err, errA)
		assert.NotErrorIs(t, err, errC)
		assert.Contains(t, err.Error(), `"test.policy.stop"`)
		assert.Contains(t, err.Error(), "a failed")
	})

	t.Run("RunAll runs all and joins", func(t *testing.T) {
		topic := bus.NewTopic[event]("test.policy.runall", bus.RunAll)
		b := newBus(t, []bus.Listener{
			bus.On(topic, failWith("a", errA), bus.Name("a")),
			bus.On(topic, record("b"), bus.Name("b")),
			bus.On(topic, failWith("c", errC), bus.Name("c")),
		})
		e := &event{}
		err := topic.Publish(t.Context(), b, e)
		assert.Equal(t, []string{"a", "b", "c"}, e.Log)
		assert.ErrorIs(t, err, errA)
		assert.ErrorIs(t, err, errC)
		hs := handlerErrors(t, err)
		require.Len(t, hs, 2)
		assert.Equal(t, "a", hs[0].Listener)
		assert.Equal(t, "c", hs[1].Listener)
		for _, h := range hs {
			assert.Equal(t, "test.policy.runall", h.Topic)
		}
	})

	t.Run("RunAll with no failure returns nil", func(t *testing.T) {
		topic := bus.NewTopic[event]("test.policy.runall.ok", bus.RunAll)
		b := newBus(t, []bus.Listener{bus.On(topic, record("a")), bus.On(topic, record("b"))})
		require.NoError(t, topic.Publish(t.Context(), b, &event{}))
	})
}

func TestPublishErrStop(t *testing.T) {
	errA := errors.New("a failed")
	for _, tc := range []struct {
		name    string
		policy  bus.ErrorPolicy
		stop    error
		first   func(context.Context, *event) error
		wantErr error
	}{
		{"plain", bus.StopOnError, bus.ErrStop, record("a"), nil},
		{"wrapped", bus.StopOnError, fmt.Errorf("enough: %w", bus.ErrStop), record("a"), nil},
		{"joined", bus.StopOnError, errors.Join(errors.New("note"), bus.ErrStop), record("a"), nil},
		{"RunAll", bus.RunAll, bus.ErrStop, record("a"), nil},
		{"RunAll keeps earlier errors", bus.RunAll, bus.ErrStop, failWith("a", errA), errA},
	} {
		t.Run(tc.name, func(t *testing.T) {
			topic := bus.NewTopic[event]("test.stop."+tc.name, tc.policy)
			b := newBus(t, []bus.Listener{
				bus.On(topic, tc.first),
				bus.On(topic, failWith("stopper", tc.stop)),
				bus.On(topic, record("c")),
			})
			e := &event{}
			err := topic.Publish(t.Context(), b, e)
			assert.Equal(t, []string{"a", "stopper"}, e.Log)
			if tc.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.wantErr)
			assert.NotErrorIs(t, err, bus.ErrStop, "a stop is not a failure")
		})
	}
}

func TestPublishPanics(t *testing.T) {
	for _, policy := range []bus.ErrorPolicy{bus.StopOnError, bus.RunAll} {
		for pos, where := range []string{"first", "middle", "last"} {
			t.Run(policy.String()+"/"+where, func(t *testing.T) {
				topic := bus.NewTopic[event]("test.panic."+where, policy)
				names := []string{"h0", "h1", "h2"}
				ls := make([]bus.Listener, len(names))
				for i, n := range names {
					h := record(n)
					if i == pos {
						h = panicBoom
						names[i] = "panicker"
					}
					ls[i] = bus.On(topic, h, bus.Name(names[i]))
				}
				b := newBus(t, ls)

				e := &event{Log: []string{}}
				var err error
				require.NotPanics(t, func() { err = topic.Publish(t.Context(), b, e) })

				want := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == "panicker" })
				if policy == bus.StopOnError {
					want = want[:pos]
				}
				assert.Equal(t, want, e.Log, "handlers that ran")

				var herr *bus.HandlerError
				require.ErrorAs(t, err, &herr)
				assert.Equal(t, "panicker", herr.Listener)
				assert.Equal(t, topic.Name(), herr.Topic)
				var perr *bus.PanicError
				require.ErrorAs(t, err, &perr)
				assert.Same(t, perr, herr.Err, "the PanicError is the handler's error")
				assert.Equal(t, "boom", perr.Value)
				assert.Contains(t, string(perr.Stack), "bus_test.panicBoom", "the stack is the panicking goroutine's")
				assert.Contains(t, err.Error(), "panic: boom")

				// The bus is still usable.
				e = &event{}
				require.ErrorAs(t, topic.Publish(t.Context(), b, e), &perr)
			})
		}
	}
}

func TestPublishPanicsTwiceUnderRunAll(t *testing.T) {
	topic := bus.NewTopic[event]("test.panic.twice", bus.RunAll)
	b := newBus(t, []bus.Listener{
		bus.On(topic, panicBoom, bus.Name("p1")),
		bus.On(topic, record("ok")),
		bus.On(topic, func(context.Context, *event) error { panic(42) }, bus.Name("p2")),
		bus.On(topic, record("last")),
	})
	e := &event{}
	err := topic.Publish(t.Context(), b, e)
	assert.Equal(t, []string{"ok", "last"}, e.Log)
	hs := handlerErrors(t, err)
	require.Len(t, hs, 2)
	values := make([]any, len(hs))
	for i, h := range hs {
		var perr *bus.PanicError
		require.ErrorAs(t, h, &perr)
		values[i] = perr.Value
	}
	assert.Equal(t, []any{"boom", 42}, values)
	assert.Equal(t, "p1", hs[0].Listener)
	assert.Equal(t, "p2", hs[1].Listener)
}

func TestPublishPanicValues(t *testing.T) {
	t.Run("panic(nil)", func(t *testing.T) {
		topic := bus.NewTopic[event]("test.panic.nil")
		b := newBus(t, []bus.Listener{bus.On(topic, func(context.Context, *event) error { panic(nil) })})
		err := topic.Publish(t.Context(), b, &event{})
		var perr *bus.PanicError
		require.ErrorAs(t, err, &perr)
		var pnil *runtime.PanicNilError
		assert.ErrorAs(t, err, &pnil, "Go 1.21+ turns panic(nil) into *runtime.PanicNilError")
	})

	t.Run("panic(err)", func(t *testing.T) {
		topic := bus.NewTopic[event]("test.panic.err")
		b := newBus(t, []bus.Listener{bus.On(topic, func(context.Context, *event) error { panic(io.ErrUnexpectedEOF) })})
		err := topic.Publish(t.Context(), b, &event{})
		var perr *bus.PanicError
		require.ErrorAs(t, err, &perr)
		assert.Same(t, io.ErrUnexpectedEOF, perr.Value)
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "PanicError.Unwrap exposes an error value")
	})

	t.Run("panic(ErrStop) is a failure, not a stop", func(t *testing.T) {
		topic := bus.NewTopic[event]("test.panic.errstop")
		b := newBus(t, []bus.Listener{
			bus.On(topic, func(context.Context, *event) error { panic(bus.ErrStop) }, bus.Name("p")),
			bus.On(topic, record("after")),
		})
		e := &event{}
		err := topic.Publish(t.Context(), b, e)
		var perr *bus.PanicError
		require.ErrorAs(t, err, &perr, "a panic must never be swallowed")
		assert.Empty(t, e.Log)
	})
}

func TestPublishPanicInNestedPublish(t *testing.T) {
	outer := bus.NewTopic[event]("test.panic.outer")
	inner := bus.NewTopic[event]("test.panic.inner")
	var b *bus.Bus
	var afterInner bool
	b = newBus(t, []bus.Listener{
		bus.On(outer, func(ctx context.Context, _ *event) error {
			err := inner.Publish(ctx, b, &event{})
			afterInner = true
			return err
		}, bus.Name("relay")),
		bus.On(inner, panicBoom, bus.Name("inner-panicker")),
	})
	var err error
	require.NotPanics(t, func() { err = outer.Publish(t.Context(), b, &event{}) })
	assert.True(t, afterInner, "the outer handler resumes after the nested panic")

	var outerErr *bus.HandlerError
	require.ErrorAs(t, err, &outerErr)
	assert.Equal(t, "test.panic.outer", outerErr.Topic)
	assert.Equal(t, "relay", outerErr.Listener)
	var innerErr *bus.HandlerError
	require.ErrorAs(t, outerErr.Err, &innerErr)
	assert.Equal(t, "test.panic.inner", innerErr.Topic)
	assert.Equal(t, "inner-panicker", innerErr.Listener)
	var perr *bus.PanicError
	require.ErrorAs(t, err, &perr)
	assert.Equal(t, "boom", perr.Value)
	assert.Contains(t, string(perr.Stack), "bus_test.panicBoom")
}

func TestPublishContext(t *testing.T) {
	t.Run("cancelled before publish", func(t *testing.T) {
		topic := bus.NewTopic[event]("test.ctx.before")
		b := newBus(t, []bus.Listener{bus.On(topic, record("a"))})
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		e := &event{}
		err := topic.Publish(ctx, b, e)
		require.ErrorIs(t, err, context.Canceled)
		assert.Contains(t, err.Error(), `"test.ctx.before"`)
		assert.Empty(t, e.Log)
	})

	t.Run("deadline passed", func(t *testing.T) {
		topic := bus.NewTopic[event]("test.ctx.deadline")
		b := newBus(t, []bus.Listener{bus.On(topic, record("a"))})
		ctx, cancel := context.WithDeadline(t.Context(), time.Unix(0, 0))
		defer cancel()
		e := &event{}
		require.ErrorIs(t, topic.Publish(ctx, b, e), context.DeadlineExceeded)
		assert.Empty(t, e.Log)
	})

	for _, policy := range []bus.ErrorPolicy{bus.StopOnError, bus.RunAll} {
		t.Run("cancelled by a handler/"+policy.String(), func(t *testing.T) {
			topic := bus.NewTopic[event]("test.ctx.between."+policy.String(), policy)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			b := newBus(t, []bus.Listener{
				bus.On(topic, record("a")),
				bus.On(topic, func(_ context.Context, e *event) error {
					e.Log = append(e.Log, "canceller")
					cancel()
					return nil
				}),
				bus.On(topic, record("c"), bus.Name("c")),
			})
			e := &event{}
			err := topic.Publish(ctx, b, e)
			require.ErrorIs(t, err, context.Canceled)
			assert.Contains(t, err.Error(), `"test.ctx.between.`+policy.String()+`"`)
			assert.Contains(t, err.Error(), "listener c", "names the listener that did not run")
			assert.Equal(t, []string{"a", "canceller"}, e.Log)
		})
	}

	t.Run("RunAll joins handler errors and the cancellation", func(t *testing.T) {
		topic := bus.NewTopic[event]("test.ctx.runall.join", bus.RunAll)
		errA := errors.New("a failed")
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		b := newBus(t, []bus.Listener{
			bus.On(topic, func(context.Context, *event) error { cancel(); return errA }),
			bus.On(topic, record("b")),
		})
		e := &event{}
		err := topic.Publish(ctx, b, e)
		assert.ErrorIs(t, err, errA)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Empty(t, e.Log)
	})

	t.Run("handlers see the publisher's values", func(t *testing.T) {
		type key struct{}
		topic := bus.NewTopic[event]("test.ctx.values")
		var got any
		b := newBus(t, []bus.Listener{bus.On(topic, func(ctx context.Context, _ *event) error {
			got = ctx.Value(key{})
			return nil
		})})
		require.NoError(t, topic.Publish(context.WithValue(t.Context(), key{}, "alice"), b, &event{}))
		assert.Equal(t, "alice", got)
	})
}

func TestPublishDepthLimit(t *testing.T) {
	t.Run("self recursion, default limit", func(t *testing.T) {
		topic := bus.NewTopic[event]("test.depth.self")
		var b *bus.Bus
		calls := 0
		b = newBus(t, []bus.Listener{bus.On(topic, func(ctx context.Context, e *event) error {
			calls++
			return topic.Publish(ctx, b, e)
		})})
		err := topic.Publish(t.Context(), b, &event{})
		require.ErrorAs(t, err, new(*bus.DepthError))
		var derr *bus.DepthError
		require.ErrorAs(t, err, &derr)
		assert.Equal(t, defaultMaxDepth, derr.Limit)
		assert.Equal(t, defaultMaxDepth, calls)
		require.Len(t, derr.Chain, defaultMaxDepth+1, "from the outermost publish to the refused one")
		for _, n := range derr.Chain {
			require.Equal(t, "test.depth.self", n)
		}
	})

	t.Run("WithMaxDepth(3)", func(t *testing.T) {
		topic := bus.NewTopic[event]("test.depth.three")
		var b *bus.Bus
		calls := 0
		b = newBus(t, []bus.Listener{bus.On(topic, func(ctx context.Context, e *event) error {
			calls++
			return topic.Publish(ctx, b, e)
		})}, bus.WithMaxDepth(3))
		err := topic.Publish(t.Context(), b, &event{})
		var derr *bus.DepthError
		require.ErrorAs(t, err, &derr)
		assert.Equal(t, 3, calls)
		assert.Equal(t, 3, derr.Limit)
		assert.Equal(t, []string{"test.depth.three", "test.depth.three", "test.depth.three", "test.depth.three"}, derr.Chain)
		assert.Contains(t, err.Error(), "test.depth.three -> test.depth.three")
	})

	t.Run("WithMaxDepth(3) with tracing", func(t *testing.T) {
		// With tracing the depth frames ride on a new span context per
		// publish: a different path from the cached frames without it.
		rec, tp := newRecorder(t)
		topic := bus.NewTopic[event]("test.depth.traced")
		var b *bus.Bus
		b = newBus(t, []bus.Listener{bus.On(topic, func(ctx context.Context, e *event) error {
			return topic.Publish(ctx, b, e)
		}, bus.Name("again"))}, bus.WithMaxDepth(3), bus.WithTracerProvider(tp))
		err := topic.Publish(t.Context(), b, &event{})
		var derr *bus.DepthError
		require.ErrorAs(t, err, &derr)
		assert.Len(t, derr.Chain, 4)
		assert.Len(t, rec.Ended(), 6, "three publish spans and three handler spans; the refused publish opens none")
	})

	t.Run("A -> B -> A", func(t *testing.T) {
		a := bus.NewTopic[event]("test.depth.a")
		bt := bus.NewTopic[struct{ N int }]("test.depth.b")
		var b *bus.Bus
		b = newBus(t, []bus.Listener{
			bus.On(a, func(ctx context.Context, _ *event) error { return bt.Publish(ctx, b, &struct{ N int }{}) }),
			bus.On(bt, func(ctx context.Context, _ *struct{ N int }) error { return a.Publish(ctx, b, &event{}) }),
		}, bus.WithMaxDepth(4))
		err := a.Publish(t.Context(), b, &event{})
		var derr *bus.DepthError
		require.ErrorAs(t, err, &derr)
		assert.Equal(t, []string{"test.depth.a", "test.depth.b", "test.depth.a", "test.depth.b", "test.depth.a"}, derr.Chain)
		assert.Contains(t, err.Error(), "test.depth.a -> test.depth.b -> test.depth.a -> test.depth.b -> test.depth.a")
	})

	t.Run("siblings do not add up", func(t *testing.T) {
		// Depth is nesting, not the number of publishes: a handler that
		// publishes many times in a row stays at depth 2.
		outer := bus.NewTopic[event]("test.depth.siblings.outer")
		inner := bus.NewTopic[event]("test.depth.siblings.inner")
		var b *bus.Bus
		b = newBus(t, []bus.Listener{
			bus.On(outer, func(ctx context.Context, _ *event) error {
				for range 10 {
					if err := inner.Publish(ctx, b, &event{}); err != nil {
						return err
					}
				}
				return nil
			}),
			bus.On(inner, record("inner")),
		}, bus.WithMaxDepth(2))
		require.NoError(t, outer.Publish(t.Context(), b, &event{}))
	})

	t.Run("WithMaxDepth(0) turns the limit off", func(t *testing.T) {
		topic := bus.NewTopic[event]("test.depth.off")
		const depth = defaultMaxDepth + 10
		var b *bus.Bus
		calls := 0
		h := bus.On(topic, func(ctx context.Context, e *event) error {
			calls++
			if calls == depth {
				return nil
			}
			return topic.Publish(ctx, b, e)
		})
		b = newBus(t, []bus.Listener{h}, bus.WithMaxDepth(0))
		require.NoError(t, topic.Publish(t.Context(), b, &event{}))
		assert.Equal(t, depth, calls)

		calls = 0
		b = newBus(t, []bus.Listener{h})
		require.ErrorAs(t, topic.Publish(t.Context(), b, &event{}), new(*bus.DepthError), "the default limit applies")
	})
}

func TestPublishNilArguments(t *testing.T) {
	topic := bus.NewTopic[event]("test.nil.args")
	b := newBus(t, []bus.Listener{bus.On(topic, record("a"))})
	var nilCtx context.Context
	var nilTopic *bus.Topic[event]
	for _, tc := range []struct {
		name string
		call func() error
		want error
	}{
		{"nil payload", func() error { return topic.Publish(t.Context(), b, nil) }, errors.New("nil payload")},
		{"nil bus", func() error { return topic.Publish(t.Context(), nil, &event{}) }, errors.New("nil bus")},
		{"nil context", func() error { return topic.Publish(nilCtx, b, &event{}) }, errors.New("nil context")},
		{"nil topic", func() error { return nilTopic.Publish(t.Context(), b, &event{}) }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { err = tc.call() })
			require.Error(t, err)
			if tc.want != nil {
				assert.ErrorContains(t, err, tc.want.Error())
				assert.Contains(t, err.Error(), `"test.nil.args"`)
			} else {
				assert.True(t, strings.Contains(err.Error(), "nil topic"), err.Error())
			}
		})
	}
}
