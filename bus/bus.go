package bus

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/fxbus/fxbus/internal/otelbus"
)

// DefaultMaxDepth is how deeply publishes may nest (a handler publishing,
// whose handler publishes, ...) unless [WithMaxDepth] says otherwise.
const DefaultMaxDepth = 32

// Option configures a [Bus] in [New].
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	tp         trace.TracerProvider
	mp         metric.MeterProvider
	maxDepth   int
	topics     []AnyTopic
	publishers []publisherDecl
	logger     *slog.Logger
	strict     bool
}

// WithTracerProvider makes the bus open a span per publish and per handler
// with tracers from tp. Without it, or with a nil or no-op provider, the bus
// makes no tracer call at all; so too with otel.GetTracerProvider() before
// any provider was set with otel.SetTracerProvider, since the decision is
// taken once, in New.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(c *config) { c.tp = tp })
}

// WithMeterProvider makes the bus record the messaging.process.duration
// histogram with meters from mp. Without it, or with a nil or no-op
// provider, or the global provider before one was set, the bus makes no
// meter call at all.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) { c.mp = mp })
}

// WithMaxDepth sets how deeply publishes may nest before Publish returns a
// [*DepthError] naming the chain of topics; the default is
// [DefaultMaxDepth]. n <= 0 turns the limit, and its bookkeeping, off.
func WithMaxDepth(n int) Option {
	return optionFunc(func(c *config) { c.maxDepth = n })
}

// WithTopics tells the bus of topics that may have no listener, so that
// [New] enforces their [Requirement] and tooling lists them. Topics with a
// listener are known to the bus anyway.
func WithTopics(topics ...AnyTopic) Option {
	return optionFunc(func(c *config) { c.topics = append(c.topics, topics...) })
}

// Bus dispatches published events to listeners. Build it once with [New]
// (or [Module] under fx); it is safe for use by any number of goroutines.
// The zero Bus is an empty bus without telemetry, ready for
// [Topic.Subscribe].
type Bus struct {
	inst     *otelbus.Instrumentation
	tracing  bool
	metrics  bool
	maxDepth int // 0: DefaultMaxDepth; < 0: no limit

	mu      sync.Mutex // serialises writers of state; readers never lock
	state   atomic.Pointer[state]
	plugins map[string]*Plugin // registered plugins by name, guarded by mu

	publishers map[int][]PublisherInfo // declared publishers by topic id; set in New

	// telemetryLater, when set, gives the providers to decide on at the
	// first publish (see deferTelemetry); guarded by mu.
	telemetryLater func() (trace.TracerProvider, metric.MeterProvider)
}

// state is an immutable snapshot of the bus's dispatch tables. Writers copy
// it and swap the pointer; a publish runs on the snapshot it loaded.
type state struct {
	closed bool
	tables []any               // by topic id: *table[T], or nil
	topics map[int]topicCore   // every topic the bus knows
	lists  map[int][]*listener // by topic id, in dispatch order

	// notStarted marks the placeholder state of a bus from [Module] before
	// fx.New installs its listeners (see install); closed is set with it,
	// so that everything a closed bus refuses, it refuses too, with
	// [ErrNotStarted].
	notStarted bool
	// telemetryLater marks a state whose tables wait for the bus to decide
	// on its telemetry, at the first publish (see deferTelemetry): they
	// are nil, so that every publish finds no table and asks.
	telemetryLater bool
	// unheard, when set, reports a declared topic's first publish that
	// finds no listener (see report.go).
	unheard *unheardReport
}

