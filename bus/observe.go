package bus

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"go.opentelemetry.io/otel/attribute"
)

// Tap sees what a bus does while it is installed with [Bus.Tap]:
// every publish, whether anybody listens or not, and every handler call,
// with its listener, context, timing and outcome, handlers that a filter
// turned down included. A live debug page, a recorder of traffic or a
// statistics collector is a Tap.
//
// Its methods are called in the publisher's goroutine, from any number of
// goroutines at once, while the publish waits: they must be quick, never
// block, and never panic. An observer that feeds a slow consumer should
// drop rather than wait.
type Tap interface {
	// PublishStarted is called when a publish begins, before its first
	// handler.
	PublishStarted(PublishEvent)
	// PublishDone is called when a publish returns, with its duration and
	// what it returns.
	PublishDone(PublishEvent)
	// HandlerDone is called when a handler call ends, or when a filter
	// turned the handler down.
	HandlerDone(HandlerCall)
}

// PublishEvent is a publish, as a [Tap] sees it.
type PublishEvent struct {
	// Seq numbers the publish. Publishes and handler calls share one
	// increasing sequence, counted only while a tap is installed.
	Seq uint64
	// Parent is the Seq of the handler call that made this publish, with
	// its context (or one derived from it) while it ran; 0 for a publish
	// made outside any handler.
	Parent uint64
	// Topic is the topic published.
	Topic AnyTopic
	// Ctx is the publisher's context.
	Ctx context.Context
	// Start is when the publish began.
	Start time.Time
	// Duration is how long the publish took; 0 in PublishStarted.
	Duration time.Duration
	// Handlers is how many handlers the topic has on the bus (some may be
	// filtered out); 0 when nobody listens.
	Handlers int
	// Err is what the publish returns; nil in PublishStarted.
	Err error
	// Attributes are the payload's content that the topic opted in to
	// showing, with [Topic.SpanAttributes]: what its publish span gets.
	// Nil for a topic that did not opt in, which shows no payload content.
	Attributes []attribute.KeyValue
}

// HandlerCall is one handler call, as a [Tap] sees it.
type HandlerCall struct {
	// Seq numbers the call, in the sequence of [PublishEvent.Seq].
	Seq uint64
	// Publish is the Seq of the publish the call belongs to; 0 for a call
	// outside a publish.
	Publish uint64
	// Topic is the topic published.
	Topic AnyTopic
	// Listener is the listener called.
	Listener ListenerInfo
	// Ctx is the context the handler got, with its span when tracing is
	// on: trace.SpanContextFromContext(c.Ctx) gives the trace and span ids.
	Ctx context.Context
	// Start is when the call began.
	Start time.Time
	// Duration is how long it took; 0 for a handler filtered out.
	Duration time.Duration
	// Outcome says how it ended.
	Outcome Outcome
	// Err is the handler's error, for OutcomeError.
	Err error
}

// Outcome is how a handler call ended.
type Outcome uint8

const (
	// OutcomeOK is a handler that returned nil.
	OutcomeOK Outcome = iota
	// OutcomeError is a handler that returned an error.
	OutcomeError
	// OutcomeStopped is a handler that returned [ErrStop].
	OutcomeStopped
	// OutcomePanic is a handler that panicked (or called runtime.Goexit).
	OutcomePanic
	// OutcomeFiltered is a handler a filter turned down, such as
	// [Topic.When]: it was not called.
	OutcomeFiltered
)

