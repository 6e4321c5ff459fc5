package busdebug

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"

	"github.com/fxbus/fxbus/bus"
)

// fakeTap stands for the bus's tap: it hands out the observer while
// installed, and counts installs and removals.
type fakeTap struct {
	mu       sync.Mutex
	obs      observer
	installs int
	removes  int
	changed  chan struct{}
}

func newFakeTap() *fakeTap { return &fakeTap{changed: make(chan struct{}, 16)} }

func (f *fakeTap) tap(o observer) func() {
	f.mu.Lock()
	f.obs, f.installs = o, f.installs+1
	f.mu.Unlock()
	f.changed <- struct{}{}
	return func() {
		f.mu.Lock()
		f.obs, f.removes = nil, f.removes+1
		f.mu.Unlock()
		f.changed <- struct{}{}
	}
}

func (f *fakeTap) observer() observer {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.obs
}

// stream is a viewer of the monitor's events over HTTP.
type stream struct {
	resp *http.Response
	sc   *bufio.Scanner
}

func openStream(t *testing.T, url string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	s := &stream{resp: resp, sc: bufio.NewScanner(resp.Body)}
	s.sc.Buffer(make([]byte, 1<<20), 1<<20)
	ev, _ := s.next(t)
	require.Equal(t, "hello", ev)
	return s
}

// next returns the next event's name and data.
func (s *stream) next(t *testing.T) (string, string) {
	t.Helper()
	var ev, data string
	for s.sc.Scan() {
		line := s.sc.Text()
		switch {
		case line == "" && ev != "":
			return ev, data
		case strings.HasPrefix(line, "event: "):
			ev = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		}
	}
	t.Fatalf("stream ended: %v", s.sc.Err())
	return "", ""
}

// nextPublish returns the next publish event, decoded.
func (s *stream) nextPublish(t *testing.T) (map[string]any, string) {
	t.Helper()
	ev, data := s.next(t)
	require.Equal(t, "publish", ev)
	var p map[string]any
	require.NoError(t, json.Unmarshal([]byte(data), &p))
	return p, data
}

func (s *stream) close() { _ = s.resp.Body.Close() }

// monitorServer serves a handler whose monitor uses ft as its tap.
func monitorServer(t *testing.T, ft *fakeTap, opts ...Option) (*Handler, *httptest.Server) {
	t.Helper()
	h := New(fixture(t), opts...)
	h.mon.tap = ft.tap
	srv := httptest.NewServer(h)
	t.Cleanup(func() { _ = h.Close(); srv.Close() })
	return h, srv
}

func li(name string, rank int, module string) bus.ListenerInfo {
	return bus.ListenerInfo{Name: name, Rank: rank, Module: module}
}

func waitChange(t *testing.T, ft *fakeTap) {
	t.Helper()
	select {
	case <-ft.changed:
	case <-time.After(10 * time.Second):
		t.Fatal("the tap was neither installed nor removed")
	}
}

func TestMonitorStreamsPublishWithNestedCalls(t *testing.T) {
	ft := newFakeTap()
	_, srv := monitorServer(t, ft, WithTraceURL("http://jaeger:16686/trace/{trace_id}"), WithErrorText(func(err error) string { return "redacted" }))
	s := openStream(t, srv.URL+"/debug/fxbus/events")
	defer s.close()
	waitChange(t, ft)
	o := ft.observer()
	require.NotNil(t, o, "a viewer installs the tap")

	o.begin(context.Background(), 1, 0, "user.login", nil)
	o.call(1, li("audit.login", -10, "audit"), time.Millisecond, outcomeOK, nil)
	o.begin(context.Background(), 2, 1, "order.placed", []attribute.KeyValue{attribute.Int64("order.id", 7)})
	o.call(2, li("billing.charge", 0, "billing"), time.Microsecond, outcomeStopped, bus.ErrStop)
	o.call(2, li("mailer.confirm", 5, ""), 0, outcomeFiltered, nil)
	o.end(2, 3*time.Microsecond, nil)
	o.call(1, li("sso.check", 0, "sso"), 2*time.Millisecond, outcomeError, fmt.Errorf("login %s: %w", secret, errDenied))
	o.call(1, li("crash", 1, "sso"), time.Millisecond, outcomePanic, &bus.PanicError{Value: secret})
	o.end(1, 5*time.Millisecond, errDenied)

	p, raw := s.nextPublish(t)
	assert.NotContains(t, raw, secret, "no payload or error text leaks")
	assert.Equal(t, "user.login", p["topic"])
	assert.Equal(t, "error", p["outcome"])
	calls := p["calls"].([]any)
	require.Len(t, calls, 3)
	var got []string
	for _, c := range calls {
		c := c.(map[string]any)
		got = append(got, fmt.Sprintf("%s %s %v", c["listener"], c["outcome"], c["errorType"]))
	}
	assert.Equal(t, []string{"audit.login ok <nil>", "sso.check error denied", "crash panic panic"}, got)
	assert.Equal(t, "redacted", calls[1].(map[string]any)["error"], "error text as WithErrorText says")
	// The nested publish sits under the handler that made it: sso.check
	// was running when order.placed began.
	nested := calls[1].(map[string]any)["nested"].([]any)
	require.Len(t, nested, 1)
	np := nested[0].(map[string]any)
	assert.Equal(t, "order.placed", np["topic"])
	assert.Equal(t, []any{map[string]any{"key": "order.id", "value": "7"}}, np["payload"], "payload only as the topic opted in")
	ncalls := np["calls"].([]any)
	require.Len(t, ncalls, 2)
	assert.Equal(t, "stopped", ncalls[0].(map[string]any)["outcome"])
	assert.Equal(t, "filtered out", ncalls[1].(map[string]any)["outcome"])
	assert.Nil(t, calls[0].(map[string]any)["nested"])
}