// New builds a bus from listeners. It validates them all and returns every
// mistake at once, each a [*WiringError] naming the topic, the listener and
// its source; the order of listeners in the slice does not matter.
func New(listeners []Listener, opts ...Option) (*Bus, error) {
	cfg := config{maxDepth: DefaultMaxDepth}
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	inst, err := otelbus.New(cfg.tp, cfg.mp)
	if err != nil {
		return nil, err
	}
	b := &Bus{inst: inst, tracing: inst.Tracing(), metrics: inst.Metrics(), maxDepth: cfg.maxDepth}
	if cfg.maxDepth <= 0 {
		b.maxDepth = -1
	}

	var errs []error
	st := &state{topics: map[int]topicCore{}, lists: map[int][]*listener{}}
	for i, t := range cfg.topics {
		if t == nil {
			errs = append(errs, fmt.Errorf("fxbus: WithTopics: topic #%d is nil", i))
			continue
		}
		st.topics[t.core().topicID()] = t.core()
	}
	b.publishers = map[int][]PublisherInfo{}
	for i, d := range cfg.publishers {
		if d.topic == nil || reflect.ValueOf(d.topic).IsNil() {
			errs = append(errs, fmt.Errorf("fxbus: publisher #%d (%s, %s): nil topic", i, d.info.Module, d.info.Source))
			continue
		}
		id := d.topic.core().topicID()
		st.topics[id] = d.topic.core()
		b.publishers[id] = append(b.publishers[id], d.info)
	}
	seen := make(map[*listener]int, len(listeners))
	for i, ln := range listeners {
		var l *listener
		if ln != nil {
			l = ln.listener()
		}
		if l == nil {
			errs = append(errs, fmt.Errorf("fxbus: listener #%d is nil", i))
			continue
		}
		if err := l.check(); err != nil {
			errs = append(errs, &WiringError{Topic: l.topicName(), Listener: l.info.String(), Err: err})
			continue
		}
		if j, dup := seen[l]; dup {
			errs = append(errs, &WiringError{Topic: l.topicName(), Listener: l.info.String(),
				Err: fmt.Errorf("given twice, as listeners #%d and #%d", j, i)})
			continue
		}
		seen[l] = i
		id := l.topic.topicID()
		st.topics[id] = l.topic
		st.lists[id] = append(st.lists[id], l)
	}
	errs = append(errs, checkTopicNames(st.topics)...)
	for _, id := range slices.Sorted(maps.Keys(st.topics)) {
		t := st.topics[id]
		if err := t.declErr(); err != nil {
			errs = append(errs, fmt.Errorf("fxbus: %w", err))
			continue
		}
		ls := st.lists[id]
		slices.SortFunc(ls, byDispatchOrder)
		if err := checkRequirement(t, ls); err != nil {
			errs = append(errs, err)
		}
	}
	for _, ps := range b.publishers {
		// Declarations come in the order of an fx value group, which dig
		// shuffles: sort them, so that catalogues are stable.
		slices.SortFunc(ps, func(a, b PublisherInfo) int {
			return cmp.Or(cmp.Compare(a.Module, b.Module), cmp.Compare(a.Source.File, b.Source.File), cmp.Compare(a.Source.Line, b.Source.Line))
		})
	}
	if len(errs) == 0 {
		errs = checkPublishers(&cfg, st, b.publishers)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for id, t := range st.topics {
		st.setTable(b, t, id, st.lists[id])
	}
	b.state.Store(st)
	return b, nil
}

func byDispatchOrder(a, b *listener) int {
	if c := cmp.Compare(a.info.Rank, b.info.Rank); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}

func checkRequirement(t topicCore, all []*listener) error {
	r := t.Requirement()
	ls := serving(all)
	if (r == AtLeastOne || r == ExactlyOne) && len(ls) == 0 {
		return &WiringError{Topic: t.Name(), Err: fmt.Errorf("%w: needs %v, has none", ErrRequirement, r)}
	}
	if r == ExactlyOne && len(ls) > 1 {
		return &WiringError{Topic: t.Name(), Listener: listenerList(ls),
			Err: fmt.Errorf("%w: needs %v, has %d", ErrRequirement, r, len(ls))}
	}
	return nil
}

// serving returns the listeners that count toward a requirement: all but
// the observers.
func serving(ls []*listener) []*listener {
	out := make([]*listener, 0, len(ls))
	for _, l := range ls {
		if !l.info.Observer {
			out = append(out, l)
		}
	}
	return out
}

func listenerList(ls []*listener) string {
	s := ""
	for i, l := range ls {
		if i > 0 {
			s += ", "
		}
		s += l.info.String()
	}
	return s
}

// setTable (re)builds the dispatch table of one topic in a state that is
// not yet published.
func (st *state) setTable(b *Bus, t topicCore, id int, ls []*listener) {
	if id >= len(st.tables) {
		st.tables = append(st.tables, make([]any, id+1-len(st.tables))...)
	}
	st.tables[id] = t.build(b, ls)
}

// update copies the current state, lets fn change the copy, and publishes
// it. It fails with ErrClosed on a closed bus.
func (b *Bus) update(fn func(*state) error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	cur := b.state.Load()
	if cur == nil { // the zero Bus
		cur = &state{topics: map[int]topicCore{}, lists: map[int][]*listener{}}
	}
	if cur.closed {
		return cur.closedErr("")
	}
	next := &state{
		tables: slices.Clone(cur.tables),
		topics: maps.Clone(cur.topics),
		lists:  maps.Clone(cur.lists),
	}
	if err := fn(next); err != nil {
		return err
	}
	if cur.telemetryLater {
		next.tables, next.telemetryLater = nil, true
	}
	next.unheard = cur.unheard
	b.state.Store(next)
	return nil
}

// Close closes the bus: later publishes and subscriptions return
// [ErrClosed], while publishes already running finish. Close is idempotent
// and always returns nil, also on a nil *Bus.
func (b *Bus) Close() error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if st := b.state.Load(); st == nil || !st.closed || st.notStarted {
		b.state.Store(&state{closed: true})
	}
	return nil
}

