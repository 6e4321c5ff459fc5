package desk_test

import (
	"compress/gzip"
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/fxbus/fxbus/app/demo"
	"github.com/fxbus/fxbus/app/telemetry"
)

// collector is an in-process OTLP/HTTP trace receiver: POST /v1/traces
// with an ExportTraceServiceRequest in protobuf, gzipped or not.
type collector struct {
	mu        sync.Mutex
	spans     []*tracepb.Span
	resources []map[string]string
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req collectortrace.ExportTraceServiceRequest
	if !readOTLP(w, r, "/v1/traces", &req) {
		return
	}
	c.mu.Lock()
	for _, rs := range req.ResourceSpans {
		c.resources = append(c.resources, attrs(rs.GetResource().GetAttributes()))
		for _, ss := range rs.ScopeSpans {
			c.spans = append(c.spans, ss.Spans...)
		}
	}
	c.mu.Unlock()
	writeOTLP(w, &collectortrace.ExportTraceServiceResponse{})
}

// readOTLP reads an OTLP/HTTP export request, in protobuf, gzipped or
// not, POSTed to path into req. It answers the error and returns false
// when the request is not one.
func readOTLP(w http.ResponseWriter, r *http.Request, path string, req proto.Message) bool {
	if r.Method != http.MethodPost || r.URL.Path != path {
		http.Error(w, "want POST "+path, http.StatusNotFound)
		return false
	}
	body := io.Reader(r.Body)
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return false
		}
		defer zr.Close()
		body = zr
	}
	b, err := io.ReadAll(body)
	if err == nil {
		err = proto.Unmarshal(b, req)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}

// writeOTLP answers an OTLP/HTTP export with res.
func writeOTLP(w http.ResponseWriter, res proto.Message) {
	b, _ := proto.Marshal(res)
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(b)
}

func (c *collector) received() ([]*tracepb.Span, []map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.spans, c.resources
}

// attrs returns attributes as strings, by key.
func attrs(kvs []*commonpb.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		switch v := kv.GetValue().GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			m[kv.Key] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			m[kv.Key] = itoa(v.IntValue)
		case *commonpb.AnyValue_BoolValue:
			m[kv.Key] = map[bool]string{true: "true", false: "false"}[v.BoolValue]
		}
	}
	return m
}

// The desk's traces go over real OTLP/HTTP to where the standard
// variables say, with the handler spans' names and attributes intact, and
// each publish under the HTTP server span of the request that caused it.
func TestTracesExportedOverOTLP(t *testing.T) {
	col := &collector{}
	ts := httptest.NewServer(col)
	defer ts.Close()
	t.Setenv("OTEL_TRACES_EXPORTER", "otlp")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", ts.URL)
	t.Setenv("OTEL_METRICS_EXPORTER", "none") // this collector takes traces only

	app, srv, tel := startDesk(t, fakeModules())
	assert.Equal(t, "otlp http/protobuf to "+ts.URL, tel.Exporter)
	_, err := demo.RunScenario(context.Background(), srv.URL(), testSecret, io.Discard)
	require.NoError(t, err)
	app.RequireStop() // flushes the batch

	spans, resources := col.received()
	require.NotEmpty(t, spans)
	for _, r := range resources {
		assert.Equal(t, telemetry.ServiceName, r["service.name"])
	}
	byID := map[string]*tracepb.Span{}
	for _, s := range spans {
		byID[hex.EncodeToString(s.SpanId)] = s
	}
	parent := func(s *tracepb.Span) *tracepb.Span { return byID[hex.EncodeToString(s.ParentSpanId)] }
	find := func(match func(s *tracepb.Span) bool) []*tracepb.Span {
		var out []*tracepb.Span
		for _, s := range spans {
			if match(s) {
				out = append(out, s)
			}
		}
		return out
	}

	// The handler spans: "<listener> <topic>", with the listener's
	// name, rank and source.
	rewrites := find(func(s *tracepb.Span) bool {
		return strings.HasSuffix(s.Name, " thread.message_posting") && strings.Contains(attrs(s.Attributes)["code.function.name"], "rewrite")
	})
	require.NotEmpty(t, rewrites, "the moderation's rewrite handler spans")
	a := attrs(rewrites[0].Attributes)
	assert.Equal(t, a["fxbus.listener.name"]+" thread.message_posting", rewrites[0].Name)
	assert.Equal(t, "thread.message_posting", a["messaging.destination.name"])
	assert.Equal(t, "fxbus", a["messaging.system"])
	assert.Equal(t, "process", a["messaging.operation.type"])
	assert.Equal(t, "-10", a["fxbus.listener.rank"])
	assert.True(t, strings.HasSuffix(a["code.file.path"], "fakes_test.go"), a["code.file.path"])
	assert.NotEmpty(t, a["code.line.number"])

	bans := find(func(s *tracepb.Span) bool {
		return strings.HasSuffix(s.Name, " moderation.ban_requested") && attrs(s.Attributes)["messaging.operation.type"] == "process"
	})
	require.Len(t, bans, 1, "the desk's own ban listener")
	a = attrs(bans[0].Attributes)
	assert.Contains(t, a["code.function.name"], "desk.NewBanListener")
	assert.Equal(t, "1000", a["fxbus.listener.rank"])
	// The ban was asked for from inside a handler of the abusive message:
	// its publish is that handler's child.
	pub := parent(bans[0])
	require.NotNil(t, pub)
	assert.Equal(t, "publish moderation.ban_requested", pub.Name)
	require.NotNil(t, parent(pub))
	assert.True(t, strings.HasSuffix(parent(pub).Name, " thread.message_posting"), parent(pub).Name)
	assert.Equal(t, "process", attrs(parent(pub).Attributes)["messaging.operation.type"], "a handler span")

	// Every publish of a request runs under its HTTP server span.
	posts := find(func(s *tracepb.Span) bool { return s.Name == "publish thread.message_posting" })
	require.NotEmpty(t, posts)
	for _, p := range posts {
		var server *tracepb.Span
		for s := parent(p); s != nil; s = parent(s) {
			if s.Kind == tracepb.Span_SPAN_KIND_SERVER {
				server = s
				break
			}
		}
		require.NotNil(t, server, "an HTTP server span is an ancestor of %s", p.Name)
		assert.Contains(t, []string{"POST /threads", "POST /threads/{id}/messages", "POST /threads/{id}/join"}, server.Name)
		assert.Equal(t, p.TraceId, server.TraceId)
		assert.NotEmpty(t, attrs(server.Attributes)["http.response.status_code"])
	}
}
