package bus_test

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/fxbus/fxbus/bus"
)

// seedsTracing returns a span recorder and the option that makes a bus
// trace into it.
func seedsTracing(t *testing.T) (*tracetest.SpanRecorder, bus.Option) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return rec, bus.WithTracerProvider(tp)
}

// seedsSpanNames returns the names of the ended spans, in start order.
func seedsSpanNames(rec *tracetest.SpanRecorder) []string {
	spans := slices.Clone(rec.Ended())
	slices.SortStableFunc(spans, func(a, b sdktrace.ReadOnlySpan) int { return a.StartTime().Compare(b.StartTime()) })
	names := make([]string, len(spans))
	for i, s := range spans {
		names[i] = s.Name()
	}
	return names
}

// seedsSpan returns the one ended span named name.
func seedsSpan(t *testing.T, rec *tracetest.SpanRecorder, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	var found []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == name {
			found = append(found, s)
		}
	}
	require.Len(t, found, 1, "spans named %q among %v", name, seedsSpanNames(rec))
	return found[0]
}

// seedsAttr returns the value of attribute key on span s.
func seedsAttr(s sdktrace.ReadOnlySpan, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range s.Attributes() {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

// seedsNew builds a bus or fails the test, and closes it at cleanup.
func seedsNew(t *testing.T, ls []bus.Listener, opts ...bus.Option) *bus.Bus {
	t.Helper()
	b, err := bus.New(ls, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// seedsLog collects what handlers did, in order. Not safe for concurrent use.
type seedsLog []string

func (l *seedsLog) add(s string) { *l = append(*l, s) }

// seedsRecord returns a handler that logs name.
func seedsRecord[T any](log *seedsLog, name string) func(context.Context, *T) error {
	return func(context.Context, *T) error { log.add(name); return nil }
}
