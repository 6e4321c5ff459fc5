package bus

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"sync/atomic"
	"unsafe"

	"go.opentelemetry.io/otel/attribute"

	"github.com/fxbus/fxbus/internal/otelbus"
)

// ErrorPolicy says what a publish does when a handler fails. It is a
// [TopicOption]: bus.NewTopic[T]("x", bus.RunAll).
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

// Requirement is how many listeners a topic needs; [New] enforces it. It is
// a [TopicOption]: bus.NewTopic[T]("x", bus.ExactlyOne).
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
	quiet       bool
	description string
	policy      ErrorPolicy
	requirement Requirement
}

// Description sets a one-line description of when the topic fires, for
// catalogues and docs.
func Description(s string) TopicOption {
	return topicOptionFunc(func(c *topicConfig) { c.description = s })
}

// Quiet makes a publish that no listener hears open no span: for an
// extension point that is published often and seldom heard, or a topic
// that is part of a larger traced call (a hook's stages are quiet: the
// hook's own span shows the call). By default such a publish opens an
// empty publish span, so that traces show it happened.
func Quiet() TopicOption {
	return topicOptionFunc(func(c *topicConfig) { c.quiet = true })
}

// applyTopic makes an ErrorPolicy a [TopicOption]:
// bus.NewTopic[T]("x", bus.RunAll).
func (p ErrorPolicy) applyTopic(c *topicConfig) { c.policy = p }

// applyTopic makes a Requirement a [TopicOption]:
// bus.NewTopic[T]("x", bus.ExactlyOne).
func (r Requirement) applyTopic(c *topicConfig) { c.requirement = r }

// Topic is a typed event: its payload is a *T. Declare topics once, as
// package-level values, with [NewTopic]; a topic is its own identity, and its
// name is used only for traces, errors and docs.
type Topic[T any] struct {
	topicState
}

// topicState is a topic without its payload type: what the dispatch code,
// which is not generic, needs of it.
type topicState struct {
	// A topic is its own identity: nothing compares topics by value, and
	// a type that cannot be so compared needs no equality function for
	// each payload type.
	_       [0]func()
	attrs   atomic.Pointer[func(unsafe.Pointer) []attribute.KeyValue] // see SpanAttributes
	hint    atomic.Pointer[topicHint]                                 // where the last bus that learned it keeps it
	seq     uint64                                                    // declaration order, for reports
	name    string
	cfg     topicConfig
	err     error // a declaration mistake, reported by New
	tel     *otelbus.Topic
	pub0    *otelbus.Publish // the publish span when nobody listens
	decl    Source           // where NewTopic was called
	payload reflect.Type     // T
}

// NewTopic declares a topic named name whose payload is a *T. Topics are
// usually package-level values, but a topic declared at run time works as
// well, on any number of buses.
func NewTopic[T any](name string, opts ...TopicOption) *Topic[T] {
	t := &Topic[T]{}
	t.init(name, reflect.TypeFor[T](), opts)
	return t
}

// init sets up the state of a topic of payload type rt that NewTopic, two
// frames up, declares.
func (t *topicState) init(name string, rt reflect.Type, opts []TopicOption) {
	t.name, t.seq, t.tel, t.payload = name, declSeq.Add(1), otelbus.NewTopic(name), rt
	if _, file, line, ok := runtime.Caller(2); ok {
		t.decl = Source{File: file, Line: line}
	}
	for _, o := range opts {
		if o != nil {
			o.applyTopic(&t.cfg)
		}
	}
	if !t.cfg.quiet {
		t.pub0 = t.tel.Publish(0)
	}
	switch {
	case name == "":
		t.err = fmt.Errorf("topic of %s has an empty name", rt)
	case t.cfg.policy > RunAll:
		t.err = fmt.Errorf("topic %q: unknown %v", name, t.cfg.policy)
	case t.cfg.requirement > ExactlyOne:
		t.err = fmt.Errorf("topic %q: unknown %v", name, t.cfg.requirement)
	}
	if t.err != nil && t.decl.File != "" {
		t.err = fmt.Errorf("%w (declared at %s)", t.err, t.decl)
	}
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
		f := *(*func(unsafe.Pointer) []attribute.KeyValue)(unsafe.Pointer(&fn)) // see erasedHandler
		t.attrs.Store(&f)
	}
	return t
}

