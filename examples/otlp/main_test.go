package main

import (
	"cmp"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"
)

// The batch span processor and the HTTP client start goroutines; Shutdown
// must stop them.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// The program's own lines; the spans go to the collector.
const goldenOTLP = `exporting the spans to %s over OTLP/HTTP
  INV-1 marked paid: 120.00 EUR
  receipt sent to ann@example.com
  INV-2 marked paid: 45.50 EUR
  send-receipt failed: no email address on file
spans flushed
`

// collector is an OTLP/HTTP trace receiver: POST /v1/traces with a
// protobuf ExportTraceServiceRequest, gzipped or not.
type collector struct {
	mu        sync.Mutex
	encodings []string
	spans     []*tracepb.Span
	resources []*commonpb.KeyValue
	scopes    []string
}

func (c *collector) export(w http.ResponseWriter, r *http.Request) {
	body := io.Reader(r.Body)
	if r.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		defer gz.Close()
		body = gz
	}
	data, err := io.ReadAll(body)
	req := &coltracepb.ExportTraceServiceRequest{}
	if err == nil {
		err = proto.Unmarshal(data, req)
	}
	if err != nil || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "want a protobuf ExportTraceServiceRequest", http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	c.encodings = append(c.encodings, r.Header.Get("Content-Encoding"))
	for _, rs := range req.GetResourceSpans() {
		c.resources = append(c.resources, rs.GetResource().GetAttributes()...)
		for _, ss := range rs.GetScopeSpans() {
			c.scopes = append(c.scopes, ss.GetScope().GetName())
			c.spans = append(c.spans, ss.GetSpans()...)
		}
	}
	c.mu.Unlock()
	resp, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Header().Set("Connection", "close") // leave no idle connection behind for goleak
	_, _ = w.Write(resp)
}

func TestRunOTLP(t *testing.T) {
	for _, compression := range []string{"", "gzip"} {
		t.Run("compression="+cmp.Or(compression, "none"), func(t *testing.T) {
			c := &collector{}
			mux := http.NewServeMux()
			mux.HandleFunc("POST /v1/traces", c.export)
			srv := httptest.NewServer(mux)
			defer srv.Close()
			t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
			t.Setenv("OTEL_EXPORTER_OTLP_COMPRESSION", compression)

			var out strings.Builder
			require.NoError(t, run(&out))
			require.Equal(t, fmt.Sprintf(goldenOTLP, srv.URL), out.String())

			// run returned after Shutdown: every span has arrived.
			c.mu.Lock()
			defer c.mu.Unlock()
			require.NotEmpty(t, c.encodings, "the collector received no request")
			for _, enc := range c.encodings {
				assert.Equal(t, compression, enc)
			}
			assert.Equal(t, "fxbus-example-otlp", kvs(c.resources)["service.name"])
			for _, s := range c.scopes {
				assert.Equal(t, "github.com/fxbus/fxbus", s)
			}
			checkSpans(t, c.spans)
		})
	}
}

