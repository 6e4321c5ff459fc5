package otelbus

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Attribute keys of hook spans.
const (
	// HookNameKey names the hook, on its span and on its operation's span.
	HookNameKey = attribute.Key("fxbus.hook.name")
	// HookStageKey is the stage of a hook a span covers; "operation" on the
	// operation's span (the before and after stages are publish spans).
	HookStageKey = attribute.Key("fxbus.hook.stage")
)

// Hook is the precomputed telemetry of one hook: a span "hook <name>" around
// the whole call, and a child span "run <name>" around the operation,
// beside the publish spans of its before and after stages.
type Hook struct {
	spanName string
	opts     []trace.SpanStartOption
	opName   string
	opOpts   []trace.SpanStartOption
}

// NewHook precomputes the spans of the named hook.
func NewHook(name string) *Hook {
	return &Hook{
		spanName: "hook " + name,
		opts: []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(
			semconv.MessagingSystemKey.String(System),
			HookNameKey.String(name),
		)},
		opName: "run " + name,
		opOpts: []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(
			semconv.MessagingSystemKey.String(System),
			HookNameKey.String(name),
			HookStageKey.String("operation"),
		)},
	}
}

// StartHook starts the span around a whole hook call.
func (in *Instrumentation) StartHook(ctx context.Context, h *Hook) (context.Context, trace.Span) {
	return in.tracer.Start(ctx, h.spanName, h.opts...)
}

// StartOperation starts the span around a hook's operation.
func (in *Instrumentation) StartOperation(ctx context.Context, h *Hook) (context.Context, trace.Span) {
	return in.tracer.Start(ctx, h.opName, h.opOpts...)
}
