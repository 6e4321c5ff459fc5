package bus_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/bus"
)

// subscribeCloseBytes is what 100 subscribe+close pairs on topic allocate.
func subscribeCloseBytes(t *testing.T, topic *bus.Topic[event]) uint64 {
	t.Helper()
	b := newBus(t, nil)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 100 {
		s, err := topic.Subscribe(b, record("x"))
		require.NoError(t, err)
		require.NoError(t, s.Close())
	}
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestSubscribeCostIgnoresOtherTopics: a bus indexes the topics it knows
// itself, so what a subscription costs does not depend on how many topics
// the process declared before (a process-wide id sized every bus's table).
func TestSubscribeCostIgnoresOtherTopics(t *testing.T) {
	first := bus.NewTopic[event]("index.first")
	base := subscribeCloseBytes(t, first)
	others := make([]*bus.Topic[event], 100_000)
	for i := range others {
		others[i] = bus.NewTopic[event]("index.other")
	}
	last := bus.NewTopic[event]("index.last")
	got := subscribeCloseBytes(t, last)
	// 100,000 topics in a process-wide table would be 1.6 MB per copy.
	assert.Less(t, got, 2*base+64<<10,
		"100 subscribe+close after 100,000 other topics allocated %d bytes; before them, %d", got, base)
	runtime.KeepAlive(others)
}

// TestTopicsDeclaredAtRunTime: topics made inside a function, used on
// several buses at once, each bus with its own handlers.
func TestTopicsDeclaredAtRunTime(t *testing.T) {
	for i := range 3 {
		topic := bus.NewTopic[event](fmt.Sprintf("index.runtime.%d", i))
		b1 := newBus(t, []bus.Listener{bus.On(topic, record("b1"))})
		b2 := newBus(t, nil)
		subscribe(t, topic, b2, record("b2"))
		b3 := newBus(t, []bus.Listener{bus.On(topic, record("b3"))})
		for range 2 { // in turns, so no bus is always the last to learn the topic
			assert.Equal(t, []string{"b1"}, publishLog(t, topic, b1))
			assert.Equal(t, []string{"b2"}, publishLog(t, topic, b2))
			assert.Equal(t, []string{"b3"}, publishLog(t, topic, b3))
		}
		assert.Empty(t, publishLog(t, topic, newBus(t, nil)), "a bus that does not know the topic")
	}
}

// TestManySubscriptionsKeepOrder subscribes and closes thousands of
// handlers in random ranks and order, and checks after each step that a
// publish runs exactly the live ones by rank, then declaration.
func TestManySubscriptionsKeepOrder(t *testing.T) {
	topic := bus.NewTopic[event]("index.many")
	type live struct {
		rank, seq int
		name      string
		sub       *bus.Subscription
	}
	b := newBus(t, []bus.Listener{
		bus.On(topic, record("static-5"), bus.Rank(-5)),
		bus.On(topic, record("static+5"), bus.Rank(5)),
	})
	var subs []live
	want := func() []string {
		all := append(slices.Clone(subs), live{rank: -5, seq: -2, name: "static-5"}, live{rank: 5, seq: -1, name: "static+5"})
		slices.SortFunc(all, func(a, b live) int {
			if a.rank != b.rank {
				return a.rank - b.rank
			}
			return a.seq - b.seq
		})
		names := make([]string, len(all))
		for i, l := range all {
			names[i] = l.name
		}
		return names
	}
	r := rand.New(rand.NewPCG(1, 2))
	seq := 0
	for step := range 3000 {
		if len(subs) > 0 && r.IntN(3) == 0 {
			i := r.IntN(len(subs))
			require.NoError(t, subs[i].sub.Close())
			subs = slices.Delete(subs, i, i+1)
		} else {
			seq++
			l := live{rank: r.IntN(7) - 3, seq: seq, name: fmt.Sprint("s", seq)}
			l.sub = subscribe(t, topic, b, record(l.name), bus.Rank(l.rank))
			subs = append(subs, l)
		}
		if step%97 == 0 || step > 2990 {
			require.Equal(t, want(), publishLog(t, topic, b), "step %d", step)
		}
	}
}

type seqEvent struct{ got []int }

// TestHundredThousandSubscriptions subscribes 100,000 handlers in three
// ranks around two static listeners, then closes them in random order,
// checking that each publish runs exactly the live handlers by rank, then
// subscription order: the chat server with a subscription per connection.
func TestHundredThousandSubscriptions(t *testing.T) {
	n := 100_000
	if raceEnabled || testing.Short() {
		n = 20_000
	}
	topic := bus.NewTopic[seqEvent]("index.hundred-thousand")
	static := func(id int) func(context.Context, *seqEvent) error {
		return func(_ context.Context, e *seqEvent) error { e.got = append(e.got, id); return nil }
	}
	b := newBus(t, []bus.Listener{
		bus.On(topic, static(-1), bus.Rank(-1)),
		bus.On(topic, static(-2), bus.Rank(1)),
	})
	rank := func(i int) int { return i%3 - 1 }
	subs := make([]*bus.Subscription, n)
	for i := range subs {
		s, err := topic.Subscribe(b, static(i), bus.Rank(rank(i)))
		require.NoError(t, err)
		subs[i] = s
	}
	live := make([]bool, n)
	for i := range live {
		live[i] = true
	}
	check := func(what string) {
		t.Helper()
		want := []int{-1}
		for r := -1; r <= 1; r++ {
			if r == 1 {
				want = append(want, -2)
			}
			for i := range n {
				if live[i] && rank(i) == r {
					want = append(want, i)
				}
			}
		}
		e := &seqEvent{}
		require.NoError(t, topic.Publish(context.Background(), b, e))
		require.Equal(t, want, e.got, what)
	}
	check("all subscribed")
	order := rand.New(rand.NewPCG(3, 4)).Perm(n)
	for k, i := range order {
		require.NoError(t, subs[i].Close())
		live[i] = false
		if k == n/2 || k == n-n/100 {
			check(fmt.Sprintf("after closing %d", k+1))
		}
	}
	check("all closed")
}

// BenchmarkSubscribeMany subscribes n handlers to one topic of a running
// bus, publishes once, and closes them all in random order, per op: the
// cost of a chat server's connections. Read ns/subscription against n: it
// must stay about flat.
func BenchmarkSubscribeMany(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 20_000, 40_000, 100_000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			topic := bus.NewTopic[event]("bench.subscribe.many")
			bb, err := bus.New(nil)
			require.NoError(b, err)
			h := func(context.Context, *event) error { return nil }
			subs := make([]*bus.Subscription, n)
			order := rand.New(rand.NewPCG(1, 2)).Perm(n)
			b.ReportAllocs()
			for b.Loop() {
				for i := range subs {
					if subs[i], err = topic.Subscribe(bb, h); err != nil {
						b.Fatal(err)
					}
				}
				if err := topic.Publish(context.Background(), bb, &event{}); err != nil {
					b.Fatal(err)
				}
				for _, i := range order {
					_ = subs[i].Close()
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/subscription")
		})
	}
}
