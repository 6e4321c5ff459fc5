package telemetry

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"

	"github.com/fxbus/fxbus/bus"
)

// ServiceName is the service.name of the desk's traces and metrics, unless
// OTEL_SERVICE_NAME (or service.name in OTEL_RESOURCE_ATTRIBUTES) says
// otherwise.
const ServiceName = "fxbus-desk"

// Telemetry is the desk's tracing and metrics. Spans go to the exporter
// that the standard OTEL_TRACES_EXPORTER and OTEL_EXPORTER_OTLP_* variables
// choose, when any is set, and always to Spans, in memory, for the summary.
// Measurements (fxbus's messaging.process.duration histogram, among
// others) go to the reader that OTEL_METRICS_EXPORTER (console, otlp,
// prometheus) and OTEL_EXPORTER_OTLP_* choose, when any is set, and
// always to Metrics, in memory.
type Telemetry struct {
	// Provider is the SDK tracer provider the bus and the HTTP server use.
	Provider *sdktrace.TracerProvider
	// Meters is the SDK meter provider the bus uses.
	Meters *sdkmetric.MeterProvider
	// Spans holds every span ended, for the summary.
	Spans *SpanStore
	// Metrics reads the measurements back, in memory.
	Metrics *sdkmetric.ManualReader
	// Exporter says where spans go besides memory, such as
	// "otlp http/protobuf to http://localhost:4318"; "none" when nothing is set.
	Exporter string
	// MetricsExporter says where measurements go besides memory, as
	// Exporter does; "none" when nothing is set.
	MetricsExporter string

	export *countingExporter // nil without an exporter
}

// exporterEnv are the variables that make the desk export spans, and
// metricsEnv those that make it export measurements.
var (
	exporterEnv = []string{"OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"}
	metricsEnv  = []string{"OTEL_METRICS_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"}
)

// redactErrors makes the desk's bus record errors on spans by class only
// (error.type, see [bus.ErrorType]): a handler's error text may carry
// personal data, such as the login of a refused single sign-on, which may
// be an e-mail address. The class, "sso: invalid single sign-on", says what failed.
var redactErrors = bus.Configure(bus.WithErrorRedaction(bus.ErrorType))

// Module provides the desk's [Telemetry], built by [New], with its
// trace.TracerProvider and metric.MeterProvider, which the bus and the
// HTTP server take from the container; and it makes the bus record errors
// on spans by class only. Give it next to bus.Module: the app's main does.
var Module = fx.Module("telemetry",
	fx.Provide(
		New,
		(*Telemetry).TracerProvider,
		(*Telemetry).MeterProvider,
	),
	redactErrors,
)

// New builds the tracer and meter providers and shuts them down,
// flushing, when the app stops.
func New(lc fx.Lifecycle) (*Telemetry, error) {
	ctx := context.Background()
	res, err := newResource(ctx)
	if err != nil {
		return nil, err
	}
	spans := NewSpanStore(100_000)
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res), sdktrace.WithSpanProcessor(spans)}
	t := &Telemetry{Spans: spans, Exporter: "none", MetricsExporter: "none", Metrics: sdkmetric.NewManualReader()}
	if configured(exporterEnv) {
		exp, err := autoexport.NewSpanExporter(ctx)
		if err != nil {
			return nil, fmt.Errorf("telemetry: trace exporter from OTEL_* variables: %w", err)
		}
		if !autoexport.IsNoneSpanExporter(exp) {
			t.export = &countingExporter{SpanExporter: exp}
			opts = append(opts, sdktrace.WithBatcher(t.export))
			t.Exporter = describeExporter("TRACES")
		}
	}
	mopts := []sdkmetric.Option{sdkmetric.WithResource(res), sdkmetric.WithReader(t.Metrics)}
	if configured(metricsEnv) {
		r, err := autoexport.NewMetricReader(ctx)
		if err != nil {
			return nil, fmt.Errorf("telemetry: metric reader from OTEL_* variables: %w", err)
		}
		if !autoexport.IsNoneMetricReader(r) {
			mopts = append(mopts, sdkmetric.WithReader(r))
			t.MetricsExporter = describeExporter("METRICS")
		}
	}
	t.Provider = sdktrace.NewTracerProvider(opts...)
	t.Meters = sdkmetric.NewMeterProvider(mopts...)
	lc.Append(fx.StopHook(func(ctx context.Context) error {
		return errors.Join(t.Provider.Shutdown(ctx), t.Meters.Shutdown(ctx))
	}))
	return t, nil
}

// Lost returns how many spans the exporter failed to deliver, and the
// last error it gave; 0 and nil when every export succeeded or there is
// no exporter. Call it after the app stopped, which flushes.
func (t *Telemetry) Lost() (int, error) {
	if t.export == nil {
		return 0, nil
	}
	return t.export.lost()
}

// countingExporter counts the spans its exporter failed to deliver.
type countingExporter struct {
	sdktrace.SpanExporter
	mu      sync.Mutex
	failed  int
	lastErr error
}

// ExportSpans exports spans, and counts them when that fails.
func (e *countingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	err := e.SpanExporter.ExportSpans(ctx, spans)
	if err != nil {
		e.mu.Lock()
		e.failed += len(spans)
		e.lastErr = err
		e.mu.Unlock()
	}
	return err
}

