package desk_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/trace"
	collectormetrics "go.opentelemetry.io/proto/otlp/collector/metrics/v1"

	"github.com/fxbus/fxbus/app/demo"
	"github.com/fxbus/fxbus/app/telemetry"
)

// The route a request matched is on its server span as http.route; a
// client's traceparent, sampled or not, is only a link: the desk decides
// what it traces; and the answer's traceresponse header names the trace.
func TestServerSpanRouteAndPublicEndpoint(t *testing.T) {
	app, srv, tel := startDesk(t, fakeModules())
	client := trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	req, err := http.NewRequestWithContext(t.Context(), "GET", srv.URL()+"/threads/7", nil)
	require.NoError(t, err)
	req.Header.Set("traceparent", "00-"+client.String()+"-00f067aa0ba902b7-00") // unsampled
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, res.Body)
	require.NoError(t, res.Body.Close())
	answered := telemetry.TraceIDOf(res.Header)
	app.RequireStop() // waits for the request, whose span ends with it

	spans, _ := tel.Spans.Ended()
	var found bool
	for _, s := range spans {
		if s.SpanKind() != trace.SpanKindServer {
			continue
		}
		found = true
		a := map[string]string{}
		for _, kv := range s.Attributes() {
			a[string(kv.Key)] = kv.Value.String()
		}
		assert.Equal(t, "/threads/{id}", a["http.route"])
		assert.Equal(t, "GET /threads/{id}", s.Name())
		assert.NotEqual(t, client, s.SpanContext().TraceID(), "a trace of the desk's own")
		assert.Equal(t, s.SpanContext().TraceID().String(), answered, "the traceresponse header names the request's trace")
		require.Len(t, s.Links(), 1, "the client's context is a link")
		assert.Equal(t, client, s.Links()[0].SpanContext.TraceID())
	}
	assert.True(t, found, "the request was traced, though its traceparent was unsampled")
}

// metricsCollector is an in-process OTLP/HTTP metrics receiver.
type metricsCollector struct {
	mu    sync.Mutex
	names []string
}

func (c *metricsCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req collectormetrics.ExportMetricsServiceRequest
	if !readOTLP(w, r, "/v1/metrics", &req) {
		return
	}
	c.mu.Lock()
	for _, rm := range req.ResourceMetrics {
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				c.names = append(c.names, sm.GetScope().GetName()+" "+m.Name)
			}
		}
	}
	c.mu.Unlock()
	writeOTLP(w, &collectormetrics.ExportMetricsServiceResponse{})
}

// With OTEL_METRICS_EXPORTER, the bus's messaging.process.duration
// histogram reaches the collector; and it is in memory all along.
func TestMetricsExported(t *testing.T) {
	col := &metricsCollector{}
	ts := httptest.NewServer(col)
	defer ts.Close()
	t.Setenv("OTEL_METRICS_EXPORTER", "otlp")
	t.Setenv("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf")
	t.Setenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", ts.URL+"/v1/metrics")

	app, srv, tel := startDesk(t, fakeModules())
	assert.Equal(t, "otlp http/protobuf to "+ts.URL+"/v1/metrics", tel.MetricsExporter)
	assert.Equal(t, "none", tel.Exporter, "traces stay in memory")
	_, err := demo.RunScenario(context.Background(), srv.URL(), testSecret, io.Discard)
	require.NoError(t, err)

	var rm metricdata.ResourceMetrics
	require.NoError(t, tel.Metrics.Collect(t.Context(), &rm))
	topics := map[string]uint64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "messaging.process.duration" {
				continue
			}
			assert.Equal(t, "github.com/fxbus/fxbus", sm.Scope.Name)
			assert.Equal(t, "s", m.Unit)
			h, ok := m.Data.(metricdata.Histogram[float64])
			require.True(t, ok, "a histogram")
			for _, dp := range h.DataPoints {
				v, _ := dp.Attributes.Value("messaging.destination.name")
				topics[v.AsString()] += dp.Count
			}
		}
	}
	assert.NotZero(t, topics["thread.message_posting"], "handlers of thread.message_posting measured: %v", topics)

	app.RequireStop() // the periodic reader exports at shutdown
	col.mu.Lock()
	defer col.mu.Unlock()
	assert.Contains(t, col.names, "github.com/fxbus/fxbus messaging.process.duration")
}

// A failing export is counted, so the summary can say spans were lost.
func TestLostSpansCounted(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusBadRequest) // not retryable
	}))
	defer ts.Close()
	t.Setenv("OTEL_TRACES_EXPORTER", "otlp")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", ts.URL)
	t.Setenv("OTEL_METRICS_EXPORTER", "none") // this collector takes traces only

	app, srv, tel := startDesk(t, fakeModules())
	_, err := demo.RunScenario(context.Background(), srv.URL(), testSecret, io.Discard)
	require.NoError(t, err)
	n, err := tel.Lost()
	require.NoError(t, err, "nothing exported yet")
	assert.Zero(t, n)
	_ = app.Stop(context.Background())

	spans, _ := tel.Spans.Ended()
	n, err = tel.Lost()
	assert.Equal(t, len(spans), n, "every span was lost")
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "400"), err.Error())
}
