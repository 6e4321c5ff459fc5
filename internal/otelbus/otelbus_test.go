package otelbus

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// The globals' placeholders count as off until a provider is set; then the
// globals return the provider itself, which counts as on. This test sets
// the globals, so it is the only one here that reads them.
func TestGlobalProviders(t *testing.T) {
	in, err := New(otel.GetTracerProvider(), otel.GetMeterProvider(), nil)
	require.NoError(t, err)
	assert.Nil(t, in, "unset globals: no instrumentation")

	tp := sdktrace.NewTracerProvider()
	mp := sdkmetric.NewMeterProvider()
	t.Cleanup(func() {
		_ = tp.Shutdown(t.Context())
		_ = mp.Shutdown(t.Context())
	})
	otel.SetTracerProvider(tp)
	otel.SetMeterProvider(mp)
	in, err = New(otel.GetTracerProvider(), otel.GetMeterProvider(), nil)
	require.NoError(t, err)
	assert.True(t, in.Tracing())
	assert.True(t, in.Metrics())
}

func TestOffProviders(t *testing.T) {
	for name, in := range map[string]struct {
		tp any
		mp any
	}{
		"nil":           {nil, nil},
		"noop values":   {tracenoop.NewTracerProvider(), metricnoop.NewMeterProvider()},
		"noop pointers": {&tracenoop.TracerProvider{}, &metricnoop.MeterProvider{}},
	} {
		assert.False(t, tracingOn(asTP(in.tp)), name)
		assert.False(t, metricsOn(asMP(in.mp)), name)
	}
	got, err := New(nil, nil, nil)
	require.NoError(t, err)
	assert.Nil(t, got)
	assert.False(t, got.Tracing(), "a nil *Instrumentation is off")
	assert.False(t, got.Metrics())
}

func asTP(v any) trace.TracerProvider {
	tp, _ := v.(trace.TracerProvider)
	return tp
}

func asMP(v any) metric.MeterProvider {
	mp, _ := v.(metric.MeterProvider)
	return mp
}
