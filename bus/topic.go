package bus

import (
	"fmt"
	"reflect"
	"runtime"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"

	"github.com/fxbus/fxbus/internal/otelbus"
)

// ErrorPolicy says what a publish does when a handler fails.
type ErrorPolicy uint8

const (
	// StopOnError ends dispatch at the first handler error and returns it.
	// It is the default.
	StopOnError ErrorPolicy = iota
	// RunAll runs every handler whatever earlier ones returned, and returns
	// their errors joined with [errors.Join].
	RunAll
)

// String returns the policy's name.
func (p ErrorPolicy) String() string {
	switch p {
	case StopOnError:
		return "stop-on-error"
	case RunAll:
		return "run-all"
	}
	return fmt.Sprintf("ErrorPolicy(%d)", uint8(p))
}

// Requirement is how many listeners a topic needs; [New] enforces it.
type Requirement uint8

const (
	// Optional accepts any number of listeners, none included. It is the default.
	Optional Requirement = iota
	// AtLeastOne needs one listener or more.
	AtLeastOne
	// ExactlyOne needs one listener, no more: the topic is a call that one
	// implementation answers.
	ExactlyOne
)

// String returns the requirement's name.
func (r Requirement) String() string {
	switch r {
	case Optional:
		return "optional"
	case AtLeastOne:
		return "at least one listener"
	case ExactlyOne:
		return "exactly one listener"
	}
	return fmt.Sprintf("Requirement(%d)", uint8(r))
}

// TopicOption configures a topic in [NewTopic].
type TopicOption interface {
	applyTopic(*topicConfig)
}

type topicOptionFunc func(*topicConfig)

func (f topicOptionFunc) applyTopic(c *topicConfig) { f(c) }

type topicConfig struct {
	description string
	policy      ErrorPolicy
	requirement Requirement
}

// WithDescription sets a one-line description of when the topic fires, for
// catalogues and docs.
func WithDescription(s string) TopicOption {
	return topicOptionFunc(func(c *topicConfig) { c.description = s })
}

// WithErrorPolicy sets what a publish does when a handler fails; the default
// is [StopOnError].
func WithErrorPolicy(p ErrorPolicy) TopicOption {
	return topicOptionFunc(func(c *topicConfig) { c.policy = p })
}

// WithRequirement sets how many listeners the topic needs. [New] fails when
// a topic it knows of has too few or too many.
func WithRequirement(r Requirement) TopicOption {
	return topicOptionFunc(func(c *topicConfig) { c.requirement = r })
}

// Topic is a typed event: its payload is a *T. Declare topics once, as
// package-level values, with [NewTopic]; a topic is its own identity, and its
// name is used only for traces, errors and docs.
type Topic[T any] struct {
	hint  atomic.Pointer[topicHint] // where the last bus that learned it keeps it
	seq   uint64                    // declaration order, for reports
	name  string
	cfg   topicConfig
	attrs atomic.Pointer[func(*T) []attribute.KeyValue] // see SpanAttributes
	err   error                                         // a declaration mistake, reported by New
	tel   *otelbus.Topic
	pub0  *otelbus.Publish // the publish span when nobody listens
	decl  Source           // where NewTopic was called
}

// NewTopic declares a topic named name whose payload is a *T. Topics are
// usually package-level values, but a topic declared at run time works as
// well, on any number of buses.
func NewTopic[T any](name string, opts ...TopicOption) *Topic[T] {
	t := &Topic[T]{name: name, seq: declSeq.Add(1), tel: otelbus.NewTopic(name)}
	t.pub0 = t.tel.Publish(0)
	if _, file, line, ok := runtime.Caller(1); ok {
		t.decl = Source{File: file, Line: line}
	}
	for _, o := range opts {
		if o != nil {
			o.applyTopic(&t.cfg)
		}
	}
	switch {
	case name == "":
		t.err = fmt.Errorf("topic of %s has an empty name", reflect.TypeFor[T]())
	case t.cfg.policy > RunAll:
		t.err = fmt.Errorf("topic %q: unknown %v", name, t.cfg.policy)
	case t.cfg.requirement > ExactlyOne:
		t.err = fmt.Errorf("topic %q: unknown %v", name, t.cfg.requirement)
	}
	if t.err != nil && t.decl.File != "" {
		t.err = fmt.Errorf("%w (declared at %s)", t.err, t.decl)
	}
	return t
}

