package benchmarks

import (
	"context"
	"testing"

	"github.com/fxbus/fxbus/bus"
)

// startupSizes are the numbers of listeners the startup benchmarks build with.
var startupSizes = []int{100, 1000}

// BenchmarkBusNew measures bus.New alone: validating, sorting and freezing
// N listeners of one topic (made once, outside the timer; a listener may be
// shared by several buses), without fx and without telemetry.
func BenchmarkBusNew(b *testing.B) {
	for _, n := range startupSizes {
		b.Run(sizeName("listeners", n), func(b *testing.B) {
			b.ReportAllocs()
			ls := make([]bus.Listener, n)
			for i := range ls {
				ls[i] = bus.On(syncTopic, handle, bus.Rank(i%7)) // ranks to sort
			}
			bs, err := bus.New(ls)
			if err != nil {
				b.Fatal(err)
			}
			checkOnce(b, n, func(p *payload) error { return syncTopic.Publish(context.Background(), bs, p) })

			b.ResetTimer()
			for range b.N {
				bs, err := bus.New(ls)
				if err != nil {
					b.Fatal(err)
				}
				_ = bs.Close()
			}
		})
	}
}
