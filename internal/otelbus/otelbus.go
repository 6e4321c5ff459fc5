package otelbus

import (
	"context"
	"fmt"
	"reflect"
	"runtime/debug"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// ScopeName is the instrumentation scope of every tracer and meter fxbus creates.
const ScopeName = "github.com/fxbus/fxbus"

// Version is the version of the fxbus module this binary was built with,
// the instrumentation scope's version: from the build information, as
// "v1.2.3" when fxbus is a dependency, "(devel)" when it is the main
// module, "" when the binary has no build information.
var Version = sync.OnceValue(func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	if bi.Main.Path == modulePath {
		return bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == modulePath {
			if d.Replace != nil && d.Replace.Version != "" {
				return d.Replace.Version
			}
			return d.Version
		}
	}
	return ""
})

// modulePath is the path of the fxbus module.
const modulePath = "github.com/fxbus/fxbus"

// System is the value of messaging.system on every span and measurement.
const System = "fxbus"

// Attribute keys that fxbus adds beside the OpenTelemetry semantic conventions.
const (
	// ListenerNameKey is the display name of a listener, on handler spans and measurements.
	ListenerNameKey = attribute.Key("fxbus.listener.name")
	// ListenerRankKey is the rank of a listener, on handler spans.
	ListenerRankKey = attribute.Key("fxbus.listener.rank")
	// ListenerModuleKey is the fx module that contributed a listener, when known.
	ListenerModuleKey = attribute.Key("fxbus.listener.module")
	// PluginKey is the plugin through which a listener was subscribed, when any.
	PluginKey = attribute.Key("fxbus.plugin")
	// ListenerCountKey is the number of listeners of a topic on the bus, on
	// publish spans: its dispatch table, before filters (When, rules,
	// assets) and sources pick who hears the publish.
	ListenerCountKey = attribute.Key("fxbus.listener.count")
	// ListenerRanKey is the number of handlers a publish called, on publish
	// spans: fewer than fxbus.listener.count when filters or sources left
	// some out, or dispatch ended early (an error, a stop, a done context).
	ListenerRanKey = attribute.Key("fxbus.listener.ran")
	// SpanAttributesPanicKey is true on a publish span whose topic's
	// SpanAttributes function panicked; the publish went on without
	// its attributes.
	SpanAttributesPanicKey = attribute.Key("fxbus.span_attributes.panic")
	// StoppedKey is true on the handler span of a listener that stopped dispatch.
	StoppedKey = attribute.Key("fxbus.stopped")
	// StoppedByKey names the listener that stopped dispatch, on the publish span.
	StoppedByKey = attribute.Key("fxbus.stopped_by")
	// PanicKey is true on the handler span of a listener that panicked.
	PanicKey = attribute.Key("fxbus.panic")
)

// ProcessDurationName is the name of the histogram of handler durations.
const ProcessDurationName = "messaging.process.duration"

// Instrumentation is what a bus needs to trace and measure itself. A nil
// *Instrumentation, or one whose Tracing and Metrics both report false, makes
// no OpenTelemetry call at all.
type Instrumentation struct {
	tracer trace.Tracer
	hist   metric.Float64Histogram
	redact func(error) string // nil: record err.Error()
}

// New returns the instrumentation for the given providers. A nil provider, a
// no-op one, or the placeholder the OpenTelemetry globals return until a
// provider is set, turns that signal off; New returns nil when both are off.
// redact, when not nil, makes what spans record of an error's text (see
// [Instrumentation.Fail]); nil records err.Error().
func New(tp trace.TracerProvider, mp metric.MeterProvider, redact func(error) string) (*Instrumentation, error) {
	in := &Instrumentation{redact: redact}
	if tracingOn(tp) {
		in.tracer = tp.Tracer(ScopeName, trace.WithInstrumentationVersion(Version()), trace.WithSchemaURL(semconv.SchemaURL))
	}
	if metricsOn(mp) {
		h, err := mp.Meter(ScopeName, metric.WithInstrumentationVersion(Version()), metric.WithSchemaURL(semconv.SchemaURL)).Float64Histogram(ProcessDurationName,
			metric.WithUnit("s"),
			metric.WithDescription("Duration of one fxbus handler processing one published event."),
			metric.WithExplicitBucketBoundaries(0.000_001, 0.000_005, 0.000_025, 0.000_1, 0.000_5,
				0.001, 0.005, 0.025, 0.1, 0.5, 1, 5),
		)
		if err != nil {
			return nil, fmt.Errorf("fxbus: create histogram %s: %w", ProcessDurationName, err)
		}
		in.hist = h
	}
	if in.tracer == nil && in.hist == nil {
		return nil, nil
	}
	return in, nil
}