func (e *countingExporter) lost() (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.failed, e.lastErr
}

// newResource is the desk's resource: the SDK's defaults, service.name
// [ServiceName], and over both what OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES say, which win, as the OpenTelemetry
// specification wants.
func newResource(ctx context.Context) (*resource.Resource, error) {
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName(ServiceName)))
	if err != nil {
		return nil, fmt.Errorf("telemetry: resource: %w", err)
	}
	env, err := resource.New(ctx, resource.WithFromEnv())
	if err != nil {
		return nil, fmt.Errorf("telemetry: resource from OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	res, err = resource.Merge(res, env)
	if err != nil {
		return nil, fmt.Errorf("telemetry: resource: %w", err)
	}
	return res, nil
}

// describeExporter says which exporter the OTEL_* variables chose for
// signal, "TRACES" or "METRICS", with autoexport's defaults.
func describeExporter(signal string) string {
	name := cmp.Or(os.Getenv("OTEL_"+signal+"_EXPORTER"), "otlp")
	if name != "otlp" {
		return name
	}
	s := "otlp " + cmp.Or(os.Getenv("OTEL_EXPORTER_OTLP_"+signal+"_PROTOCOL"), os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL"), "http/protobuf")
	if ep := cmp.Or(os.Getenv("OTEL_EXPORTER_OTLP_"+signal+"_ENDPOINT"), os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT")); ep != "" {
		s += " to " + ep
	}
	return s
}

// configured reports whether any of the variables env is set.
func configured(env []string) bool {
	for _, k := range env {
		if os.Getenv(k) != "" {
			return true
		}
	}
	return false
}

// TracerProvider is the provider the bus and the HTTP server take from the
// container.
func (t *Telemetry) TracerProvider() trace.TracerProvider { return t.Provider }

// MeterProvider is the provider the bus takes from the container.
func (t *Telemetry) MeterProvider() metric.MeterProvider { return t.Meters }

// SpanStore keeps ended spans in memory, up to a limit; past it, it counts
// what it dropped. It is a [sdktrace.SpanProcessor].
type SpanStore struct {
	mu      sync.Mutex
	limit   int
	spans   []sdktrace.ReadOnlySpan
	dropped int
}

// NewSpanStore returns a store that keeps at most limit spans.
func NewSpanStore(limit int) *SpanStore { return &SpanStore{limit: limit} }

// OnStart does nothing.
func (s *SpanStore) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd keeps the span.
func (s *SpanStore) OnEnd(span sdktrace.ReadOnlySpan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.spans) >= s.limit {
		s.dropped++
		return
	}
	s.spans = append(s.spans, span)
}

// Shutdown does nothing.
func (s *SpanStore) Shutdown(context.Context) error { return nil }

// ForceFlush does nothing.
func (s *SpanStore) ForceFlush(context.Context) error { return nil }

// Ended returns the spans kept so far, in the order they ended, and how
// many were dropped past the limit.
func (s *SpanStore) Ended() ([]sdktrace.ReadOnlySpan, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sdktrace.ReadOnlySpan(nil), s.spans...), s.dropped
}

// WithRoute sets http.route, the route template of pattern ("/threads/{id}"
// for "POST /threads/{id}"), on the request's server span, and answers
// with a traceresponse header naming the trace, then serves h. The HTTP
// API wraps each route's handler with it: otelhttp wraps the whole mux,
// so its span starts before the mux matches a route; the route is known
// only here.
func WithRoute(pattern string, h http.Handler) http.Handler {
	route := pattern
	if i := strings.IndexByte(route, ' '); i >= 0 { // "METHOD [HOST]/PATH"
		route = strings.TrimSpace(route[i+1:])
	}
	if i := strings.IndexByte(route, '/'); i > 0 { // "HOST/PATH"
		route = route[i:]
	}
	attr := semconv.HTTPRoute(route)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		span := trace.SpanFromContext(r.Context())
		span.SetAttributes(attr)
		if sc := span.SpanContext(); sc.IsValid() {
			w.Header().Set(traceResponse, fmt.Sprintf("00-%s-%s-%s", sc.TraceID(), sc.SpanID(), sc.TraceFlags()))
		}
		h.ServeHTTP(w, r)
	})
}

// traceResponse is the W3C Trace Context (level 2) response header that
// tells a client the trace of its request: "00-<trace id>-<span id>-<flags>".
const traceResponse = "traceresponse"

// TraceIDOf returns the trace id of a desk response's traceresponse
// header, or "".
func TraceIDOf(h http.Header) string {
	parts := strings.Split(h.Get(traceResponse), "-")
	if len(parts) != 4 || len(parts[1]) != 32 {
		return ""
	}
	return parts[1]
}

// PublicEndpoint, for otelhttp.WithPublicEndpointFn, says that every
// request comes from the public: a client's traceparent becomes a link of the server span, never its
// parent, so that a client sending an unsampled traceparent cannot hide
// its requests from tracing, nor a sampled one make the desk trace all it
// sends. (otelhttp v0.72 has only the Fn form of WithPublicEndpoint.)
func PublicEndpoint(*http.Request) bool { return true }
