package bus_test

import (
	"context"
	"fmt"
	"testing"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/stretchr/testify/assert"

	"github.com/fxbus/fxbus/bus"
)

type tick struct{ N int }

func count(_ context.Context, e *tick) error {
	e.N++
	return nil
}

func stop(context.Context, *tick) error { return bus.ErrStop }

// TestAlloc asserts that a publish allocates nothing with telemetry off,
// whatever the number of handlers (log/slog's TestAlloc is the model).
func TestAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	providers := []struct {
		name string
		opts []bus.Option
	}{
		{"no provider", nil},
		{"noop providers", []bus.Option{
			bus.WithTracerProvider(tracenoop.NewTracerProvider()),
			bus.WithMeterProvider(metricnoop.NewMeterProvider()),
		}},
	}
	contexts := []struct {
		name string
		ctx  func(t *testing.T) context.Context
	}{
		{"background", func(*testing.T) context.Context { return context.Background() }},
		{"cancellable", func(t *testing.T) context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(cancel)
			return ctx
		}},
	}
	for _, p := range providers {
		for _, c := range contexts {
			for _, n := range []int{1, 10} {
				t.Run(fmt.Sprintf("%s/%s/%d handlers", p.name, c.name, n), func(t *testing.T) {
					topic := bus.NewTopic[tick]("alloc.flat")
					ls := make([]bus.Listener, n)
					for i := range ls {
						ls[i] = bus.On(topic, count, bus.Rank(n-i))
					}
					b := newBus(t, ls, p.opts...)
					assertNoAllocs(t, c.ctx(t), topic, b, n)
				})
			}

			t.Run(fmt.Sprintf("%s/%s/nested", p.name, c.name), func(t *testing.T) {
				outer := bus.NewTopic[tick]("alloc.outer")
				inner := bus.NewTopic[tick]("alloc.inner")
				var b *bus.Bus
				b = newBus(t, []bus.Listener{
					bus.On(outer, count),
					bus.On(outer, func(ctx context.Context, e *tick) error { return inner.Publish(ctx, b, e) }),
					bus.On(inner, count),
					bus.On(inner, count),
				}, p.opts...)
				// A nested publish allocates its depth frame, which is marked when
				// the publish returns, so that a context handed to a goroutine
				// does not count toward the limit after its handler returned.
				assertAllocs(t, c.ctx(t), outer, b, 3, 1)
			})

			t.Run(fmt.Sprintf("%s/%s/stop and filter", p.name, c.name), func(t *testing.T) {
				topic := bus.NewTopic[tick]("alloc.stop")
				b := newBus(t, []bus.Listener{
					bus.On(topic, count, topic.When(func(e *tick) bool { return e.N >= 0 })),
					bus.On(topic, count, topic.When(func(e *tick) bool { return e.N < 0 })),
					bus.On(topic, stop),
					bus.On(topic, count),
				}, p.opts...)
				assertNoAllocs(t, c.ctx(t), topic, b, 1)
			})
		}
	}

	t.Run("no depth limit", func(t *testing.T) {
		topic := bus.NewTopic[tick]("alloc.nodepth")
		b := newBus(t, []bus.Listener{bus.On(topic, count), bus.On(topic, count)}, bus.WithMaxDepth(0))
		assertNoAllocs(t, context.Background(), topic, b, 2)
	})

	t.Run("no listeners", func(t *testing.T) {
		topic := bus.NewTopic[tick]("alloc.none")
		b := newBus(t, nil)
		assertNoAllocs(t, context.Background(), topic, b, 0)
	})
}

// TestAllocNoticesATracer is the control of TestAlloc: a no-op provider the
// bus cannot recognise (wrapped) is called, and that call allocates. It
// shows both that TestAlloc can fail and that the bare no-op provider is
// skipped, not merely cheap.
func TestAllocNoticesATracer(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	topic := bus.NewTopic[tick]("alloc.control")
	wrapped := &countingTracerProvider{TracerProvider: tracenoop.NewTracerProvider()}
	b := newBus(t, []bus.Listener{bus.On(topic, count)}, bus.WithTracerProvider(wrapped))
	e := &tick{}
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		if err := topic.Publish(ctx, b, e); err != nil {
			t.Fatal(err)
		}
	})
	if allocs == 0 {
		t.Errorf("a publish through a tracer allocated nothing; the control is broken")
	}
	if wrapped.starts.Load() == 0 {
		t.Errorf("the wrapped provider was never called")
	}
}

func assertNoAllocs(t *testing.T, ctx context.Context, topic *bus.Topic[tick], b *bus.Bus, perPublish int) {
	t.Helper()
	assertAllocs(t, ctx, topic, b, perPublish, 0)
}

func assertAllocs(t *testing.T, ctx context.Context, topic *bus.Topic[tick], b *bus.Bus, perPublish int, want float64) {
	t.Helper()
	e := &tick{}
	const runs = 100
	allocs := testing.AllocsPerRun(runs, func() {
		if err := topic.Publish(ctx, b, e); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != want {
		t.Errorf("a publish allocated %v times, want %v", allocs, want)
	}
	// AllocsPerRun runs the function once more to warm up.
	if want := (runs + 1) * perPublish; e.N != want {
		t.Errorf("handlers ran %d times, want %d", e.N, want)
	}
}

type allocKey struct{}

// TestAllocFreshContext is the request-shaped publish: every publish with
// a context of its own. The caller's context.WithValue allocates once; the
// depth limit allocates one frame more, to mark the new context; with the
// limit off, the bus allocates nothing of its own.
func TestAllocFreshContext(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, tc := range []struct {
		name string
		opts []bus.Option
		want float64 // beyond the caller's one
	}{
		{"depth limit (default)", nil, 1},
		{"depth limit off", []bus.Option{bus.WithMaxDepth(0)}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			topic := bus.NewTopic[tick]("alloc.fresh")
			const n = 10
			ls := make([]bus.Listener, n)
			for i := range ls {
				ls[i] = bus.On(topic, count)
			}
			b := newBus(t, ls, tc.opts...)
			e := &tick{}
			allocs := testing.AllocsPerRun(100, func() {
				ctx := context.WithValue(context.Background(), allocKey{}, e)
				if err := topic.Publish(ctx, b, e); err != nil {
					t.Fatal(err)
				}
			})
			assert.Equal(t, 1+tc.want, allocs, "the caller's WithValue, and %v of the bus's", tc.want)
			assert.Equal(t, 101*n, e.N)
		})
	}
}
