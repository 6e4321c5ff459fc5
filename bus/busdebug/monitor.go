package busdebug

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
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
	maxCalls     = 512  // handler calls kept per top-level publish, nested ones included
	heartbeat    = 15 * time.Second
	writeTimeout = 10 * time.Second
)

// Outcomes of a handler call, as the monitor shows them.
const (
	outcomeOK       = "ok"
	outcomeError    = "error"
	outcomeStopped  = "stopped"
	outcomePanic    = "panic"
	outcomeFiltered = "filtered out"
)

// pubRec is a publish as the monitor shows it: its handler calls in
// order, each with the publishes it made.
type pubRec struct {
	Seq       uint64     `json:"seq"`
	Topic     string     `json:"topic"`
	Time      string     `json:"time"`
	Trace     string     `json:"trace,omitempty"`
	TraceURL  string     `json:"traceURL,omitempty"`
	Duration  string     `json:"duration"`
	Outcome   string     `json:"outcome"`
	ErrorType string     `json:"errorType,omitempty"`
	Error     string     `json:"error,omitempty"`
	Payload   []attrView `json:"payload,omitempty"`
	Calls     []*callRec `json:"calls"`
	Truncated int        `json:"truncated,omitempty"` // calls not kept
	// serveEvents adds "dropped", the publishes the viewer lost so far,
	// and "backlog", for those seen before the viewer connected.
	parent  uint64    // the publish id of the publish whose handler made this one
	id      uint64    // the tap's id of the publish
	root    *pubRec   // the top-level publish this one is nested in
	kept    int       // calls kept in the whole tree (on the root)
	start   time.Time // when the publish began
	pending []*pubRec // nested publishes made by the handler running now
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
}

type attrView struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// tapFunc installs an observer of every publish and handler call of a
// bus, and returns the function that removes it. It is the one thing the
// monitor needs of the bus.
type tapFunc func(o observer) (remove func())

// observer hears a bus's publishes and handler calls while installed.
// Calls for one publish come from its publisher's goroutine, in order; a
// nested publish begins and ends within the call of the handler that
// made it.
type observer interface {
	// begin: publish id begins on topic; parent is the id of the publish
	// whose handler made it, 0 for none. payload is what the topic opted
	// in to show (see bus.Topic.SpanAttributes), nil otherwise.
	begin(ctx context.Context, id, parent uint64, topic string, payload []attribute.KeyValue)
	// call: a handler of publish id ran (or was filtered out) and ended
	// with err; stopped is set when it returned bus.ErrStop.
	call(id uint64, l bus.ListenerInfo, d time.Duration, outcome string, err error)
	// end: publish id returned err after d.
	end(id uint64, d time.Duration, err error)
}

// monitor assembles publishes from the tap and streams them to viewers.
type monitor struct {
	cfg config
	tap tapFunc

	mu       sync.Mutex
	viewers  map[*viewer]struct{}
	remove   func() // the tap's remover while viewers are connected
	inFlight map[uint64]*pubRec
	ring     [][]byte // the last publishes, as JSON, oldest first
	seq      uint64
	lost     uint64 // publishes not assembled: too many in flight
	closed   bool
	done     chan struct{}
}

type viewer struct {
	ch      chan []byte
	dropped uint64
}

func newMonitor(b *bus.Bus, cfg config) *monitor {
	return &monitor{cfg: cfg, tap: busTap(b), viewers: map[*viewer]struct{}{}, inFlight: map[uint64]*pubRec{}, done: make(chan struct{})}
}

// tapped reports whether the tap is installed.
func (m *monitor) tapped() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.remove != nil
}

// join adds a viewer, installing the tap for the first; it returns the
// viewer and the backlog of publishes.
func (m *monitor) join() (*viewer, [][]byte, bool) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, nil, false
	}
	v := &viewer{ch: make(chan []byte, viewerQueue)}
	m.viewers[v] = struct{}{}
	first := len(m.viewers) == 1 && m.remove == nil
	backlog := append([][]byte(nil), m.ring...)
	if first {
		// Install under the lock: a publish that sees the tap blocks in
		// begin until the viewer is registered.
		m.remove = m.tap(m)
	}
	m.mu.Unlock()
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
	}
	m.mu.Unlock()
	if remove != nil {
		remove()
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

func (m *monitor) begin(ctx context.Context, id, parent uint64, topic string, payload []attribute.KeyValue) {
	now := time.Now()
	p := &pubRec{id: id, parent: parent, Topic: topic, start: now, Time: now.Format("15:04:05.000"), Calls: []*callRec{}}
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		p.Trace = sc.TraceID().String()
		if m.cfg.traceURL != "" {
			p.TraceURL = strings.ReplaceAll(m.cfg.traceURL, "{trace_id}", p.Trace)
		}
	}
	for _, kv := range payload {
		p.Payload = append(p.Payload, attrView{Key: string(kv.Key), Value: kv.Value.Emit()})
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.inFlight) >= maxInFlight {
		m.lost++
		return
	}
	if up := m.inFlight[parent]; parent != 0 && up != nil {
		p.root = up.root
	} else {
		p.parent, p.root = 0, p
	}
	m.inFlight[id] = p
}

func (m *monitor) call(id uint64, l bus.ListenerInfo, d time.Duration, outcome string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.inFlight[id]
	if p == nil {
		return
	}
	if p.root.kept >= maxCalls {
		p.root.Truncated++
		p.pending = nil
		return
	}
	p.root.kept++
	c := &callRec{Listener: l.Name, Rank: l.Rank, Owner: owner(l), Source: shortSource(l.Source),
		Duration: roundDuration(d).String(), Outcome: outcome, Nested: p.pending}
	if l.Remote != "" {
		c.Owner += " → " + l.Remote
	}
	p.pending = nil
	c.ErrorType, c.Error = m.errText(err)
	p.Calls = append(p.Calls, c)
}

func (m *monitor) end(id uint64, d time.Duration, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.inFlight[id]
	if p == nil {
		return
	}
	delete(m.inFlight, id)
	p.Duration = roundDuration(d).String()
	p.Outcome = outcomeOK
	if err != nil {
		p.Outcome = outcomeError
		p.ErrorType, p.Error = m.errText(err)
	}
	if p.root != p {
		// Nested: it belongs to the handler of its parent running now,
		// which the parent records when that handler ends.
		if up := m.inFlight[p.parent]; up != nil {
			up.pending = append(up.pending, p)
		}
		return
	}
	m.seq++
	p.Seq = m.seq
	m.publish(p)
}

// publish hands a finished top-level publish to every viewer, without
// waiting for any: a viewer whose queue is full loses it, and is told how
// many it lost with the next one it gets. m.mu is held.
func (m *monitor) publish(p *pubRec) {
	b, err := json.Marshal(p)
	if err != nil {
		return
	}
	if len(m.ring) >= m.cfg.buffer {
		copy(m.ring, m.ring[1:])
		m.ring = m.ring[:len(m.ring)-1]
	}
	m.ring = append(m.ring, b)
	for v := range m.viewers {
		msg := b
		if v.dropped > 0 {
			msg = withField(b, "dropped", v.dropped)
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
	v, backlog, ok := m.join()
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
	write := func(event string, data []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, data); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write("hello", fmt.Appendf(nil, `{"buffer":%d,"backlog":%d}`, m.cfg.buffer, len(backlog))) {
		return
	}
	for _, b := range backlog {
		if !write("publish", withBacklog(b)) {
			return
		}
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case b := <-v.ch:
			if !write("publish", b) {
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
