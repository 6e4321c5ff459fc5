package spantest

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

// NewBus builds a bus or fails the test, and closes it at cleanup.
func NewBus(t *testing.T, ls []bus.Listener, opts ...bus.Option) *bus.Bus {
	t.Helper()
	b, err := bus.New(ls, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// Tracing returns a span recorder and the option that makes a bus trace
// into it.
func Tracing(t *testing.T) (*tracetest.SpanRecorder, bus.Option) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return rec, bus.WithTracerProvider(tp)
}

// SpanNames returns the names of the ended spans, in start order.
func SpanNames(rec *tracetest.SpanRecorder) []string {
	spans := slices.Clone(rec.Ended())
	slices.SortStableFunc(spans, func(a, b sdktrace.ReadOnlySpan) int { return a.StartTime().Compare(b.StartTime()) })
	names := make([]string, len(spans))
	for i, s := range spans {
		names[i] = s.Name()
	}
	return names
}

// Span returns the one ended span named name, or fails the test.
func Span(t *testing.T, rec *tracetest.SpanRecorder, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	var found []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == name {
			found = append(found, s)
		}
	}
	require.Len(t, found, 1, "spans named %q among %v", name, SpanNames(rec))
	return found[0]
}

// Attr returns the value of attribute key on span s, or "".
func Attr(s sdktrace.ReadOnlySpan, key attribute.Key) string {
	for _, kv := range s.Attributes() {
		if kv.Key == key {
			return kv.Value.String()
		}
	}
	return ""
}

// Trail collects what handlers did, in order. Not safe for concurrent use.
type Trail []string

// Add appends s to the trail.
func (l *Trail) Add(s string) { *l = append(*l, s) }

// Note returns a handler that adds name to log.
func Note[T any](log *Trail, name string) func(context.Context, *T) error {
	return func(context.Context, *T) error { log.Add(name); return nil }
}
