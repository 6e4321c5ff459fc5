package bustest

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"testing"

	"go.uber.org/fx"

	"github.com/fxbus/fxbus/bus"
)

// Recorder records the events published on one topic: a shallow copy of
// each payload, as the recorder saw it. Get one from [Record] or [Capture].
// It is safe for use by any number of goroutines.
type Recorder[T any] struct {
	topic *bus.Topic[T]

	mu     sync.Mutex
	events []T
}

// Record subscribes a new [Recorder] to topic t on bus b, and unsubscribes
// it when the test ends. It records at bus.Rank(math.MaxInt), after every
// other listener, under the name "bustest.Recorder"; opts, such as
// [bus.Rank] or [bus.Topic.When], override these. The recorder is a
// [bus.Observer], so it can record a topic that needs exactly one
// listener, and errors and spans name the test line that made it. It fails
// the test at once if it cannot subscribe: b is closed, say.
func Record[T any](tb testing.TB, b *bus.Bus, t *bus.Topic[T], opts ...bus.ListenerOption) *Recorder[T] {
	tb.Helper()
	if t == nil {
		tb.Fatalf("bustest.Record: nil topic")
		return nil
	}
	r := &Recorder[T]{topic: t}
	sub, err := t.Subscribe(b, r.record, append(callerOptions(1), listenerOptions(opts)...)...)
	if err != nil {
		tb.Fatalf("bustest.Record(%q): %v", t.Name(), err)
		return nil
	}
	tb.Cleanup(func() { _ = sub.Close() })
	return r
}

// Capture returns an fx option that adds a new [Recorder] for topic t to
// the app's bus (see [bus.Module]), and sets *dst to it at once. Its
// listener options are those of [Record]. The recorder lives as long as the
// bus; use a new Capture for each app.
func Capture[T any](dst **Recorder[T], t *bus.Topic[T], opts ...bus.ListenerOption) fx.Option {
	if dst == nil {
		return fx.Error(fmt.Errorf("bustest.Capture: nil destination"))
	}
	if t == nil {
		return fx.Error(fmt.Errorf("bustest.Capture: nil topic"))
	}
	r := &Recorder[T]{topic: t}
	*dst = r
	return bus.Listen(t, r.record, append(callerOptions(1), listenerOptions(opts)...)...)
}

// listenerOptions puts the recorder's defaults before the user's options,
// so that the user's win.
func listenerOptions(opts []bus.ListenerOption) []bus.ListenerOption {
	return append([]bus.ListenerOption{bus.Rank(math.MaxInt), bus.Name("bustest.Recorder"), bus.Observer()}, opts...)
}

func (r *Recorder[T]) record(_ context.Context, e *T) error {
	r.mu.Lock()
	r.events = append(r.events, *e)
	r.mu.Unlock()
	return nil
}

// Topic returns the topic the recorder records.
func (r *Recorder[T]) Topic() *bus.Topic[T] { return r.topic }

// Events returns the events recorded so far, oldest first, in a new slice.
func (r *Recorder[T]) Events() []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// Len returns how many events have been recorded.
func (r *Recorder[T]) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// Last returns the last event recorded, and whether there is one.
func (r *Recorder[T]) Last() (T, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) == 0 {
		var zero T
		return zero, false
	}
	return r.events[len(r.events)-1], true
}

// Reset forgets the events recorded so far; the recorder goes on recording.
func (r *Recorder[T]) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = nil
}

// callerOptions attributes a recorder to the test that made it: the caller
// of the function skip frames above callerOptions' caller.
func callerOptions(skip int) []bus.ListenerOption {
	if _, file, line, ok := runtime.Caller(skip + 1); ok {
		return []bus.ListenerOption{bus.DeclaredAt(file, line)}
	}
	return nil
}