// closedErr is the error of a publish of topic (or a subscription, for "")
// on a bus in state st, which is closed or not started.
func (st *state) closedErr(topic string) error {
	switch {
	case !st.notStarted:
		return ErrClosed
	case topic == "":
		return ErrNotStarted
	}
	return fmt.Errorf("fxbus: publish %q: %w", topic, ErrNotStarted)
}

// newNotStarted returns a bus that refuses publishes and subscriptions with
// [ErrNotStarted] until [Bus.install] gives it its listeners.
func newNotStarted() *Bus {
	b := &Bus{}
	b.state.Store(&state{closed: true, notStarted: true})
	return b
}

// install builds, as [New] does, the bus that b, from newNotStarted,
// becomes. It fails, leaving b not started, with New's errors, or when b
// was started already.
func (b *Bus) install(listeners []Listener, opts ...Option) error {
	nb, err := New(listeners, opts...)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if st := b.state.Load(); st == nil || !st.notStarted {
		return errors.New("fxbus: the bus was started already")
	}
	b.inst, b.tracing, b.metrics, b.maxDepth, b.publishers = nb.inst, nb.tracing, nb.metrics, nb.maxDepth, nb.publishers
	b.state.Store(nb.state.Load()) // publishes what was written above
	return nil
}

// deferTelemetry makes b, just installed without telemetry, decide on it
// at its first publish, with the providers that providers returns then:
// under fx, the OpenTelemetry globals may be set in an OnStart hook, after
// the bus was built. Until then, b has no tables; publishes find none and
// call wakeTelemetry.
func (b *Bus) deferTelemetry(providers func() (trace.TracerProvider, metric.MeterProvider)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.state.Load()
	if st == nil || st.closed {
		return
	}
	b.telemetryLater = providers
	next := *st
	next.tables, next.telemetryLater = nil, true
	b.state.Store(&next)
}

// wakeTelemetry decides on the telemetry of a bus whose state waits for it
// (see deferTelemetry), and builds its tables.
func (b *Bus) wakeTelemetry() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.state.Load()
	if st == nil || !st.telemetryLater {
		return nil
	}
	tp, mp := b.telemetryLater()
	inst, err := otelbus.New(tp, mp)
	if err != nil {
		return err
	}
	b.inst, b.tracing, b.metrics, b.telemetryLater = inst, inst.Tracing(), inst.Metrics(), nil
	next := *st
	next.tables, next.telemetryLater = nil, false
	for id, t := range next.topics {
		next.setTable(b, t, id, next.lists[id])
	}
	b.state.Store(&next) // publishes what was written above
	return nil
}

// depthLimit is how deeply publishes may nest; 0 means no limit.
func (b *Bus) depthLimit() int {
	switch {
	case b.maxDepth == 0:
		return DefaultMaxDepth
	case b.maxDepth < 0:
		return 0
	}
	return b.maxDepth
}