func tracingOn(tp trace.TracerProvider) bool {
	switch tp.(type) {
	case nil, tracenoop.TracerProvider, *tracenoop.TracerProvider:
		return false
	}
	return !unsetGlobal(tp)
}

func metricsOn(mp metric.MeterProvider) bool {
	switch mp.(type) {
	case nil, metricnoop.MeterProvider, *metricnoop.MeterProvider:
		return false
	}
	return !unsetGlobal(mp)
}

// globalPkg is where the OpenTelemetry globals' placeholders live: what
// otel.GetTracerProvider and otel.GetMeterProvider return until a provider
// is set. Once one is, they return it instead.
const globalPkg = "go.opentelemetry.io/otel/internal/global"

// unsetGlobal reports whether p is the placeholder of a global provider
// nobody has set: it makes nothing but costs a call and allocations, so
// the bus treats it as off. Set the global providers before building a bus.
func unsetGlobal(p any) bool {
	t := reflect.TypeOf(p)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.PkgPath() == globalPkg
}

// Tracing reports whether spans are recorded.
func (in *Instrumentation) Tracing() bool { return in != nil && in.tracer != nil }

// Metrics reports whether durations are measured.
func (in *Instrumentation) Metrics() bool { return in != nil && in.hist != nil }

// Topic is the precomputed telemetry of one topic.
type Topic struct {
	spanName string
	attrs    []attribute.KeyValue
}

// NewTopic precomputes the publish span of the named topic.
func NewTopic(name string) *Topic {
	return &Topic{
		spanName: "publish " + name,
		attrs: []attribute.KeyValue{
			semconv.MessagingSystemKey.String(System),
			semconv.MessagingOperationNameKey.String("publish"),
			semconv.MessagingOperationTypeSend,
			semconv.MessagingDestinationNameKey.String(name),
		},
	}
}

// Publish is the precomputed publish span of a topic with a given set of
// listeners; it is rebuilt whenever the set changes.
type Publish struct {
	spanName string
	opts     []trace.SpanStartOption
}

// Publish precomputes the publish span for a topic with n listeners.
func (t *Topic) Publish(n int) *Publish {
	attrs := append(append(make([]attribute.KeyValue, 0, len(t.attrs)+2), t.attrs...), ListenerCountKey.Int(n))
	if n == 0 {
		attrs = append(attrs, ListenerRanKey.Int(0)) // nobody to run; else the publish counts
	}
	return &Publish{
		spanName: t.spanName,
		opts:     []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(attrs...)},
	}
}

// Source is where a listener's code lives.
type Source struct {
	Function string
	File     string
	Line     int
}

// ListenerSpec describes a listener for [NewListener].
type ListenerSpec struct {
	Topic  string
	Name   string
	Rank   int
	Module string
	Plugin string
	Source Source
}

// Listener is the telemetry of one listener: its handler span name, span
// attributes and metric record options, computed once, when a span or a
// measurement first needs them, so that a listener on a bus without
// telemetry (a runtime subscription per connection, say) costs none.
type Listener struct {
	spec ListenerSpec
	once sync.Once
	listenerTel
}

type listenerTel struct {
	spanName   string
	startOpts  []trace.SpanStartOption
	metricBase []attribute.KeyValue
	recordOK   []metric.RecordOption
}

// NewListener returns the telemetry of the listener s describes. Its span
// name, attributes and record options are computed at its first span or
// record, once: a bus built with telemetry off, or waiting for it (an fx
// app's, until its first publish), does not pay for them at startup.
func NewListener(s ListenerSpec) *Listener {
	return &Listener{spec: s}
}

// tel returns l's telemetry, computing it on first use.
func (l *Listener) tel() *listenerTel {
	l.once.Do(func() { l.listenerTel = newListenerTel(l.spec) })
	return &l.listenerTel
}

func newListenerTel(s ListenerSpec) listenerTel {
	attrs := HandlerAttributes(s)
	metricBase := []attribute.KeyValue{
		semconv.MessagingSystemKey.String(System),
		semconv.MessagingOperationNameKey.String("process"),
		semconv.MessagingDestinationNameKey.String(s.Topic),
		ListenerNameKey.String(s.Name),
	}
	return listenerTel{
		spanName:   s.Name + " " + s.Topic,
		startOpts:  []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(attrs...)},
		metricBase: metricBase,
		recordOK:   []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(metricBase...))},
	}
}

