package desk

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"sync"

	"go.opentelemetry.io/contrib/exporters/autoexport"
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

// Telemetry is the desk's tracing. Spans go to the exporter that the
// standard OTEL_TRACES_EXPORTER and OTEL_EXPORTER_OTLP_* variables choose,
// when any is set, and always to Spans, in memory, for the summary.
type Telemetry struct {
	// Provider is the SDK tracer provider the bus and the HTTP server use.
	Provider *sdktrace.TracerProvider
	// Spans holds every span ended, for the summary.
	Spans *SpanStore
	// Exporter says where spans go besides memory, such as
	// "otlp http/protobuf to http://localhost:4318"; "none" when nothing is set.
	Exporter string
}

// redactErrors makes the desk's bus record errors on spans by class only
// (see [bus.ErrorType]): a handler's error text may carry personal data,
// such as the login of a refused single sign-on, which may be an e-mail
// address. The class, "sso: invalid single sign-on", says what failed.
var redactErrors = bus.Configure(bus.WithErrorRedaction(bus.ErrorType))

// exporterEnv are the variables that make the desk export spans.
var exporterEnv = []string{"OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"}

// NewTelemetry builds the tracer provider and shuts it down, flushing, when
// the app stops.
func NewTelemetry(lc fx.Lifecycle) (*Telemetry, error) {
	ctx := context.Background()
	res, err := newResource(ctx)
	if err != nil {
		return nil, err
	}
	spans := NewSpanStore(100_000)
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res), sdktrace.WithSpanProcessor(spans)}
	t := &Telemetry{Spans: spans, Exporter: "none"}
	if configured() {
		exp, err := autoexport.NewSpanExporter(ctx)
		if err != nil {
			return nil, fmt.Errorf("desk: trace exporter from OTEL_* variables: %w", err)
		}
		if !autoexport.IsNoneSpanExporter(exp) {
			opts = append(opts, sdktrace.WithBatcher(exp))
			t.Exporter = describeExporter()
		}
	}
	t.Provider = sdktrace.NewTracerProvider(opts...)
	lc.Append(fx.StopHook(t.Provider.Shutdown))
	return t, nil
}

// newResource is the desk's resource: the SDK's defaults, service.name
// [ServiceName], and over both what OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES say, which win, as the OpenTelemetry
// specification wants.
func newResource(ctx context.Context) (*resource.Resource, error) {
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName(ServiceName)))
	if err != nil {
		return nil, fmt.Errorf("desk: telemetry resource: %w", err)
	}
	env, err := resource.New(ctx, resource.WithFromEnv())
	if err != nil {
		return nil, fmt.Errorf("desk: telemetry resource from OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	res, err = resource.Merge(res, env)
	if err != nil {
		return nil, fmt.Errorf("desk: telemetry resource: %w", err)
	}
	return res, nil
}

// describeExporter says which exporter the OTEL_* variables chose, with
// autoexport's defaults.
func describeExporter() string {
	name := cmp.Or(os.Getenv("OTEL_TRACES_EXPORTER"), "otlp")
	if name != "otlp" {
		return name
	}
	s := "otlp " + cmp.Or(os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"), os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL"), "http/protobuf")
	if ep := cmp.Or(os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"), os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT")); ep != "" {
		s += " to " + ep
	}
	return s
}

func configured() bool {
	for _, k := range exporterEnv {
		if os.Getenv(k) != "" {
			return true
		}
	}
	return false
}

// TracerProvider is the provider the bus and the HTTP server take from the
// container.
func (t *Telemetry) TracerProvider() trace.TracerProvider { return t.Provider }

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
