package bus_test

import (
	"context"
	"fmt"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/fxbus/fxbus/bus"
)

type benchEvent struct{ N int }

func benchHandler(_ context.Context, e *benchEvent) error {
	e.N++
	return nil
}

// BenchmarkPublish compares a publish with a plain loop over the same
// handlers, the floor no bus can beat; read the ratio, not the ns.
func BenchmarkPublish(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		topic := bus.NewTopic[benchEvent](fmt.Sprintf("bench.%d", n))
		hs := make([]func(context.Context, *benchEvent) error, n)
		ls := make([]bus.Listener, n)
		for i := range hs {
			hs[i] = benchHandler
			ls[i] = bus.On(topic, benchHandler)
		}
		ctx := context.Background()
		e := &benchEvent{}
		b.Run(fmt.Sprintf("handlers=%d/loop", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, h := range hs {
					if err := h(ctx, e); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
		b.Run(fmt.Sprintf("handlers=%d/fxbus", n), func(b *testing.B) {
			bb, err := bus.New(ls)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := topic.Publish(ctx, bb, e); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("handlers=%d/fxbus-cancellable", n), func(b *testing.B) {
			// A long-lived context that holds pointers, such as a worker's:
			// its depth frame is cached only weakly.
			bb, err := bus.New(ls)
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			b.ReportAllocs()
			for b.Loop() {
				if err := topic.Publish(ctx, bb, e); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("handlers=%d/fxbus-traced", n), func(b *testing.B) {
			tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
			bb, err := bus.New(ls, bus.WithTracerProvider(tp))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := topic.Publish(ctx, bb, e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type requestKey struct{}

// BenchmarkPublishFreshContext is the request-shaped publish: every publish
// comes with a context of its own, as each HTTP request's, alone and from
// every CPU at once. The loop rows make the same context and run the same
// handlers in a plain loop: the floor. The unguarded rows publish on a bus
// whose depth limit is off (WithMaxDepth(0)), which spares the frame that
// marks each new context.
func BenchmarkPublishFreshContext(b *testing.B) {
	for _, n := range []int{1, 10} {
		topic := bus.NewTopic[benchEvent](fmt.Sprintf("bench.fresh.%d", n))
		hs := make([]func(context.Context, *benchEvent) error, n)
		ls := make([]bus.Listener, n)
		for i := range hs {
			hs[i] = benchHandler
			ls[i] = bus.On(topic, benchHandler)
		}
		bb, err := bus.New(ls)
		if err != nil {
			b.Fatal(err)
		}
		// A topic of its own: a topic remembers the one bus it was last
		// published on, and one shared by two buses would measure the
		// lookup that this spares.
		utopic := bus.NewTopic[benchEvent](fmt.Sprintf("bench.fresh.unguarded.%d", n))
		uls := make([]bus.Listener, n)
		for i := range uls {
			uls[i] = bus.On(utopic, benchHandler)
		}
		unguarded, err := bus.New(uls, bus.WithMaxDepth(0))
		if err != nil {
			b.Fatal(err)
		}
		loop := func(e *benchEvent) {
			ctx := context.WithValue(context.Background(), requestKey{}, e)
			for _, h := range hs {
				if err := h(ctx, e); err != nil {
					b.Fatal(err)
				}
			}
		}
		publish := func(e *benchEvent) {
			ctx := context.WithValue(context.Background(), requestKey{}, e)
			if err := topic.Publish(ctx, bb, e); err != nil {
				b.Fatal(err)
			}
		}
		publishUnguarded := func(e *benchEvent) {
			ctx := context.WithValue(context.Background(), requestKey{}, e)
			if err := utopic.Publish(ctx, unguarded, e); err != nil {
				b.Fatal(err)
			}
		}
		for _, v := range []struct {
			name string
			f    func(*benchEvent)
		}{{"loop", loop}, {"fxbus", publish}, {"fxbus-unguarded", publishUnguarded}} {
			b.Run(fmt.Sprintf("handlers=%d/%s", n, v.name), func(b *testing.B) {
				b.ReportAllocs()
				e := &benchEvent{}
				for b.Loop() {
					v.f(e)
				}
			})
			b.Run(fmt.Sprintf("handlers=%d/%s-parallel", n, v.name), func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					e := &benchEvent{}
					for pb.Next() {
						v.f(e)
					}
				})
			})
		}
	}
}

// BenchmarkPublishParallel is BenchmarkPublish from every CPU at once,
// with one long-lived context.
func BenchmarkPublishParallel(b *testing.B) {
	for _, n := range []int{1, 10} {
		topic := bus.NewTopic[benchEvent](fmt.Sprintf("bench.parallel.%d", n))
		ls := make([]bus.Listener, n)
		for i := range ls {
			ls[i] = bus.On(topic, benchHandler)
		}
		bb, err := bus.New(ls)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("handlers=%d/fxbus", n), func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				e := &benchEvent{}
				ctx := context.Background()
				for pb.Next() {
					if err := topic.Publish(ctx, bb, e); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
