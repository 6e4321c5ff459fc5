package benchmarks

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/fxbus/fxbus/bus"
)

// scopeName is the instrumentation scope fxbus's tracer uses.
const scopeName = "github.com/fxbus/fxbus"

// tracingMode is a sampling setup: the provider's sampler and the context
// a publish starts from.
type tracingMode struct {
	name    string
	sampler sdktrace.Sampler
	ctx     context.Context
	sampled bool
}

func tracingModes() []tracingMode {
	// A parent that arrived, unsampled, from another process.
	unsampledParent := trace.ContextWithRemoteSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		SpanID:  trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8},
		Remote:  true,
	}))
	return []tracingMode{
		{"sampled", sdktrace.AlwaysSample(), context.Background(), true},
		{"unsampled", sdktrace.ParentBased(sdktrace.NeverSample()), unsampledParent, false},
	}
}

// tracedImpl publishes syncTopic's payload to n handlers with spans from tp.
type tracedImpl struct {
	name string
	make func(tb testing.TB, tp trace.TracerProvider, ls []bus.Listener) func(context.Context, *payload) error
}

var tracedImpls = []tracedImpl{
	{"direct", func(_ testing.TB, tp trace.TracerProvider, ls []bus.Listener) func(context.Context, *payload) error {
		return newDirect(tp, ls, false).publish
	}},
	{"direct-skip", func(_ testing.TB, tp trace.TracerProvider, ls []bus.Listener) func(context.Context, *payload) error {
		return newDirect(tp, ls, true).publish
	}},
	{"fxbus", func(tb testing.TB, tp trace.TracerProvider, ls []bus.Listener) func(context.Context, *payload) error {
		b, err := bus.New(ls, bus.WithTracerProvider(tp))
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _ = b.Close() })
		return func(ctx context.Context, p *payload) error { return syncTopic.Publish(ctx, b, p) }
	}},
}

// BenchmarkTracing compares fxbus, with the OpenTelemetry SDK and no
// exporter, against the same spans (names, kinds, attributes, parents)
// started and ended by hand around a plain loop:
//
//   - mode=sampled: AlwaysSample, a span per publish and per handler.
//   - mode=unsampled: ParentBased(NeverSample) under an unsampled remote
//     parent, so no span records. impl=direct still starts a (non-recording)
//     span per handler, as naive instrumentation does; impl=direct-skip skips
//     the handler spans when the publish span does not record, as fxbus does.
//
// Before timing, each case is checked against a span recorder: every
// handler ran, and direct and fxbus produce the same spans.
func BenchmarkTracing(b *testing.B) {
	for _, mode := range tracingModes() {
		for _, impl := range tracedImpls {
			if impl.name == "direct-skip" && mode.sampled {
				continue // the same as direct when everything records
			}
			for _, n := range sizes {
				name := fmt.Sprintf("mode=%s/impl=%s/%s", mode.name, impl.name, sizeName("handlers", n))
				b.Run(name, func(b *testing.B) {
					b.ReportAllocs()
					ls := tracedListeners(n)
					checkTraced(b, mode, impl, ls)

					tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(mode.sampler))
					b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
					publish := impl.make(b, tp, ls)
					ctx := mode.ctx
					p := &payload{ID: 1, Name: "bench"}
					b.ResetTimer()
					for range b.N {
						if err := publish(ctx, p); err != nil {
							b.Fatal(err)
						}
					}
					b.StopTimer()
					checkTotal(b, p, b.N, n)
				})
			}
		}
	}
}

// tracedListeners returns n listeners of handle on syncTopic, shared by
// every implementation of a case so that names and sources are the same.
func tracedListeners(n int) []bus.Listener {
	ls := make([]bus.Listener, n)
	for i := range ls {
		ls[i] = bus.On(syncTopic, handle)
	}
	return ls
}

// direct is hand-written instrumentation around a plain loop, with what a
// careful author would precompute: span names and start options.
type direct struct {
	tracer  trace.Tracer
	pubName string
	pubOpts []trace.SpanStartOption
	hs      []directHandler
	skip    bool // no handler spans when the publish span does not record
}

type directHandler struct {
	fn   func(context.Context, *payload) error
	name string
	opts []trace.SpanStartOption
}

