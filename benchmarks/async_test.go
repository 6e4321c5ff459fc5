package benchmarks

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/kelindar/event"
)

// BenchmarkAsync measures asynchronous libraries end to end: publish b.N
// events, then wait until every handler has seen every one of them. Handlers
// run on other goroutines, so these rows are NOT comparable with
// BenchmarkSync: they include goroutine hand-off and wake-up, and the
// publisher does not wait for (or learn about) the handlers' work.
func BenchmarkAsync(b *testing.B) {
	libs := []struct {
		name string
		run  func(b *testing.B, n int)
	}{
		{"kelindar", benchKelindar},
		{"watermill", benchWatermill},
	}
	for _, lib := range libs {
		for _, n := range sizes {
			b.Run("lib="+lib.name+"/"+sizeName("handlers", n), func(b *testing.B) {
				b.ReportAllocs()
				lib.run(b, n)
			})
		}
	}
}

// asyncPayload counts deliveries across handler goroutines and signals when
// the expected number is reached.
type asyncPayload struct {
	Count atomic.Int64
	want  int64
	done  chan struct{}
}

func newAsyncPayload(want int64) *asyncPayload {
	return &asyncPayload{want: want, done: make(chan struct{})}
}

// add is the handlers' trivial work: add one to the counter.
func (p *asyncPayload) add() {
	if p.Count.Add(1) == p.want {
		close(p.done)
	}
}

// asyncTimeout bounds the wait for deliveries, so that a library that drops
// events fails the benchmark instead of hanging it.
const asyncTimeout = 2 * time.Minute

func (p *asyncPayload) wait(tb testing.TB) {
	tb.Helper()
	select {
	case <-p.done:
	case <-time.After(asyncTimeout):
		tb.Fatalf("delivered %d of %d after %v", p.Count.Load(), p.want, asyncTimeout)
	}
}

// kelindarEvent is an event of kelindar/event: a type id plus the payload.
type kelindarEvent struct{ p *asyncPayload }

func (kelindarEvent) Type() uint32 { return 1 }

// benchKelindar uses kelindar/event: each subscriber has its own goroutine
// and queue, woken by a ticker (every 500µs by default); Publish appends to
// the queues. Its own back-pressure bounds the queues.
func benchKelindar(b *testing.B, n int) {
	d := event.NewDispatcher()
	cancels := make([]context.CancelFunc, n)
	for i := range cancels {
		cancels[i] = event.Subscribe(d, func(ev kelindarEvent) { ev.p.add() })
	}
	b.Cleanup(func() {
		for _, c := range cancels {
			c()
		}
		time.Sleep(2 * time.Millisecond) // let the ticker wake the consumers so they see the stop
		_ = d.Close()
	})

	check := newAsyncPayload(int64(n))
	event.Publish(d, kelindarEvent{check})
	check.wait(b)

	p := newAsyncPayload(int64(b.N) * int64(n))
	ev := kelindarEvent{p}
	b.ResetTimer()
	for range b.N {
		event.Publish(d, ev)
	}
	p.wait(b)
}

// benchWatermill uses watermill's gochannel Pub/Sub with n subscriptions to
// one topic, each read by a goroutine that acks every message. Publish blocks
// until every subscriber has acked (BlockPublishUntilSubscriberAck):
// without it, gochannel starts goroutines per message and subscriber
// without bound, and b.N messages to 100 subscribers exhaust memory. The
// payload is bytes, as watermill carries them; the handlers count through a
// pointer shared out of band, the current asyncPayload.
func benchWatermill(b *testing.B, n int) {
	ps := gochannel.NewGoChannel(gochannel.Config{BlockPublishUntilSubscriberAck: true}, watermill.NopLogger{})
	b.Cleanup(func() { _ = ps.Close() })
	const topic = "bench.async"
	var cur atomic.Pointer[asyncPayload]
	for range n {
		msgs, err := ps.Subscribe(context.Background(), topic)
		if err != nil {
			b.Fatal(err)
		}
		go func() {
			for m := range msgs {
				cur.Load().add()
				m.Ack()
			}
		}()
	}
	body := []byte(`{"id":1,"name":"bench"}`)

	check := newAsyncPayload(int64(n))
	cur.Store(check)
	if err := ps.Publish(topic, message.NewMessage("check", body)); err != nil {
		b.Fatal(err)
	}
	check.wait(b)

	p := newAsyncPayload(int64(b.N) * int64(n))
	cur.Store(p)
	b.ResetTimer()
	for range b.N {
		// A message is single-use (its ack state), so each publish gets one.
		if err := ps.Publish(topic, message.NewMessage("bench", body)); err != nil {
			b.Fatal(err)
		}
	}
	p.wait(b)
}
