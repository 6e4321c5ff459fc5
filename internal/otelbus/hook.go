package otelbus

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Attribute keys of the spans of package bus/hook.
const (
	// HookNameKey names the hook, on its span and on its operation's span.
	HookNameKey = attribute.Key("fxbus.hook.name")
	// HookStageKey is the stage of a hook a span covers; "operation" on the
	// operation's span (the before and after stages are publish spans).
	HookStageKey = attribute.Key("fxbus.hook.stage")
)

// StartSpan starts an internal span named name, with messaging.system
// "fxbus" and attrs: a span that a package built on bus opens beside the
// bus's own (a hook's call, say).
func (in *Instrumentation) StartSpan(ctx context.Context, name string, attrs []attribute.KeyValue) (context.Context, trace.Span) {
	return in.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(semconv.MessagingSystemKey.String(System)), trace.WithAttributes(attrs...))
}