// SpanAttributes opts the topic in to putting payload content on its
// publish spans: fn picks the attributes, and is called only when the
// publish span records. Without it, no payload content reaches a span,
// because payloads often carry personal data. It returns t, so that it
// reads as part of the declaration:
//
//	var Posted = bus.NewTopic[Posting]("message.posted").
//		SpanAttributes(func(p *Posting) []attribute.KeyValue {
//			return []attribute.KeyValue{attribute.Int64("chat.thread.id", p.ThreadID)}
//		})
//
// A nil fn opts out again.
func (t *Topic[T]) SpanAttributes(fn func(*T) []attribute.KeyValue) *Topic[T] {
	if fn == nil {
		t.attrs.Store(nil)
	} else {
		t.attrs.Store(&fn)
	}
	return t
}

// When makes a listener of t hear only the events whose payload satisfies
// pred: bus.On(t, h, t.When(pred)). It is checked before the handler's span
// starts, so a filtered-out handler costs no span. Several When options on
// one listener must all hold.
//
// A listener scoped to an asset, such as a messaging channel or a data
// table, is a When that compares the payload's asset with the one it
// serves; with a pointer or an integer as the asset's key, rather than a
// name, scoping costs a word compare:
//
//	var Lobby = &Channel{Name: "lobby"}
//	bus.On(Publish, moderate, Publish.When(func(r *PublishReq) bool { return r.Channel == Lobby }))
func (t *Topic[T]) When(pred func(*T) bool) ListenerOption {
	return listenerOptionFunc(func(l *listener) {
		if pred == nil {
			l.optErr = fmt.Errorf("When: %w", ErrNilPredicate)
			return
		}
		l.filters = append(l.filters, pred)
		l.filterTypes = append(l.filterTypes, reflect.TypeFor[T]())
	})
}

// Name returns the topic's name.
func (t *Topic[T]) Name() string { return t.name }

// String returns the topic's name.
func (t *Topic[T]) String() string { return t.name }

// Description returns the topic's one-line description, or "".
func (t *Topic[T]) Description() string { return t.cfg.description }

// ErrorPolicy returns what a publish does when a handler fails.
func (t *Topic[T]) ErrorPolicy() ErrorPolicy { return t.cfg.policy }

// Requirement returns how many listeners the topic needs.
func (t *Topic[T]) Requirement() Requirement { return t.cfg.requirement }

// PayloadType returns T.
func (t *Topic[T]) PayloadType() reflect.Type { return reflect.TypeFor[T]() }

func (t *Topic[T]) core() topicCore      { return t }
func (t *Topic[T]) declErr() error       { return t.err }
func (t *Topic[T]) declared() uint64     { return t.seq }
func (t *Topic[T]) newSlot() slotCore    { return &slot[T]{t: t} }
func (t *Topic[T]) setHint(h *topicHint) { t.hint.Store(h) }
func (t *Topic[T]) declSite() Source     { return t.decl }

// AnyTopic is a topic of any payload type: what the bus and tooling see of a
// [Topic] without its type parameter. Only *Topic[T] implements it.
type AnyTopic interface {
	Name() string
	Description() string
	ErrorPolicy() ErrorPolicy
	Requirement() Requirement
	PayloadType() reflect.Type
	core() topicCore
}

// topicCore is the bus's untyped handle on a topic.
type topicCore interface {
	AnyTopic
	declErr() error
	declared() uint64
	newSlot() slotCore
	envelopeHandler(h Handler, l *listener) any // see envelope.go
	setHint(*topicHint)
	declSite() Source // where NewTopic was called
}