// newDirect instruments handle for each listener in ls with the span names
// and attributes fxbus uses (internal/otelbus): the reference the check
// holds it to.
func newDirect(tp trace.TracerProvider, ls []bus.Listener, skip bool) *direct {
	topic := syncTopic.Name()
	d := &direct{
		tracer:  tp.Tracer(scopeName),
		pubName: "publish " + topic,
		pubOpts: []trace.SpanStartOption{
			trace.WithSpanKind(trace.SpanKindProducer),
			trace.WithAttributes(
				semconv.MessagingSystemKey.String("fxbus"),
				semconv.MessagingOperationNameKey.String("publish"),
				semconv.MessagingOperationTypeSend,
				semconv.MessagingDestinationNameKey.String(topic),
				attribute.Int("fxbus.listener.count", len(ls)),
			),
		},
		skip: skip,
	}
	for _, l := range ls {
		info := l.Info()
		attrs := []attribute.KeyValue{
			semconv.MessagingSystemKey.String("fxbus"),
			semconv.MessagingOperationNameKey.String("process"),
			semconv.MessagingOperationTypeProcess,
			semconv.MessagingDestinationNameKey.String(topic),
			attribute.String("fxbus.listener.name", info.Name),
			attribute.Int("fxbus.listener.rank", info.Rank),
			semconv.CodeFunctionNameKey.String(info.Function),
			semconv.CodeFilePathKey.String(info.Source.File),
			semconv.CodeLineNumberKey.Int(info.Source.Line),
		}
		d.hs = append(d.hs, directHandler{
			fn:   handle,
			name: info.Name + " " + topic,
			opts: []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(attrs...)},
		})
	}
	return d
}

func (d *direct) publish(ctx context.Context, p *payload) error {
	ctx, pub := d.tracer.Start(ctx, d.pubName, d.pubOpts...)
	spans := !d.skip || pub.IsRecording()
	for i := range d.hs {
		h := &d.hs[i]
		hctx := ctx
		var span trace.Span
		if spans {
			hctx, span = d.tracer.Start(ctx, h.name, h.opts...)
		}
		err := h.fn(hctx, p)
		if span != nil {
			if err != nil {
				span.SetStatus(codes.Error, err.Error())
				span.RecordError(err)
			}
			span.End()
		}
		if err != nil {
			pub.SetAttributes(attribute.Int("fxbus.listener.ran", i+1))
			pub.SetStatus(codes.Error, err.Error())
			pub.End()
			return err
		}
	}
	pub.SetAttributes(attribute.Int("fxbus.listener.ran", len(d.hs)))
	pub.End()
	return nil
}

// checkTraced publishes once through impl with a span recorder attached and
// fails tb unless every handler ran and the spans are those fxbus makes (in
// the sampled mode) or there are none (in the unsampled one).
func checkTraced(tb testing.TB, mode tracingMode, impl tracedImpl, ls []bus.Listener) {
	tb.Helper()
	record := func(impl tracedImpl) []string {
		rec := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(mode.sampler), sdktrace.WithSpanProcessor(rec))
		defer func() { _ = tp.Shutdown(context.Background()) }()
		publish := impl.make(tb, tp, ls)
		checkOnce(tb, len(ls), func(p *payload) error { return publish(mode.ctx, p) })
		return spanShapes(rec.Ended())
	}
	got := record(impl)
	if !mode.sampled {
		if len(got) != 0 {
			tb.Fatalf("%s recorded %d spans under an unsampled parent: %q", impl.name, len(got), got)
		}
		return
	}
	if want := len(ls) + 1; len(got) != want {
		tb.Fatalf("%s recorded %d spans, want %d", impl.name, len(got), want)
	}
	if impl.name != "fxbus" {
		if want := record(tracedImpls[len(tracedImpls)-1]); !slices.Equal(got, want) {
			tb.Fatalf("direct spans differ from fxbus's:\n direct %q\n fxbus  %q", got, want)
		}
	}
}

// spanShapes describes each ended span by what the comparison holds equal:
// name, kind, attributes (in canonical order) and whether its parent is the
// publish span recorded with it.
func spanShapes(spans []sdktrace.ReadOnlySpan) []string {
	var pubID trace.SpanID
	for _, s := range spans {
		if s.SpanKind() == trace.SpanKindProducer {
			pubID = s.SpanContext().SpanID()
		}
	}
	out := make([]string, len(spans))
	for i, s := range spans {
		set := attribute.NewSet(s.Attributes()...)
		out[i] = fmt.Sprintf("%s|%s|%s|child=%t|status=%s", s.Name(), s.SpanKind(),
			set.Encoded(attribute.DefaultEncoder()), s.Parent().SpanID() == pubID, s.Status().Code)
	}
	return out
}