func TestMonitorTraceLink(t *testing.T) {
	ft := newFakeTap()
	_, srv := monitorServer(t, ft, WithTraceURL("http://jaeger:16686/trace/{trace_id}"))
	s := openStream(t, srv.URL+"/debug/fxbus/events")
	defer s.close()
	waitChange(t, ft)
	ctx := contextWithTrace(t)
	ft.observer().begin(ctx, 1, 0, "user.login", nil)
	ft.observer().end(1, time.Millisecond, nil)
	p, _ := s.nextPublish(t)
	assert.Equal(t, "0102030405060708090a0b0c0d0e0f10", p["trace"])
	assert.Equal(t, "http://jaeger:16686/trace/0102030405060708090a0b0c0d0e0f10", p["traceURL"])
}

func TestMonitorTapOnlyWhileWatched(t *testing.T) {
	ft := newFakeTap()
	h, srv := monitorServer(t, ft)
	assert.False(t, h.mon.tapped(), "nobody watches: no tap")
	s1 := openStream(t, srv.URL+"/debug/fxbus/events")
	waitChange(t, ft)
	s2 := openStream(t, srv.URL+"/debug/fxbus/events")
	assert.True(t, h.mon.tapped())
	s1.close()
	s2.close()
	waitChange(t, ft)
	assert.False(t, h.mon.tapped(), "the last viewer left: the tap is removed")
	ft.mu.Lock()
	assert.Equal(t, 1, ft.installs, "one tap for two viewers")
	assert.Equal(t, 1, ft.removes)
	ft.mu.Unlock()

	// A viewer who comes back gets the tap again, and the backlog.
	s3 := openStream(t, srv.URL+"/debug/fxbus/events")
	defer s3.close()
	waitChange(t, ft)
	ft.observer().begin(context.Background(), 1, 0, "order.placed", nil)
	ft.observer().end(1, time.Millisecond, nil)
	p, _ := s3.nextPublish(t)
	assert.Equal(t, "order.placed", p["topic"])
	s4 := openStream(t, srv.URL+"/debug/fxbus/events")
	defer s4.close()
	p, _ = s4.nextPublish(t)
	assert.Equal(t, true, p["backlog"], "a new viewer gets what the ring buffer kept")
}

func TestMonitorFloodIsBounded(t *testing.T) {
	ft := newFakeTap()
	h, srv := monitorServer(t, ft, WithBuffer(10))
	s := openStream(t, srv.URL+"/debug/fxbus/events")
	defer s.close()
	waitChange(t, ft)
	o := ft.observer()
	// The viewer reads nothing while 5000 publishes, each with more calls
	// than a publish keeps, go by: publishing never waits for it.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := uint64(1); i <= 5000; i++ {
			o.begin(context.Background(), i, 0, "order.placed", nil)
			if i == 1 {
				for range maxCalls + 10 {
					o.call(i, li("billing.charge", 0, "billing"), 0, outcomeOK, nil)
				}
			}
			o.end(i, time.Microsecond, nil)
		}
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("publishing blocked on a slow viewer")
	}
	h.mon.mu.Lock()
	assert.Len(t, h.mon.ring, 10, "the ring keeps WithBuffer publishes")
	assert.Empty(t, h.mon.inFlight)
	var v *viewer
	for v = range h.mon.viewers {
	}
	assert.LessOrEqual(t, len(v.ch), viewerQueue, "a viewer's queue is bounded")
	dropped := v.dropped
	h.mon.mu.Unlock()
	// The stream's writer and the connection's buffers hold some; the rest
	// were dropped.
	assert.Positive(t, dropped, "a viewer that does not read loses publishes")

	p, _ := s.nextPublish(t)
	assert.Len(t, p["calls"], maxCalls, "a publish keeps maxCalls calls")
	assert.EqualValues(t, 10, p["truncated"])
	// Once it reads again, the viewer is told how many it lost.
	o.begin(context.Background(), 9999, 0, "order.placed.last", nil)
	o.end(9999, time.Microsecond, nil)
	for p["topic"] != "order.placed.last" {
		p, _ = s.nextPublish(t)
	}
	assert.EqualValues(t, dropped, p["dropped"])
}

func TestMonitorCloseEndsStreams(t *testing.T) {
	ft := newFakeTap()
	h, srv := monitorServer(t, ft)
	s := openStream(t, srv.URL+"/debug/fxbus/events")
	defer s.close()
	waitChange(t, ft)
	require.NoError(t, h.Close())
	waitChange(t, ft)
	for s.sc.Scan() {
	}
	assert.False(t, h.mon.tapped())
	resp, err := http.Get(srv.URL + "/debug/fxbus/events")
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
}
