package busdebug

import (
	"context"
	"testing"

	"github.com/fxbus/fxbus/bus"
)

// BenchmarkPublishNoViewer: a publish on a bus without a debug handler,
// on one with a debug handler nobody watches, and on one whose last
// viewer has left. The three must not differ beyond noise, with 0
// allocations: the tap is installed only while someone watches.
func BenchmarkPublishNoViewer(b *testing.B) {
	topic := bus.NewTopic[Order]("bench.order")
	newBus := func(b *testing.B) *bus.Bus {
		var ls []bus.Listener
		for range 3 {
			ls = append(ls, bus.On(topic, func(context.Context, *Order) error { return nil }))
		}
		bb, err := bus.New(ls)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = bb.Close() })
		return bb
	}
	run := func(b *testing.B, bb *bus.Bus) {
		ctx, o := context.Background(), &Order{}
		b.ReportAllocs()
		for b.Loop() {
			_ = topic.Publish(ctx, bb, o)
		}
	}
	b.Run("bus", func(b *testing.B) { run(b, newBus(b)) })
	b.Run("handler", func(b *testing.B) {
		bb := newBus(b)
		h := New(bb)
		defer h.Close()
		run(b, bb)
	})
	b.Run("viewer-left", func(b *testing.B) {
		bb := newBus(b)
		h := New(bb)
		defer h.Close()
		v, _, _ := h.mon.join(0)
		h.mon.leave(v)
		run(b, bb)
	})
}
