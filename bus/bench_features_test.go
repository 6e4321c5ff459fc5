package bus_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/fxbus/fxbus/bus"
)

type nopTap struct{}

func (nopTap) PublishStarted(bus.PublishEvent) {}
func (nopTap) PublishDone(bus.PublishEvent)    {}
func (nopTap) HandlerDone(bus.HandlerCall)     {}

// BenchmarkFeatures is what the features of issue 13 cost when in use, on
// a publish to 10 handlers: read each row against "none".
func BenchmarkFeatures(b *testing.B) {
	const n = 10
	pass := func(next bus.Handler) bus.Handler { return next }
	wrap := func(next bus.Handler) bus.Handler {
		return func(ctx context.Context, env bus.Envelope) error { return next(ctx, env) }
	}
	for _, tc := range []struct {
		name  string
		opts  []bus.Option
		extra []bus.Listener
		lopts []bus.ListenerOption
		setup func(b *testing.B, bb *bus.Bus)
	}{
		{name: "none"},
		{name: "middleware-passthrough", opts: []bus.Option{bus.WithMiddleware(pass)}},
		{name: "middleware-wrapping", opts: []bus.Option{bus.WithMiddleware(wrap)}},
		{name: "listener-wrap", lopts: []bus.ListenerOption{bus.Wrap(wrap)}},
		{name: "bus-wide-listener", extra: []bus.Listener{bus.OnAll(func(context.Context, bus.Envelope) error { return nil })}},
		{name: "tap", setup: func(b *testing.B, bb *bus.Bus) {
			remove, err := bb.Tap(nopTap{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(remove)
		}},
	} {
		topic := bus.NewTopic[benchEvent](fmt.Sprintf("bench.features.%s", tc.name))
		ls := append([]bus.Listener(nil), tc.extra...)
		for range n - len(tc.extra) {
			ls = append(ls, bus.On(topic, benchHandler, tc.lopts...))
		}
		bb, err := bus.New(ls, tc.opts...)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			if tc.setup != nil {
				tc.setup(b, bb)
			}
			ctx := context.Background()
			e := &benchEvent{}
			b.ReportAllocs()
			for b.Loop() {
				if err := topic.Publish(ctx, bb, e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
