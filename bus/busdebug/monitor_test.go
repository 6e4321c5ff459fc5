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
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/fxbus/fxbus/bus"
)

// countingTap installs the bus's tap, counting installs and removals,
// and signals each.
type countingTap struct {
	mu       sync.Mutex
	installs int
	removes  int
	changed  chan struct{}
}

func newCountingTap() *countingTap { return &countingTap{changed: make(chan struct{}, 16)} }

func (f *countingTap) wrap(inner tapFunc) tapFunc {
	return func(t bus.Tap) func() {
		remove := inner(t)
		f.mu.Lock()
		f.installs++
		f.mu.Unlock()
		f.changed <- struct{}{}
		return func() {
			remove()
			f.mu.Lock()
			f.removes++
			f.mu.Unlock()
			f.changed <- struct{}{}
		}
	}
}

func (f *countingTap) wait(t *testing.T) {
	t.Helper()
	select {
	case <-f.changed:
	case <-time.After(10 * time.Second):
		t.Fatal("the tap was neither installed nor removed")
	}
}

// stream is a viewer of the monitor's events over HTTP.
type stream struct {
	resp *http.Response
	sc   *bufio.Scanner
}

func openStream(t *testing.T, url string) *stream {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	return openStreamReq(t, req)
}

func openStreamReq(t *testing.T, req *http.Request) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
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
	ev, _, data := s.event(t)
	return ev, data
}

// event returns the next event's name, id and data.
func (s *stream) event(t *testing.T) (ev, id, data string) {
	t.Helper()
	for s.sc.Scan() {
		line := s.sc.Text()
		switch {
		case line == "" && ev != "":
			return ev, id, data
		case strings.HasPrefix(line, "event: "):
			ev = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "id: "):
			id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		}
	}
	t.Fatalf("stream ended: %v", s.sc.Err())
	return "", "", ""
}