// checkSpans asserts the trace of the two publishes: per publish a span
// "publish invoice.paid" and, below it, a span per handler.
func checkSpans(t *testing.T, spans []*tracepb.Span) {
	byName := map[string][]*tracepb.Span{}
	byID := map[string]*tracepb.Span{}
	for _, s := range spans {
		byName[s.GetName()] = append(byName[s.GetName()], s)
		byID[string(s.GetSpanId())] = s
	}
	require.Len(t, spans, 6)
	require.Len(t, byName["publish invoice.paid"], 2)
	require.Len(t, byName["mark-paid invoice.paid"], 2)
	require.Len(t, byName["send-receipt invoice.paid"], 2)

	for _, s := range byName["publish invoice.paid"] {
		assert.Equal(t, tracepb.Span_SPAN_KIND_PRODUCER, s.GetKind())
		assert.Empty(t, s.GetParentSpanId())
		assertAttrs(t, s, map[string]string{
			"messaging.system":           "fxbus",
			"messaging.operation.name":   "publish",
			"messaging.operation.type":   "send",
			"messaging.destination.name": "invoice.paid",
			"fxbus.listener.count":       "2",
		})
	}
	for name, rank := range map[string]string{"mark-paid": "-10", "send-receipt": "0"} {
		for _, s := range byName[name+" invoice.paid"] {
			assert.Equal(t, tracepb.Span_SPAN_KIND_CONSUMER, s.GetKind())
			parent := byID[string(s.GetParentSpanId())]
			require.NotNil(t, parent, "the parent of %s was exported", s.GetName())
			assert.Equal(t, "publish invoice.paid", parent.GetName())
			assert.Equal(t, parent.GetTraceId(), s.GetTraceId())
			assertAttrs(t, s, map[string]string{
				"messaging.system":           "fxbus",
				"messaging.operation.name":   "process",
				"messaging.operation.type":   "process",
				"messaging.destination.name": "invoice.paid",
				"fxbus.listener.name":        name,
				"fxbus.listener.rank":        rank,
			})
			a := attrs(s)
			assert.Contains(t, a["code.function.name"], ".payInvoices.func")
			assert.True(t, strings.HasSuffix(a["code.file.path"], "examples/otlp/main.go"), a["code.file.path"])
			assert.NotEmpty(t, a["code.line.number"])
		}
	}

	// INV-2 has no email: its send-receipt span failed, and so did its publish.
	var failed []string
	for _, s := range spans {
		if s.GetStatus().GetCode() != tracepb.Status_STATUS_CODE_ERROR {
			continue
		}
		failed = append(failed, s.GetName())
		assert.Equal(t, "_OTHER", attrs(s)["error.type"], "errors.New's text names no class")
		assert.Contains(t, s.GetStatus().GetMessage(), "no email address on file")
	}
	assert.ElementsMatch(t, []string{"publish invoice.paid", "send-receipt invoice.paid"}, failed)
}

func assertAttrs(t *testing.T, s *tracepb.Span, want map[string]string) {
	t.Helper()
	got := attrs(s)
	for k, v := range want {
		assert.Equal(t, v, got[k], "%s: attribute %s", s.GetName(), k)
	}
}

// attrs returns a span's attributes as strings.
func attrs(s *tracepb.Span) map[string]string {
	return kvs(s.GetAttributes())
}

func kvs(list []*commonpb.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range list {
		v := kv.GetValue()
		switch v.GetValue().(type) {
		case *commonpb.AnyValue_IntValue:
			m[kv.GetKey()] = strconv.FormatInt(v.GetIntValue(), 10)
		case *commonpb.AnyValue_BoolValue:
			m[kv.GetKey()] = strconv.FormatBool(v.GetBoolValue())
		default:
			m[kv.GetKey()] = v.GetStringValue()
		}
	}
	return m
}

// Without an endpoint, the spans are printed as JSON, one per line, after
// the program's own lines.
func TestRunStdout(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")

	var out strings.Builder
	require.NoError(t, run(&out))
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	require.Len(t, lines, 12)
	assert.Equal(t, "OTEL_EXPORTER_OTLP_ENDPOINT is not set: printing the spans to stdout", lines[0])
	assert.Equal(t, "  send-receipt failed: no email address on file", lines[4])
	var names []string
	for _, l := range lines[5:11] {
		var span struct{ Name string }
		require.NoError(t, json.Unmarshal([]byte(l), &span), l)
		names = append(names, span.Name)
	}
	assert.ElementsMatch(t, []string{
		"publish invoice.paid", "mark-paid invoice.paid", "send-receipt invoice.paid",
		"publish invoice.paid", "mark-paid invoice.paid", "send-receipt invoice.paid",
	}, names)
	assert.Equal(t, "spans flushed", lines[11])
}
