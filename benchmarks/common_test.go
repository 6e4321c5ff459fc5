package benchmarks

import (
	"context"
	"fmt"
	"testing"

	"github.com/fxbus/fxbus/bus"
)

// sizes are the numbers of handlers each publish benchmark runs with.
var sizes = []int{1, 10, 100}

// payload is the small struct every synchronous benchmark publishes.
type payload struct {
	ID    int64
	Name  string
	Count int // every handler adds one
}

// handle is the trivial work each synchronous handler does, in the
// signature fxbus and the plain loop take.
func handle(_ context.Context, p *payload) error {
	p.Count++
	return nil
}

// syncTopic is the fxbus topic of the synchronous benchmarks. It is declared
// once: topics get dense ids for the life of the process.
var syncTopic = bus.NewTopic[payload]("bench.sync")

// newFxbus builds a bus with n listeners of handle on syncTopic.
func newFxbus(tb testing.TB, n int, opts ...bus.Option) *bus.Bus {
	tb.Helper()
	ls := make([]bus.Listener, n)
	for i := range ls {
		ls[i] = bus.On(syncTopic, handle)
	}
	b, err := bus.New(ls, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = b.Close() })
	return b
}

// checkOnce publishes once with publish and fails tb unless exactly n
// handlers ran. Every benchmark calls it before its timer starts.
func checkOnce(tb testing.TB, n int, publish func(*payload) error) {
	tb.Helper()
	p := &payload{ID: 1, Name: "check"}
	if err := publish(p); err != nil {
		tb.Fatalf("sanity publish: %v", err)
	}
	if p.Count != n {
		tb.Fatalf("sanity publish: %d of %d handlers ran", p.Count, n)
	}
}

// checkTotal fails tb unless the timed loop delivered every one of its
// iterations to every handler.
func checkTotal(tb testing.TB, p *payload, iterations, n int) {
	tb.Helper()
	if want := iterations * n; p.Count != want {
		tb.Fatalf("delivered %d times, want %d (%d iterations x %d handlers)", p.Count, want, iterations, n)
	}
}

func sizeName(key string, n int) string { return fmt.Sprintf("%s=%d", key, n) }
