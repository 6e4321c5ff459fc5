package plugin_test

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

// newBus builds a bus or fails the test, and closes it at cleanup.
func newBus(t *testing.T, ls []bus.Listener, opts ...bus.Option) *bus.Bus {
	t.Helper()
	b, err := bus.New(ls, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// tracing returns a span recorder and the option that makes a bus trace
// into it.
func tracing(t *testing.T) (*tracetest.SpanRecorder, bus.Option) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return rec, bus.WithTracerProvider(tp)
}

// spanNames returns the names of the ended spans, in start order.
func spanNames(rec *tracetest.SpanRecorder) []string {
	spans := slices.Clone(rec.Ended())
	slices.SortStableFunc(spans, func(a, b sdktrace.ReadOnlySpan) int { return a.StartTime().Compare(b.StartTime()) })
	names := make([]string, len(spans))
	for i, s := range spans {
		names[i] = s.Name()
	}
	return names
}

// span returns the one ended span named name.
func span(t *testing.T, rec *tracetest.SpanRecorder, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	var found []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == name {
			found = append(found, s)
		}
	}
	require.Len(t, found, 1, "spans named %q among %v", name, spanNames(rec))
	return found[0]
}

// attr returns the value of attribute key on span s.
func attr(s sdktrace.ReadOnlySpan, key attribute.Key) string {
	for _, kv := range s.Attributes() {
		if kv.Key == key {
			return kv.Value.String()
		}
	}
	return ""
}

// trail collects what handlers did, in order. Not safe for concurrent use.
type trail []string

func (l *trail) add(s string) { *l = append(*l, s) }

// note returns a handler that adds name to log.
func note[T any](log *trail, name string) func(context.Context, *T) error {
	return func(context.Context, *T) error { log.add(name); return nil }
}
