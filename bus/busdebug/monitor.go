package busdebug

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/fxbus/fxbus/bus"
)

// Bounds of the monitor's memory.
const (
	viewerQueue  = 64   // publishes queued per viewer before it loses some
	maxInFlight  = 4096 // publishes being assembled at once
	maxCalls     = 256  // handler calls kept per publish
	maxNested    = 32   // publishes kept per handler call
	maxMessage   = 1 << 20
	maxAttrs     = 32  // payload attributes shown per publish
	maxAttrValue = 256 // bytes of an attribute's value shown
	heartbeat    = 15 * time.Second
	writeTimeout = 10 * time.Second
)

// pubRec is a publish as the monitor shows it: its handler calls in
// dispatch order, each with the publishes it made.
type pubRec struct {
	Seq       uint64     `json:"seq"`
	Topic     string     `json:"topic"`
	Time      string     `json:"time"`
	Trace     string     `json:"trace,omitempty"`
	TraceURL  string     `json:"traceURL,omitempty"`
	Handlers  int        `json:"handlers"`
	Duration  string     `json:"duration"`
	Outcome   string     `json:"outcome"`
	ErrorType string     `json:"errorType,omitempty"`
	Error     string     `json:"error,omitempty"`
	Payload   []attrRec  `json:"payload,omitempty"` // what the topic opted in to showing
	Calls     []*callRec `json:"calls"`
	Truncated int        `json:"truncated,omitempty"` // calls not kept
	// serveEvents adds "dropped", the publishes the viewer lost so far,
	// and "backlog", for those seen before the viewer connected.

	parent uint64 // the Seq of the handler call that made this publish
}

// attrRec is a payload attribute of a topic that opted in to showing
// them ([bus.Topic.SpanAttributes]).
type attrRec struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// payloadOf returns what the monitor shows of attrs, bounded.
func payloadOf(attrs []attribute.KeyValue) []attrRec {
	if len(attrs) == 0 {
		return nil
	}
	out := make([]attrRec, 0, min(len(attrs), maxAttrs))
	for _, a := range attrs[:min(len(attrs), maxAttrs)] {
		v := a.Value.String()
		if len(v) > maxAttrValue {
			v = strings.ToValidUTF8(v[:maxAttrValue], "") + "…"
		}
		out = append(out, attrRec{Key: string(a.Key), Value: v})
	}
	return out
}

type callRec struct {
	Listener  string    `json:"listener"`
	Rank      int       `json:"rank"`
	Owner     string    `json:"owner"`
	Source    string    `json:"source,omitempty"`
	Duration  string    `json:"duration"`
	Outcome   string    `json:"outcome"`
	ErrorType string    `json:"errorType,omitempty"`
	Error     string    `json:"error,omitempty"`
	Nested    []*pubRec `json:"nested,omitempty"`
	More      int       `json:"more,omitempty"` // nested publishes not kept
}

// tapFunc installs a tap on a bus and returns the function that removes
// it (see [bus.Bus.Tap]).
type tapFunc func(t bus.Tap) (remove func())

// busTap returns the tap installer of b. On a closed bus, nothing is
// installed.
func busTap(b *bus.Bus) tapFunc {
	return func(t bus.Tap) func() {
		remove, err := b.Tap(t)
		if err != nil {
			return func() {}
		}
		return remove
	}
}

// monitor assembles publishes from the bus's tap and streams them to
// viewers. It is the [bus.Tap] it installs.
type monitor struct {
	cfg config
	tap tapFunc

	mu       sync.Mutex
	viewers  map[*viewer]struct{}
	remove   func()               // the tap's remover while viewers are connected
	inFlight map[uint64]*pubRec   // publishes being assembled, by Seq
	pending  map[uint64][]*pubRec // nested publishes done, by the Seq of the call that made them
	ring     []message            // the last publishes, oldest first
	lastID   uint64               // the id of the last message
	lost     uint64               // publishes not assembled: too many in flight
	closed   bool
	done     chan struct{}
}

type viewer struct {
	ch      chan message
	dropped uint64
}

// message is a publish as JSON, with the id of its event in the stream:
// ids increase in the order publishes end, so that a viewer that
// reconnects (EventSource sends Last-Event-ID) gets only what it missed.
type message struct {
	id uint64
	b  []byte
}

