package bus

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/fxbus/fxbus/internal/otelbus"
)

// defaultMaxDepth is how deeply publishes may nest (a handler publishing,
// whose handler publishes, ...) unless WithMaxDepth says otherwise.
const defaultMaxDepth = 32

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
	redact     func(error) string
	mw         []Middleware // see WithMiddleware
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

// WithMaxDepth sets how deeply publishes may nest, through the contexts the
// bus hands to handlers, before Publish returns a [*DepthError] naming the
// chain of topics; the default is 32. n <= 0 turns the
// limit off, and handlers then get the publisher's context itself.
//
// The limit has a price where every publish comes with a context of its
// own, as an HTTP handler's does: to mark that context, the bus allocates
// one small value per such publish (a publish with the context of the
// topic's previous one, such as context.Background() or a worker's,
// allocates nothing).
// A bus whose handlers never publish, or that bounds recursion otherwise,
// can turn the limit off to save it; [TopicOf] and [DepthOf] then report
// nothing. BenchmarkPublishFreshContext measures both.
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
	maxDepth int                // 0: defaultMaxDepth; < 0: no limit
	redact   func(error) string // see WithErrorRedaction; nil: err.Error()

	id     uint64 // process-unique, set with the first index; see Topic.hint
	closed atomic.Bool
	// notStarted is set, with closed, on a bus from [Module] until fx.New
	// installs its listeners (see install): everything a closed bus
	// refuses, it refuses too, with [ErrNotStarted].
	notStarted atomic.Bool
	// waiting is set while the bus waits to decide on its telemetry, at
	// the first publish (see deferTelemetry): its index is parked, so that
	// every publish finds no table and asks.
	waiting atomic.Bool
	// unheard, when set, reports a declared topic's first publish that
	// finds no listener (see reportWiring).
	unheard atomic.Pointer[unheardReport]

	mu  sync.Mutex // serialises writers; readers never lock
	idx atomic.Pointer[index]

	publishers map[topicCore][]PublisherInfo // declared publishers; set in New

	// The features of issue 13 (features.go, middleware.go, observe.go,
	// envelope.go, wait.go): static middleware, set in New; runtime
	// middleware and observers, and the bus-wide listeners, guarded by mu.
	mw      []Middleware
	live    []*liveMiddleware
	obsList []*observerEntry
	obs     atomic.Pointer[observers] // the observers' snapshot; nil: none
	wild    []*wildOn
	hasWild atomic.Bool // len(wild) > 0
	done    doneChan    // see Bus.Done

	// parked is the index while waiting is set, and later gives the
	// providers to decide on then; both guarded by mu.
	parked *index
	later  func() (trace.TracerProvider, metric.MeterProvider)
}

// busSeq hands out bus ids, so that a topic can remember where it sits in
// the index of the last bus that learned it without keeping that bus alive.
var busSeq atomic.Uint64

// index is the bus's immutable table of the topics it knows, numbered
// densely in the order it learned them. It grows only when the bus learns a
// topic, by copy on write; each topic's handlers live in its own slot, which
// a subscription swaps without touching the index.
type index struct {
	slots []*slot           // by the bus's own topic number
	ids   map[topicCore]int // topic -> number
}

// learn returns the slot of t, adding it to the index if b does not know t
// yet. It runs with b.mu held.
func (b *Bus) learn(t topicCore) *slot {
	ix := b.index()
	if ix == nil {
		if b.id == 0 {
			b.id = busSeq.Add(1)
		}
		ix = &index{ids: map[topicCore]int{}}
	}
	if n, ok := ix.ids[t]; ok {
		return ix.slots[n]
	}
	next := &index{slots: make([]*slot, len(ix.slots), len(ix.slots)+1), ids: make(map[topicCore]int, len(ix.ids)+1)}
	copy(next.slots, ix.slots)
	for k, v := range ix.ids {
		next.ids[k] = v
	}
	s := &slot{key: t, t: t.state()}
	n := len(next.slots)
	next.slots = append(next.slots, s)
	next.ids[t] = n
	if b.waiting.Load() {
		b.parked = next
	} else {
		b.idx.Store(next)
	}
	t.state().hint.Store(&topicHint{bus: b.id, n: n})
	b.wildLearn(t, s)
	return s
}

