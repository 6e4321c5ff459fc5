package bus_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/fxbus/fxbus/bus"
)

// BenchmarkPublishSubscribed is BenchmarkPublish's fxbus row with runtime
// subscriptions instead of listeners given to New.
func BenchmarkPublishSubscribed(b *testing.B) {
	for _, n := range []int{1, 10} {
		topic := bus.NewTopic[benchEvent](fmt.Sprintf("bench.subscribed.%d", n))
		bb, err := bus.New(nil)
		if err != nil {
			b.Fatal(err)
		}
		for range n {
			if _, err := topic.Subscribe(bb, benchHandler); err != nil {
				b.Fatal(err)
			}
		}
		ctx := context.Background()
		e := &benchEvent{}
		b.Run(fmt.Sprintf("handlers=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := topic.Publish(ctx, bb, e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