func newMonitor(b *bus.Bus, cfg config) *monitor {
	return &monitor{cfg: cfg, tap: busTap(b), viewers: map[*viewer]struct{}{},
		inFlight: map[uint64]*pubRec{}, pending: map[uint64][]*pubRec{}, done: make(chan struct{})}
}

// tapped reports whether the tap is installed.
func (m *monitor) tapped() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.remove != nil
}

// join adds a viewer, installing the tap for the first; it returns the
// viewer and the backlog of publishes after event after.
func (m *monitor) join(after uint64) (*viewer, []message, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, nil, false
	}
	v := &viewer{ch: make(chan message, viewerQueue)}
	m.viewers[v] = struct{}{}
	if m.remove == nil {
		// Under the lock: the tap's callbacks wait for the viewer to be
		// registered. Installing never publishes, so it cannot call back.
		m.remove = m.tap(m)
	}
	var backlog []message
	for _, msg := range m.ring {
		if msg.id > after {
			backlog = append(backlog, msg)
		}
	}
	return v, backlog, true
}

// leave removes a viewer, and the tap with the last.
func (m *monitor) leave(v *viewer) {
	m.mu.Lock()
	delete(m.viewers, v)
	var remove func()
	if len(m.viewers) == 0 && m.remove != nil {
		remove, m.remove = m.remove, nil
		clear(m.inFlight)
		clear(m.pending)
	}
	m.mu.Unlock()
	if remove != nil {
		remove() // outside the lock: a publish reporting now must not deadlock it
	}
}

func (m *monitor) close() {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	close(m.done)
	remove := m.remove
	m.remove = nil
	m.mu.Unlock()
	if remove != nil {
		remove()
	}
}

// traceOf returns the trace id in ctx, and its link.
func (m *monitor) traceOf(ctx context.Context) (id, url string) {
	if ctx == nil {
		return "", ""
	}
	sc := trace.SpanContextFromContext(ctx)
	if !sc.HasTraceID() {
		return "", ""
	}
	id = sc.TraceID().String()
	if m.cfg.traceURL != "" {
		url = strings.ReplaceAll(m.cfg.traceURL, "{trace_id}", id)
	}
	return id, url
}

// PublishStarted begins assembling a publish.
func (m *monitor) PublishStarted(ev bus.PublishEvent) {
	p := &pubRec{Seq: ev.Seq, parent: ev.Parent, Topic: ev.Topic.Name(), Handlers: ev.Handlers,
		Time: ev.Start.Format("15:04:05.000"), Payload: payloadOf(ev.Attributes), Calls: []*callRec{}}
	p.Trace, p.TraceURL = m.traceOf(ev.Ctx)
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.inFlight) >= maxInFlight {
		m.lost++
		return
	}
	m.inFlight[ev.Seq] = p
}

// HandlerDone adds a handler call to its publish, with the publishes it
// made, which ended before it.
func (m *monitor) HandlerDone(c bus.HandlerCall) {
	m.mu.Lock()
	defer m.mu.Unlock()
	nested := m.pending[c.Seq]
	delete(m.pending, c.Seq)
	p := m.inFlight[c.Publish]
	if p == nil {
		return
	}
	if p.Trace == "" { // the publish span began a trace of its own
		p.Trace, p.TraceURL = m.traceOf(c.Ctx)
	}
	if len(p.Calls) >= maxCalls {
		p.Truncated++
		return
	}
	r := &callRec{Listener: c.Listener.Name, Rank: c.Listener.Rank, Owner: owner(c.Listener),
		Source: shortSource(c.Listener.Source), Duration: roundDuration(c.Duration).String(), Nested: nested}
	if c.Listener.Remote != "" {
		r.Owner += " → " + c.Listener.Remote
	}
	if len(r.Nested) > maxNested {
		r.More = len(r.Nested) - maxNested
		r.Nested = r.Nested[:maxNested]
	}
	switch c.Outcome {
	case bus.OutcomeFiltered:
		r.Outcome = "filtered out"
	case bus.OutcomePanic:
		r.Outcome, r.ErrorType = "panic", "panic"
	default:
		r.Outcome = c.Outcome.String()
		if c.Outcome == bus.OutcomeError {
			r.ErrorType, r.Error = m.errText(c.Err)
		}
	}
	p.Calls = append(p.Calls, r)
}