// When makes a listener of t hear only the events whose payload satisfies
// pred: bus.On(t, h, t.When(pred)). It is checked before the handler's span
// starts, so a filtered-out handler costs no span. Several When options on
// one listener must all hold. The option belongs to t: on a listener of
// another topic, even one with the same payload type, [New] and Subscribe
// fail with a [*WiringError].
//
// A listener scoped to an asset, such as a messaging channel or a data
// table, is a When that compares the payload's asset with the one it
// serves; with a pointer or an integer as the asset's key, rather than a
// name, scoping costs a word compare:
//
//	var Lobby = &Channel{Name: "lobby"}
//	bus.On(Publish, moderate, Publish.When(func(r *PublishReq) bool { return r.Channel == Lobby }))
func (t *Topic[T]) When(pred func(*T) bool) ListenerOption {
	return when(anyTopic(t), eraseFilter(pred))
}

// when is Topic.When without the payload type.
func when(t topicCore, pred erasedFilter) ListenerOption {
	return listenerOptionFunc(func(l *listener) {
		if pred == nil {
			l.optErr = errors.New("When: nil predicate")
			return
		}
		l.filters = append(l.filters, pred)
		l.filterTopics = append(l.filterTopics, t)
	})
}

// Name returns the topic's name.
func (t *Topic[T]) Name() string { return t.name }

// Info describes the topic as a [Catalog] does, without what belongs to a
// bus (its Listeners, Subscriptions and Publishers, which are empty): its
// name, description, payload type and fields, error policy and
// requirement.
func (t *Topic[T]) Info() TopicInfo { return t.info() }

func (t *Topic[T]) state() *topicState { return &t.topicState }

func (t *Topic[T]) box(e unsafe.Pointer) any { return (*T)(e) }

func (t *Topic[T]) unbox(v any) (unsafe.Pointer, bool) {
	e, ok := v.(*T)
	return unsafe.Pointer(e), ok
}

// AnyTopic is a topic of any payload type: what the bus and tooling see of a
// [Topic] without its type parameter. Only *Topic[T] implements it.
type AnyTopic interface {
	Name() string
	Info() TopicInfo
	state() *topicState
	// box returns the payload e, a *T, as an any; unbox is its inverse,
	// false for a value that is not a *T.
	box(e unsafe.Pointer) any
	unbox(v any) (unsafe.Pointer, bool)
}

// topicCore is the bus's untyped handle on a topic: an AnyTopic, whose
// state holds all the bus needs that does not depend on the payload type.
// The methods that do are few, so that each payload type adds little code
// to a program.
type topicCore = AnyTopic

// anyTopic returns t as a topicCore: nil for a nil t.
func anyTopic[T any](t *Topic[T]) topicCore {
	if t == nil {
		return nil
	}
	return t
}

// info describes the topic without its listeners and publishers.
func (t *topicState) info() TopicInfo {
	return TopicInfo{
		Name:        t.name,
		Description: t.cfg.description,
		Payload:     t.payload.String(),
		Fields:      fieldsOf(t.payload),
		ErrorPolicy: t.cfg.policy,
		Requirement: t.cfg.requirement,
	}
}

// A handler or a filter of a topic's listener takes the payload, a *T, as
// an unsafe.Pointer: the dispatch code is not generic, so that each payload
// type does not add a copy of it to the program. Only the static type
// changes: a *T and an unsafe.Pointer are passed alike, and the dispatch
// code passes only payloads of the listener's topic, which are *T.
type (
	erasedHandler = func(context.Context, unsafe.Pointer) error
	erasedFilter  = func(unsafe.Pointer) bool
)

// eraseHandler returns h as the dispatch code calls it.
func eraseHandler[T any](h func(context.Context, *T) error) erasedHandler {
	return *(*erasedHandler)(unsafe.Pointer(&h))
}

// eraseFilter returns f as the dispatch code calls it.
func eraseFilter[T any](f func(*T) bool) erasedFilter {
	return *(*erasedFilter)(unsafe.Pointer(&f))
}

// eraseValue returns h, a func(context.Context, *T) error held in an any
// (a handler a listener's constructor returned), as the dispatch code
// calls it; nil for a nil h.
func eraseValue(h any) erasedHandler {
	if h == nil {
		return nil
	}
	v := reflect.ValueOf(h)
	p := reflect.New(v.Type())
	p.Elem().Set(v)
	return *(*erasedHandler)(p.UnsafePointer())
}