// nextWithID returns the next publish event's id and publish.
func (s *stream) nextWithID(t *testing.T) (string, map[string]any) {
	t.Helper()
	ev, id, data := s.event(t)
	require.Equal(t, "publish", ev)
	var p map[string]any
	require.NoError(t, json.Unmarshal([]byte(data), &p))
	return id, p
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

// monitorServer serves the debug handler of b over HTTP, counting its
// taps.
func monitorServer(t *testing.T, b *bus.Bus, opts ...Option) (*Handler, *httptest.Server, *countingTap) {
	t.Helper()
	h := New(b, opts...)
	ct := newCountingTap()
	h.mon.tap = ct.wrap(h.mon.tap)
	srv := httptest.NewServer(h)
	t.Cleanup(func() { _ = h.Close(); srv.Close() })
	return h, srv, ct
}

// monitorBus is a bus whose user.login handlers end every way a handler
// can, one of them publishing order.placed, which a handler stops.
func monitorBus(t *testing.T) *bus.Bus {
	t.Helper()
	var b *bus.Bus
	b, err := bus.New([]bus.Listener{
		bus.On(userLogin, func(ctx context.Context, l *Login) error { return nil }, bus.Name("audit.login"), bus.InModule("audit"), bus.Rank(-10)),
		bus.On(userLogin, func(ctx context.Context, l *Login) error {
			return orderPlaced.Publish(ctx, b, &Order{ID: 7, Total: 3})
		}, bus.Name("shop.order"), bus.InModule("shop"), bus.Rank(-5)),
		bus.On(userLogin, func(ctx context.Context, l *Login) error {
			return fmt.Errorf("login %s: %w", l.Email, errDenied)
		}, bus.Name("sso.check"), bus.InModule("sso")),
		bus.On(userLogin, func(ctx context.Context, l *Login) error { panic("crash for " + l.Email) }, bus.Name("crash"), bus.InModule("sso"), bus.Rank(1)),
		bus.On(userLogin, func(ctx context.Context, l *Login) error { return nil }, bus.Name("vip"), bus.Rank(2),
			userLogin.When(func(l *Login) bool { return l.OK })),
		bus.On(orderPlaced, func(ctx context.Context, o *Order) error { return bus.ErrStop }, bus.Name("billing.charge"), bus.InModule("billing")),
		bus.On(orderPlaced, func(ctx context.Context, o *Order) error { return nil }, bus.Name("mailer.confirm"), bus.Rank(5)),
	}, bus.WithTracerProvider(sdktrace.NewTracerProvider()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func TestMonitorStreamsPublishWithNestedCalls(t *testing.T) {
	b := monitorBus(t)
	_, srv, ct := monitorServer(t, b, WithTraceURL("http://jaeger:16686/trace/{trace_id}"), WithErrorText(func(err error) string { return "redacted" }))
	s := openStream(t, srv.URL+"/debug/fxbus/events")
	defer s.close()
	ct.wait(t)

	err := userLogin.Publish(context.Background(), b, &Login{Email: secret})
	require.Error(t, err)

	p, raw := s.nextPublish(t)
	assert.NotContains(t, raw, secret, "no payload or error text leaks")
	assert.Equal(t, "user.login", p["topic"])
	assert.Equal(t, "error", p["outcome"])
	assert.EqualValues(t, 5, p["handlers"])
	assert.Regexp(t, `^[0-9a-f]{32}$`, p["trace"])
	assert.Equal(t, "http://jaeger:16686/trace/"+p["trace"].(string), p["traceURL"])
	calls := p["calls"].([]any)
	var got []string
	for _, c := range calls {
		c := c.(map[string]any)
		got = append(got, fmt.Sprintf("%s %v %s %v", c["listener"], c["rank"], c["outcome"], c["errorType"]))
	}
	assert.Equal(t, []string{
		"audit.login -10 ok <nil>",
		"shop.order -5 ok <nil>",
		"sso.check 0 error denied",
		"crash 1 panic panic",
		"vip 2 filtered out <nil>",
	}, got, "handlers in dispatch order, with their outcomes")
	assert.Equal(t, "redacted", calls[2].(map[string]any)["error"], "error text as WithErrorText says")
	assert.Equal(t, "sso", calls[2].(map[string]any)["owner"])
	// The nested publish sits under the handler that made it.
	nested := calls[1].(map[string]any)["nested"].([]any)
	require.Len(t, nested, 1)
	np := nested[0].(map[string]any)
	assert.Equal(t, "order.placed", np["topic"])
	assert.Equal(t, []any{map[string]any{"key": "order.id", "value": "7"}}, np["payload"],
		"order.placed opted in to showing its order id")
	assert.NotContains(t, p, "payload", "user.login did not opt in: no payload content")
	assert.Equal(t, p["trace"], np["trace"], "one trace")
	ncalls := np["calls"].([]any)
	require.Len(t, ncalls, 1, "mailer.confirm did not run: billing.charge stopped the publish")
	assert.Equal(t, "stopped", ncalls[0].(map[string]any)["outcome"])
	for _, i := range []int{0, 2, 3, 4} {
		assert.Nil(t, calls[i].(map[string]any)["nested"])
	}
}

// A topic shows the payload content it opted in to with SpanAttributes,
// bounded; one that did not opt in shows none, whatever its payload holds.
func TestMonitorPayloadOfOptedInTopicsOnly(t *testing.T) {
	type signup struct {
		Plan, Email string
	}
	shown := bus.NewTopic[signup]("signup.done").SpanAttributes(func(s *signup) []attribute.KeyValue {
		attrs := []attribute.KeyValue{attribute.String("plan", s.Plan), attribute.String("note", strings.Repeat("é", 300))}
		for i := range 40 {
			attrs = append(attrs, attribute.Int("n", i))
		}
		return attrs
	})
	hidden := bus.NewTopic[signup]("signup.private")
	b, err := bus.New([]bus.Listener{bus.On(shown, func(context.Context, *signup) error { return nil })}, bus.WithTopics(hidden))
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	_, srv, ct := monitorServer(t, b)
	s := openStream(t, srv.URL+"/debug/fxbus/events")
	defer s.close()
	ct.wait(t)

	require.NoError(t, shown.Publish(context.Background(), b, &signup{Plan: "pro", Email: secret}))
	require.NoError(t, hidden.Publish(context.Background(), b, &signup{Plan: "secret-plan", Email: secret}))
	p, raw := s.nextPublish(t)
	assert.Equal(t, "signup.done", p["topic"])
	assert.NotContains(t, raw, secret, "only the attributes the topic picked")
	payload := p["payload"].([]any)
	require.Len(t, payload, maxAttrs, "attributes beyond the bound are not shown")
	assert.Equal(t, map[string]any{"key": "plan", "value": "pro"}, payload[0])
	note := payload[1].(map[string]any)["value"].(string)
	assert.LessOrEqual(t, len(note), maxAttrValue+len("…"), "a long value is cut")
	assert.True(t, utf8.ValidString(note), "cut on a character boundary")
	assert.True(t, strings.HasSuffix(note, "…"))

	p, raw = s.nextPublish(t)
	assert.Equal(t, "signup.private", p["topic"])
	assert.NotContains(t, p, "payload")
	assert.NotContains(t, raw, secret)
	assert.NotContains(t, raw, "secret-plan")
}

func TestMonitorWithoutErrorText(t *testing.T) {
	b := monitorBus(t)
	_, srv, ct := monitorServer(t, b)
	s := openStream(t, srv.URL+"/debug/fxbus/events")
	defer s.close()
	ct.wait(t)
	_ = userLogin.Publish(context.Background(), b, &Login{Email: secret})
	p, raw := s.nextPublish(t)
	assert.NotContains(t, raw, secret)
	assert.NotContains(t, raw, `"error":`, "by default, no error text at all")
	assert.Empty(t, p["traceURL"], "no trace link without WithTraceURL")
}

func TestMonitorTapOnlyWhileWatched(t *testing.T) {
	b := fixture(t) // no tracing: a publish allocates nothing
	h, srv, ct := monitorServer(t, b)
	assert.False(t, h.mon.tapped(), "nobody watches: no tap")
	o := &Order{}
	publish := func() { _ = orderPlaced.Publish(context.Background(), b, o) }
	if !raceEnabled {
		assert.Zero(t, testing.AllocsPerRun(100, publish), "before any viewer, a publish allocates nothing")
	}
	s1 := openStream(t, srv.URL+"/debug/fxbus/events")
	ct.wait(t)
	s2 := openStream(t, srv.URL+"/debug/fxbus/events")
	assert.True(t, h.mon.tapped())
	s1.close()
	s2.close()
	ct.wait(t)
	assert.False(t, h.mon.tapped(), "the last viewer left: the tap is removed")
	ct.mu.Lock()
	assert.Equal(t, 1, ct.installs, "one tap for two viewers")
	assert.Equal(t, 1, ct.removes)
	ct.mu.Unlock()
	if !raceEnabled {
		assert.Zero(t, testing.AllocsPerRun(100, publish), "with the tap removed, a publish allocates nothing again")
	}

	// A viewer who comes back gets the tap again; the next, the backlog.
	s3 := openStream(t, srv.URL+"/debug/fxbus/events")
	defer s3.close()
	ct.wait(t)
	require.NoError(t, orderPlaced.Publish(context.Background(), b, &Order{}))
	p, _ := s3.nextPublish(t)
	assert.Equal(t, "order.placed", p["topic"])
	s4 := openStream(t, srv.URL+"/debug/fxbus/events")
	defer s4.close()
	p, _ = s4.nextPublish(t)
	assert.Equal(t, true, p["backlog"], "a new viewer gets what the ring buffer kept")
}

func TestMonitorFloodIsBounded(t *testing.T) {
	many := bus.NewTopic[Order]("order.many")
	ls := []bus.Listener{}
	for range maxCalls + 10 {
		ls = append(ls, bus.On(many, func(ctx context.Context, o *Order) error { return nil }))
	}
	b, err := bus.New(append(ls, bus.On(orderPlaced, func(ctx context.Context, o *Order) error { return nil })))
	require.NoError(t, err)
	defer b.Close()
	h, srv, ct := monitorServer(t, b, WithBuffer(10))
	s := openStream(t, srv.URL+"/debug/fxbus/events")
	defer s.close()
	ct.wait(t)
	require.NoError(t, many.Publish(context.Background(), b, &Order{}))
	// The viewer reads nothing while publishes go by until it has lost
	// some (the connection's buffers, which vary by machine, hold the
	// first): publishing never waits for it.
	lost := func() bool {
		h.mon.mu.Lock()
		defer h.mon.mu.Unlock()
		for v := range h.mon.viewers {
			return v.dropped > 0
		}
		return false
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 1_000_000 && (i%1000 != 0 || !lost()); i++ {
			_ = orderPlaced.Publish(context.Background(), b, &Order{})
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("publishing blocked on a slow viewer")
	}
	h.mon.mu.Lock()
	assert.Len(t, h.mon.ring, 10, "the ring keeps WithBuffer publishes")
	assert.Empty(t, h.mon.inFlight)
	assert.Empty(t, h.mon.pending)
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
	assert.Equal(t, "order.many", p["topic"])
	assert.Len(t, p["calls"], maxCalls, "a publish keeps maxCalls calls")
	assert.EqualValues(t, 10, p["truncated"])
	// Once it reads again, and its queue has room, the viewer is told how
	// many it lost.
	for len(v.ch) == viewerQueue {
		s.nextPublish(t)
	}
	last := bus.NewTopic[Order]("order.last")
	require.NoError(t, last.Publish(context.Background(), b, &Order{}))
	for p["topic"] != "order.last" {
		p, _ = s.nextPublish(t)
	}
	assert.EqualValues(t, dropped, p["dropped"])
}

func TestMonitorCloseEndsStreams(t *testing.T) {
	h, srv, ct := monitorServer(t, monitorBus(t))
	s := openStream(t, srv.URL+"/debug/fxbus/events")
	defer s.close()
	ct.wait(t)
	require.NoError(t, h.Close())
	ct.wait(t)
	for s.sc.Scan() {
	}
	assert.False(t, h.mon.tapped())
	resp, err := http.Get(srv.URL + "/debug/fxbus/events")
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
}

// A viewer that reconnects with Last-Event-ID, as EventSource does, gets
// only the publishes it missed.
func TestMonitorResumesAfterLastEventID(t *testing.T) {
	b := fixture(t)
	_, srv, ct := monitorServer(t, b)
	s := openStream(t, srv.URL+"/debug/fxbus/events")
	ct.wait(t)
	for range 3 {
		require.NoError(t, orderPlaced.Publish(context.Background(), b, &Order{}))
	}
	var ids []string
	for range 3 {
		ev, _ := s.nextWithID(t)
		ids = append(ids, ev)
	}
	assert.Equal(t, []string{"1", "2", "3"}, ids)
	s.close()

	req, err := http.NewRequest(http.MethodGet, srv.URL+"/debug/fxbus/events", nil)
	require.NoError(t, err)
	req.Header.Set("Last-Event-ID", "2")
	s2 := openStreamReq(t, req)
	defer s2.close()
	id, p := s2.nextWithID(t)
	assert.Equal(t, "3", id)
	assert.Equal(t, true, p["backlog"])
}

// The stream outlives the server's WriteTimeout: each write pushes the
// deadline on.
func TestMonitorOutlivesWriteTimeout(t *testing.T) {
	b := fixture(t)
	h := New(b)
	srv := httptest.NewUnstartedServer(h)
	srv.Config.WriteTimeout = 200 * time.Millisecond
	srv.Start()
	t.Cleanup(func() { _ = h.Close(); srv.Close() })
	s := openStream(t, srv.URL+"/debug/fxbus/events")
	defer s.close()
	time.Sleep(400 * time.Millisecond) // past the WriteTimeout: what is tested is the passing of time
	require.NoError(t, orderPlaced.Publish(context.Background(), b, &Order{}))
	p, _ := s.nextPublish(t)
	assert.Equal(t, "order.placed", p["topic"])
}