// PublishDone ends a publish: a nested one waits for the handler call that
// made it; a top-level one goes to the viewers.
func (m *monitor) PublishDone(ev bus.PublishEvent) {
	m.mu.Lock()
	p := m.inFlight[ev.Seq]
	if p == nil {
		m.mu.Unlock()
		return
	}
	delete(m.inFlight, ev.Seq)
	p.Duration = roundDuration(ev.Duration).String()
	p.Outcome = "ok"
	if ev.Err != nil {
		p.Outcome = "error"
		p.ErrorType, p.Error = m.errText(ev.Err)
	}
	if p.parent != 0 {
		if len(m.pending) < maxInFlight {
			m.pending[p.parent] = append(m.pending[p.parent], p)
		}
		m.mu.Unlock()
		return
	}
	if len(m.inFlight) == 0 {
		clear(m.pending) // what no call claimed: its call was not observed
	}
	m.mu.Unlock()
	m.publish(p) // p is nobody else's now
}

// publish hands a finished top-level publish to every viewer, without
// waiting for any: a viewer whose queue is full loses it, and is told how
// many it lost with the next one it gets.
func (m *monitor) publish(p *pubRec) {
	b, err := json.Marshal(p)
	if err != nil {
		return
	}
	if len(b) > maxMessage { // keep the publish, not its calls
		p.Truncated += len(p.Calls)
		p.Calls = []*callRec{}
		if b, err = json.Marshal(p); err != nil {
			return
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lastID++
	if len(m.ring) >= m.cfg.buffer {
		copy(m.ring, m.ring[1:])
		m.ring = m.ring[:len(m.ring)-1]
	}
	m.ring = append(m.ring, message{id: m.lastID, b: b})
	for v := range m.viewers {
		msg := message{id: m.lastID, b: b}
		if v.dropped > 0 {
			msg.b = withField(b, "dropped", v.dropped)
		}
		select {
		case v.ch <- msg:
		default:
			v.dropped++
		}
	}
}

// withField adds "key": n to the JSON object b.
func withField(b []byte, key string, n uint64) []byte {
	out := make([]byte, 0, len(b)+32)
	out = append(out, b[:len(b)-1]...)
	out = fmt.Appendf(out, ",%q:%d}", key, n)
	return out
}

// errText is what the page shows of err: its class, and its text as the
// options allow.
func (m *monitor) errText(err error) (class, text string) {
	if err == nil {
		return "", ""
	}
	class = bus.ErrorType(err)
	if m.cfg.errText != nil {
		text = m.cfg.errText(err)
		if text == class {
			text = ""
		}
	}
	return class, text
}

// serveEvents streams the monitor as server-sent events: the backlog,
// then each publish as it ends, as "publish" events of JSON.
func (m *monitor) serveEvents(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead {
		w.Header().Set("Content-Type", "text/event-stream")
		return
	}
	after, _ := strconv.ParseUint(r.Header.Get("Last-Event-ID"), 10, 64)
	v, backlog, ok := m.join(after)
	if !ok {
		http.Error(w, "the debug handler is closed", http.StatusServiceUnavailable)
		return
	}
	defer m.leave(v)
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	// Each write pushes the deadline on: the server's WriteTimeout
	// bounds a write, not the stream.
	write := func(event string, msg message) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
		id := ""
		if msg.id != 0 {
			id = "id: " + strconv.FormatUint(msg.id, 10) + "\n"
		}
		if _, err := fmt.Fprintf(w, "event: %s\n%sdata: %s\n\n", event, id, msg.b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write("hello", message{b: fmt.Appendf(nil, `{"buffer":%d,"backlog":%d}`, m.cfg.buffer, len(backlog))}) {
		return
	}
	for _, msg := range backlog {
		if !write("publish", message{id: msg.id, b: withBacklog(msg.b)}) {
			return
		}
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case msg := <-v.ch:
			if !write("publish", msg) {
				return
			}
		case <-tick.C:
			_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		case <-r.Context().Done():
			return
		case <-m.done:
			return
		}
	}
}

func withBacklog(b []byte) []byte {
	out := make([]byte, 0, len(b)+16)
	out = append(out, b[:len(b)-1]...)
	return append(out, `,"backlog":true}`...)
}

type monitorView struct {
	Topics   []string
	Buffer   int
	TraceURL bool
}

func (h *Handler) monitorPage(w http.ResponseWriter, r *http.Request) {
	v := monitorView{Buffer: h.cfg.buffer, TraceURL: h.cfg.traceURL != ""}
	for _, t := range h.catalog().Topics {
		v.Topics = append(v.Topics, t.Name)
	}
	h.render(w, "monitor.html", h.page("monitor", "Monitor", v))
}