// String returns "ok", "error", "stopped", "panic" or "filtered".
func (o Outcome) String() string {
	switch o {
	case OutcomeOK:
		return "ok"
	case OutcomeError:
		return "error"
	case OutcomeStopped:
		return "stopped"
	case OutcomePanic:
		return "panic"
	case OutcomeFiltered:
		return "filtered"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// observeSeq numbers publishes and handler calls while observers are
// installed, on every bus: the numbers are unique in the process.
var observeSeq atomic.Uint64

// observers is the immutable list of a bus's observers.
type observers struct{ list []Tap }

// observerEntry is one Tap call.
type observerEntry struct{ o Tap }

// Tap installs o on the running bus b, from the next publish on, until
// remove is called; the bus rebuilds its dispatch tables at both. While
// no tap is installed, the bus neither numbers publishes nor wraps
// handlers: observing costs nothing unless used. A publish already running
// when remove returns may still report to o.
//
// remove is idempotent. Tap fails with [ErrClosed] on a closed bus.
func (b *Bus) Tap(o Tap) (remove func(), err error) {
	if b == nil {
		return nil, fmt.Errorf("fxbus: tap: %w", errNilBus)
	}
	if o == nil {
		return nil, errors.New("fxbus: tap: nil Tap")
	}
	e := &observerEntry{o: o}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Load() {
		return nil, fmt.Errorf("fxbus: tap: %w", b.closedErr())
	}
	b.obsList = append(b.obsList, e)
	b.setObservers()
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		for i, x := range b.obsList {
			if x == e {
				b.obsList = append(b.obsList[:i:i], b.obsList[i+1:]...)
				b.setObservers()
				return
			}
		}
	}, nil
}

// setObservers publishes the snapshot of b's observers and rebuilds its
// tables; with b.mu held.
func (b *Bus) setObservers() {
	if len(b.obsList) == 0 {
		b.obs.Store(nil)
	} else {
		o := &observers{list: make([]Tap, len(b.obsList))}
		for i, e := range b.obsList {
			o.list[i] = e.o
		}
		b.obs.Store(o)
	}
	if !b.closed.Load() {
		b.rebuild()
	}
}

func (o *observers) started(ev PublishEvent) {
	for _, x := range o.list {
		x.PublishStarted(ev)
	}
}

func (o *observers) done(ev PublishEvent) {
	for _, x := range o.list {
		x.PublishDone(ev)
	}
}

func (o *observers) handler(c HandlerCall) {
	for _, x := range o.list {
		x.HandlerDone(c)
	}
}

// unheard reports a publish of t, with payload e, that found no handler.
func (o *observers) unheard(ctx context.Context, t AnyTopic, ts *topicState, e unsafe.Pointer) {
	ev := PublishEvent{Seq: observeSeq.Add(1), Parent: parentCall(ctx), Topic: t, Ctx: ctx, Start: time.Now(),
		Attributes: ts.tapAttrs(e)}
	o.started(ev)
	o.done(ev)
}

// tapAttrs returns the attributes the topic's SpanAttributes function
// gives payload e, for a tap; nil when the topic did not opt in. Called
// only while a tap is installed.
func (t *topicState) tapAttrs(e unsafe.Pointer) []attribute.KeyValue {
	if fn := t.attrs.Load(); fn != nil {
		return (*fn)(e)
	}
	return nil
}

// pubCtx marks the context of an observed publish with its number.
type pubCtx struct {
	context.Context
	seq uint64
}

type pubKey struct{}

func (c *pubCtx) Value(key any) any {
	if key == (pubKey{}) {
		return c
	}
	return c.Context.Value(key)
}

// callCtx marks the context of an observed handler call with its number,
// so that a publish made with it knows its parent.
type callCtx struct {
	context.Context
	seq    uint64
	parent *callCtx
	ended  atomic.Bool
}

type callKey struct{}

func (c *callCtx) Value(key any) any {
	if key == (callKey{}) {
		return c
	}
	return c.Context.Value(key)
}

// parentCall returns the number of the innermost observed handler call of
// ctx that is still running; 0 for none.
func parentCall(ctx context.Context) uint64 {
	c, _ := ctx.Value(callKey{}).(*callCtx)
	for c != nil && c.ended.Load() {
		c = c.parent
	}
	if c == nil {
		return 0
	}
	return c.seq
}

// observe is a publish of s's topic with table tb, whose observers see it.
func (s *slot) observe(tb *table, ctx context.Context, b *Bus, src any, e unsafe.Pointer) error {
	o := tb.obs
	ev := PublishEvent{Seq: observeSeq.Add(1), Parent: parentCall(ctx), Topic: s.key, Ctx: ctx, Start: time.Now(), Handlers: tb.n,
		Attributes: s.t.tapAttrs(e)}
	o.started(ev)
	err := s.dispatch(tb, &pubCtx{Context: ctx, seq: ev.Seq}, b, src, e)
	ev.Duration, ev.Err = time.Since(ev.Start), err
	o.done(ev)
	return err
}

// observed wraps fn, the handler of listener l of topic t, so that the
// observers o see its calls.
func observed(o *observers, t AnyTopic, l *listener, fn func(context.Context, unsafe.Pointer) error) func(context.Context, unsafe.Pointer) error {
	return func(ctx context.Context, e unsafe.Pointer) (err error) {
		c := HandlerCall{Seq: observeSeq.Add(1), Topic: t, Listener: l.info, Ctx: ctx, Start: time.Now()}
		if p, ok := ctx.Value(pubKey{}).(*pubCtx); ok {
			c.Publish = p.seq
		}
		cc := &callCtx{Context: ctx, seq: c.Seq}
		cc.parent, _ = ctx.Value(callKey{}).(*callCtx)
		returned := false
		defer func() {
			cc.ended.Store(true)
			c.Duration = time.Since(c.Start)
			switch {
			case !returned:
				c.Outcome = OutcomePanic
			case err == nil:
			case isStop(err):
				c.Outcome = OutcomeStopped
			default:
				c.Outcome, c.Err = OutcomeError, err
			}
			o.handler(c)
		}()
		err = fn(cc, e)
		returned = true
		return err
	}
}

// skipper returns what reports listener l of topic t filtered out.
func (o *observers) skipper(t AnyTopic, l *listener) func(context.Context) {
	return func(ctx context.Context) {
		c := HandlerCall{Seq: observeSeq.Add(1), Topic: t, Listener: l.info, Ctx: ctx, Start: time.Now(), Outcome: OutcomeFiltered}
		if p, ok := ctx.Value(pubKey{}).(*pubCtx); ok {
			c.Publish = p.seq
		}
		o.handler(c)
	}
}