// index returns the index of the topics b knows, parked or not; nil when
// it knows none. It runs with b.mu held.
func (b *Bus) index() *index {
	if b.waiting.Load() {
		return b.parked
	}
	return b.idx.Load()
}

// New builds a bus from listeners. It validates them all and returns every
// mistake at once, joined, each a [*WiringError] naming the topic, the
// listener and its source; the order of listeners in the slice does not
// matter.
func New(listeners []Listener, opts ...Option) (*Bus, error) {
	cfg := config{maxDepth: defaultMaxDepth}
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	inst, err := otelbus.New(cfg.tp, cfg.mp, cfg.redact)
	if err != nil {
		return nil, &WiringError{Err: err}
	}
	b := &Bus{inst: inst, tracing: inst.Tracing(), metrics: inst.Metrics(), maxDepth: cfg.maxDepth, redact: cfg.redact, mw: cfg.mw}
	if cfg.maxDepth <= 0 {
		b.maxDepth = -1
	}

	var errs []error
	var order []topicCore // every topic the bus knows, in the order met
	lists := map[topicCore][]*listener{}
	know := func(t topicCore) {
		if _, ok := lists[t]; !ok {
			lists[t] = nil
			order = append(order, t)
		}
	}
	if i := nilMiddleware(cfg.mw); i >= 0 {
		errs = append(errs, &WiringError{Err: fmt.Errorf("WithMiddleware: middleware #%d is nil", i)})
	}
	for i, t := range cfg.topics {
		if t == nil || reflect.ValueOf(t).IsNil() {
			errs = append(errs, &WiringError{Err: fmt.Errorf("WithTopics: topic #%d: %w", i, errNilTopic)})
			continue
		}
		know(t)
	}
	b.publishers = map[topicCore][]PublisherInfo{}
	for i, d := range cfg.publishers {
		if d.topic == nil || reflect.ValueOf(d.topic).IsNil() {
			errs = append(errs, &WiringError{Err: fmt.Errorf("publisher #%d (%s, %s): %w", i, d.info.Module, d.info.Source, errNilTopic)})
			continue
		}
		t := d.topic
		know(t)
		b.publishers[t] = append(b.publishers[t], d.info)
	}
	seen := make(map[*listener]int, len(listeners))
	var wilds []*listener // bus-wide listeners (see OnAll)
	for i, ln := range listeners {
		var l *listener
		if ln != nil {
			l = ln.listener()
		}
		if l == nil {
			errs = append(errs, &WiringError{Err: fmt.Errorf("listener #%d is nil", i)})
			continue
		}
		if l.feat != nil && l.feat.wild != nil {
			if err := l.feat.wild.check(l); err != nil {
				errs = append(errs, err)
			} else if l.owner() != nil || l.feat.awaited {
				errs = append(errs, &WiringError{Listener: l.info.Name, Source: l.info.Source,
					Err: errors.New("on every topic: OwnedBy and Awaited are for runtime subscriptions (SubscribeAll), not for New")})
			} else {
				wilds = append(wilds, l.forBus())
			}
			continue
		}
		l = l.forBus()
		if err := l.check(); err != nil {
			errs = append(errs, l.wiringError(err))
			continue
		}
		if l.owner() != nil {
			errs = append(errs, l.wiringError(errors.New("OwnedBy is for runtime subscriptions (Topic.Subscribe), not for New")))
			continue
		}
		if l.feat != nil && l.feat.awaited {
			errs = append(errs, l.wiringError(errors.New("Awaited is for runtime subscriptions (Topic.Subscribe), not for New, whose listeners are never closed")))
			continue
		}
		if j, dup := seen[l]; dup {
			errs = append(errs, l.wiringError(fmt.Errorf("given twice, as listeners #%d and #%d", j, i)))
			continue
		}
		seen[l] = i
		know(l.topic)
		lists[l.topic] = append(lists[l.topic], l)
	}
	errs = append(errs, checkTopicNames(order)...)
	for _, t := range order {
		if err := t.state().err; err != nil {
			errs = append(errs, &WiringError{Topic: t.Name(), Err: err})
			continue
		}
		ls := lists[t]
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
		errs = checkPublishers(&cfg, order, lists, b.publishers)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, t := range order {
		b.learn(t).build(b, lists[t])
	}
	for _, l := range wilds {
		b.addWild(l)
	}
	return b, nil
}

func byDispatchOrder(a, b *listener) int {
	if c := cmp.Compare(a.info.Rank, b.info.Rank); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}

func checkRequirement(t topicCore, all []*listener) error {
	r := t.state().cfg.requirement
	ls := serving(all)
	if (r == AtLeastOne || r == ExactlyOne) && len(ls) == 0 {
		return &WiringError{Topic: t.Name(), Err: fmt.Errorf("%w: needs %v, has none", ErrRequirement, r)}
	}
	if r == ExactlyOne && len(ls) > 1 {
		return &WiringError{Topic: t.Name(),
			Err: fmt.Errorf("%w: needs %v, has %d: %s", ErrRequirement, r, len(ls), listenerList(ls))}
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
	s := make([]string, len(ls))
	for i, l := range ls {
		s[i] = l.info.String()
	}
	return strings.Join(s, ", ")
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
	if !b.closed.Load() || b.notStarted.Load() {
		b.closed.Store(true)
		b.notStarted.Store(false)
		b.waiting.Store(false)
		b.idx.Store(nil) // let the handlers go
		b.parked, b.later = nil, nil
		b.wild = nil
		b.hasWild.Store(false)
		b.done.close()
	}
	return nil
}

// closedErr is the cause of a refusal by b, closed or not started.
func (b *Bus) closedErr() error {
	if b.notStarted.Load() {
		return ErrNotStarted
	}
	return ErrClosed
}

// newNotStarted returns a bus that refuses publishes and subscriptions with
// [ErrNotStarted] until [Bus.install] gives it its listeners.
func newNotStarted() *Bus {
	b := &Bus{}
	b.notStarted.Store(true)
	b.closed.Store(true)
	return b
}

// install builds, as [New] does, the bus that b, from newNotStarted,
// becomes. It fails, leaving b not started, with New's errors, or when b
// was started (or closed) already.
func (b *Bus) install(listeners []Listener, opts ...Option) error {
	nb, err := New(listeners, opts...)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.notStarted.Load() {
		return errors.New("fxbus: the bus was started already")
	}
	// nb's index and the hints of its topics carry nb's id; b takes both.
	b.inst, b.tracing, b.metrics, b.maxDepth, b.publishers = nb.inst, nb.tracing, nb.metrics, nb.maxDepth, nb.publishers
	b.redact = nb.redact
	b.mw, b.wild = nb.mw, nb.wild
	b.hasWild.Store(len(b.wild) > 0)
	b.id = nb.id
	if b.id == 0 {
		b.id = busSeq.Add(1)
	}
	b.idx.Store(nb.idx.Load())
	b.rebuild() // handlers compiled for nb refer to it
	// Stored last: a publish that sees the bus open sees what was written above.
	b.notStarted.Store(false)
	b.closed.Store(false)
	return nil
}

// deferTelemetry makes b, just installed without telemetry, decide on it
// at its first publish, with the providers that providers returns then:
// under fx, the OpenTelemetry globals may be set in an OnStart hook, after
// the bus was built. Until then, b's index is parked; publishes find no
// table and call wakeTelemetry.
func (b *Bus) deferTelemetry(providers func() (trace.TracerProvider, metric.MeterProvider)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Load() || b.waiting.Load() {
		return
	}
	b.later = providers
	b.parked = b.idx.Load()
	b.waiting.Store(true)
	b.idx.Store(nil)
}

// wakeTelemetry decides on the telemetry of a bus that waits for it (see
// deferTelemetry), rebuilds its tables, and puts its index back.
func (b *Bus) wakeTelemetry() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.waiting.Load() {
		return nil
	}
	tp, mp := b.later()
	inst, err := otelbus.New(tp, mp, b.redact)
	if err != nil {
		return err
	}
	b.inst, b.tracing, b.metrics, b.later = inst, inst.Tracing(), inst.Metrics(), nil
	ix := b.parked
	b.parked = nil
	if ix != nil {
		for _, s := range ix.slots {
			s.build(b, s.listeners())
		}
	}
	b.idx.Store(ix)
	b.waiting.Store(false) // publishes what was written above
	return nil
}

// depthLimit is how deeply publishes may nest; 0 means no limit.
func (b *Bus) depthLimit() int {
	switch {
	case b.maxDepth == 0:
		return defaultMaxDepth
	case b.maxDepth < 0:
		return 0
	}
	return b.maxDepth
}