// SpanName is the name of the listener's handler span.
func (l *Listener) SpanName() string { return l.tel().spanName }

// StartPublish starts the publish span. extra, when not nil, is called only
// if the span records, and its attributes are added to the span. A panic
// in extra is recovered: the span gets fxbus.span_attributes.panic=true
// and an exception event instead, and the publish goes on.
func (in *Instrumentation) StartPublish(ctx context.Context, p *Publish, extra func() []attribute.KeyValue) (context.Context, trace.Span) {
	ctx, span := in.tracer.Start(ctx, p.spanName, p.opts...)
	if extra != nil && span.IsRecording() {
		addExtra(span, extra)
	}
	return ctx, span
}

// addExtra adds extra's attributes to span, recovering a panic in extra.
func addExtra(span trace.Span, extra func() []attribute.KeyValue) {
	defer func() {
		if v := recover(); v != nil {
			span.SetAttributes(SpanAttributesPanicKey.Bool(true))
			span.AddEvent(semconv.ExceptionEventName, trace.WithAttributes(
				semconv.ExceptionType(PanicType),
				semconv.ExceptionStacktrace(string(debug.Stack())),
			))
		}
	}()
	span.SetAttributes(extra()...)
}

// Ran records on the publish span how many handlers the publish called.
func Ran(publish trace.Span, n int) {
	publish.SetAttributes(ListenerRanKey.Int(n))
}

// Goexit ends the spans of a publish whose handler called runtime.Goexit
// (t.FailNow in a test, say), which unwinds the publisher's goroutine
// without returning: the handler span and the publish span fail with
// error.type "runtime.Goexit" and end, rather than staying open forever.
// Either may be nil.
func Goexit(handler, publish trace.Span) {
	for _, s := range []trace.Span{handler, publish} {
		if s == nil {
			continue
		}
		s.SetStatus(codes.Error, "runtime.Goexit")
		s.SetAttributes(semconv.ErrorTypeKey.String(GoexitType))
		s.End()
	}
}

// GoexitType is error.type of a handler that called runtime.Goexit.
const GoexitType = "runtime.Goexit"

// StartHandler starts the handler span of a listener.
func (in *Instrumentation) StartHandler(ctx context.Context, l *Listener) (context.Context, trace.Span) {
	t := l.tel()
	return in.tracer.Start(ctx, t.spanName, t.startOpts...)
}

// Record records one handler's duration; err is the handler's own error, or
// nil. A stop is not an error.
func (in *Instrumentation) Record(ctx context.Context, l *Listener, d time.Duration, err error) {
	t := l.tel()
	if err == nil {
		in.hist.Record(ctx, d.Seconds(), t.recordOK...)
		return
	}
	attrs := append(append(make([]attribute.KeyValue, 0, len(t.metricBase)+1), t.metricBase...), semconv.ErrorTypeKey.String(ErrorType(err)))
	in.hist.Record(ctx, d.Seconds(), metric.WithAttributeSet(attribute.NewSet(attrs...)))
}

// Stopped records on the handler span and the publish span that the
// listener stopped dispatch.
func Stopped(handler, publish trace.Span, listener string) {
	if handler != nil {
		handler.SetAttributes(StoppedKey.Bool(true))
	}
	if publish != nil {
		publish.SetAttributes(StoppedByKey.String(listener))
	}
}

// HandlerAttributes returns the attributes of the handler span of the
// listener s describes.
func HandlerAttributes(s ListenerSpec) []attribute.KeyValue {
	attrs := []attribute.KeyValue{
		semconv.MessagingSystemKey.String(System),
		semconv.MessagingOperationNameKey.String("process"),
		semconv.MessagingOperationTypeProcess,
		semconv.MessagingDestinationNameKey.String(s.Topic),
		ListenerNameKey.String(s.Name),
		ListenerRankKey.Int(s.Rank),
	}
	if s.Module != "" {
		attrs = append(attrs, ListenerModuleKey.String(s.Module))
	}
	if s.Plugin != "" {
		attrs = append(attrs, PluginKey.String(s.Plugin))
	}
	if s.Source.Function != "" {
		attrs = append(attrs, semconv.CodeFunctionNameKey.String(s.Source.Function))
	}
	if s.Source.File != "" {
		attrs = append(attrs, semconv.CodeFilePathKey.String(s.Source.File), semconv.CodeLineNumberKey.Int(s.Source.Line))
	}
	return attrs
}
