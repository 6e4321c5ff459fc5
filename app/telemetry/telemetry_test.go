package telemetry

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.uber.org/fx/fxtest"
)

// serviceName starts and ends one span with the desk's telemetry and
// returns the service.name of its resource.
func serviceName(t *testing.T) string {
	t.Helper()
	lc := fxtest.NewLifecycle(t)
	tel, err := New(lc)
	require.NoError(t, err)
	lc.RequireStart()
	_, span := tel.Provider.Tracer("test").Start(t.Context(), "span")
	span.End()
	lc.RequireStop()
	spans, _ := tel.Spans.Ended()
	require.Len(t, spans, 1)
	v, ok := spans[0].Resource().Set().Value(attribute.Key("service.name"))
	require.True(t, ok, "the resource has a service.name")
	return v.AsString()
}

// The desk names itself, unless the environment says otherwise: the
// OpenTelemetry variables win over the app's default.
func TestServiceName(t *testing.T) {
	t.Run("default", func(t *testing.T) {
		t.Setenv("OTEL_SERVICE_NAME", "")
		t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "")
		assert.Equal(t, ServiceName, serviceName(t))
	})
	t.Run("OTEL_SERVICE_NAME", func(t *testing.T) {
		t.Setenv("OTEL_SERVICE_NAME", "desk-staging")
		t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=other")
		assert.Equal(t, "desk-staging", serviceName(t), "OTEL_SERVICE_NAME wins over everything")
	})
	t.Run("OTEL_RESOURCE_ATTRIBUTES", func(t *testing.T) {
		t.Setenv("OTEL_SERVICE_NAME", "")
		t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=desk-eu,deployment.environment.name=test")
		assert.Equal(t, "desk-eu", serviceName(t))
	})
}
