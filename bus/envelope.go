package bus

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"unsafe"

	"github.com/fxbus/fxbus/internal/otelbus"
)

// Envelope is an event as a bus-wide listener (see [OnAll]) or a
// [Middleware] sees it: the topic, untyped, the payload, a *T for a
// Topic[T], and the bus. [PayloadOf] gets back to the typed payload.
type Envelope struct {
	// Topic is the topic the event was published on.
	Topic AnyTopic
	// Payload is the event: the *T given to Publish.
	Payload any
	// Bus is the bus the event was published on: a middleware or a
	// bus-wide listener may publish on it, or trace with [Bus.StartSpan].
	Bus *Bus

	l *listener
}

// Listener describes the listener the envelope is being handled by: for a
// [Middleware], the listener it wraps; for a bus-wide listener, its
// instance on the envelope's topic.
func (e Envelope) Listener() ListenerInfo {
	if e.l == nil {
		return ListenerInfo{}
	}
	return e.l.info
}

// PayloadOf returns the envelope's payload typed, when it was published on
// topic t; nil and false otherwise.
//
//	if m, ok := bus.PayloadOf(env, topics.MessagePosted); ok { ... }
func PayloadOf[T any](env Envelope, t *Topic[T]) (*T, bool) {
	if t == nil || env.Topic != AnyTopic(t) {
		return nil, false
	}
	p, ok := env.Payload.(*T)
	return p, ok
}

// Handler is a handler that takes any topic's events, in an [Envelope]: a
// bus-wide listener's (see [OnAll]), or the next handler of a
// [Middleware].
type Handler func(ctx context.Context, env Envelope) error

// wildcard is the declaration of a bus-wide listener: its handler, and the
// payload interface it hears (nil: every topic).
type wildcard struct {
	h     Handler
	iface reflect.Type
	err   error // a declaration mistake, reported by New or Subscribe
}

// hears reports whether the bus-wide listener hears topic t: every topic,
// or those whose payload pointer implements its interface. It is decided
// once per topic, when the bus learns it.
func (w *wildcard) hears(t topicCore) bool {
	return w.iface == nil || reflect.PointerTo(t.state().payload).Implements(w.iface)
}

// check reports the mistakes of bus-wide listener l.
func (w *wildcard) check(l *listener) error {
	err := w.err
	switch {
	case err != nil:
	case w.h == nil:
		err = errNilHandler
	case len(l.filters) > 0:
		err = errors.New("When on a bus-wide listener: it has no topic of its own; filter in the handler")
	case l.optErr != nil:
		err = l.optErr
	}
	if err == nil {
		return nil
	}
	return &WiringError{Listener: l.info.Name, Source: l.info.Source, Err: fmt.Errorf("on every topic: %w", err)}
}

// OnAll declares a bus-wide listener for [New]: h hears every topic the
// bus knows or comes to know, a topic first published after New included.
// It is ranked with each topic's own listeners (by [Rank], then by
// declaration), and spanned as they are, under its name on each topic. It
// is an [Observer]: it never counts toward a topic's [Requirement].
//
// Each topic gets its own instance of the listener when the bus learns the
// topic, so a publish costs what it costs with one more listener, and
// topics the listener does not hear (see [OnImplementing]) pay nothing.
func OnAll(h Handler, opts ...ListenerOption) Listener {
	return declareWild(h, nil, nil, opts)
}

// OnImplementing is [OnAll] for the topics whose payload implements I: a
// Topic[T] whose *T (and so T's methods too) implements the interface I.
// Which topics match is decided once per topic, not per publish; h gets the
// payload as env.Payload, which it may assert to I.
func OnImplementing[I any](h Handler, opts ...ListenerOption) Listener {
	it := reflect.TypeFor[I]()
	var err error
	if it.Kind() != reflect.Interface {
		err = fmt.Errorf("OnImplementing[%s]: not an interface type", it)
	}
	return declareWild(h, it, err, opts)
}

// SubscribeAll adds to the running bus b a bus-wide listener, as [OnAll]
// declares for New. [Subscription.Close] removes it from every topic.
func SubscribeAll(b *Bus, h Handler, opts ...ListenerOption) (*Subscription, error) {
	return b.subscribeWild(declareWild(h, nil, nil, opts))
}

// SubscribeImplementing adds to the running bus b a listener for the
// topics whose payload implements I, as [OnImplementing] declares for New.
func SubscribeImplementing[I any](b *Bus, h Handler, opts ...ListenerOption) (*Subscription, error) {
	it := reflect.TypeFor[I]()
	var err error
	if it.Kind() != reflect.Interface {
		err = fmt.Errorf("SubscribeImplementing[%s]: not an interface type", it)
	}
	return b.subscribeWild(declareWild(h, it, err, opts))
}

// declareWild makes the declaration of a bus-wide listener, attributed to
// the caller of its caller.
func declareWild(h Handler, iface reflect.Type, err error, opts []ListenerOption) *listener {
	l := &listener{seq: declSeq.Add(1), opts: opts}
	if _, file, line, ok := runtime.Caller(2); ok {
		l.info.Source = Source{File: file, Line: line}
	}
	if h != nil {
		l.info.Function, l.info.Name = funcName(h)
	}
	l.info.Observer = true
	for _, o := range opts {
		if o != nil {
			o.applyListener(l)
		}
	}
	l.feats().wild = &wildcard{h: h, iface: iface, err: err}
	if o := l.owner(); o != nil { // see OwnedBy; as setHandler does
		l.info.Plugin = o.Name()
		l.info.Name = o.Name() + "/" + l.info.Name
	}
	return l
}

// wildOn is a bus-wide listener on one bus: its declaration and its
// instance on each topic it hears; guarded by the bus's mu.
type wildOn struct {
	tmpl *listener
	inst map[topicCore]*listener
}

// instance makes the instance of the bus-wide listener w on topic t.
func (w *wildOn) instance(b *Bus, t topicCore) *listener {
	tl := w.tmpl
	l := &listener{topic: t, info: tl.info, seq: tl.seq, sub: tl.sub, x: tl.x}
	l.info.Subscribed = tl.sub != nil
	l.feat = &features{once: tl.feat.once, wrap: tl.feat.wrap, awaited: tl.feat.awaited, tmpl: tl, bus: b}
	l.fn = envelopeHandler(t, tl.feat.wild.h, l)
	l.tel = otelbus.NewListener(otelbus.ListenerSpec{
		Topic: t.Name(), Name: l.info.Name, Rank: l.info.Rank, Module: l.info.Module, Plugin: l.info.Plugin,
		Source: otelbus.Source{Function: l.info.Function, File: l.info.Source.File, Line: l.info.Source.Line},
	})
	w.inst[t] = l
	return l
}

// envelopeHandler returns h as a handler of t for listener l, the
// instance of a bus-wide listener on t.
func envelopeHandler(t topicCore, h Handler, l *listener) erasedHandler {
	b := l.feat.bus
	return func(ctx context.Context, e unsafe.Pointer) error {
		return h(ctx, Envelope{Topic: t, Payload: t.box(e), Bus: b, l: l})
	}
}

// addWild adds the bus-wide listener declared by tmpl to b, on every topic
// it hears; with b.mu held.
func (b *Bus) addWild(tmpl *listener) {
	w := &wildOn{tmpl: tmpl, inst: map[topicCore]*listener{}}
	b.wild = append(b.wild, w)
	b.hasWild.Store(true)
	if ix := b.index(); ix != nil {
		for _, s := range ix.slots {
			if t := s.topic(); tmpl.feat.wild.hears(t) {
				_ = s.insert(b, w.instance(b, t)) // an observer: it always fits
			}
		}
	}
}

// wildLearn adds the bus-wide listeners that hear t to its new slot s;
// with b.mu held.
func (b *Bus) wildLearn(t topicCore, s *slot) {
	for _, w := range b.wild {
		if w.tmpl.feat.wild.hears(t) {
			_ = s.insert(b, w.instance(b, t))
		}
	}
}

// removeWild removes the bus-wide listener declared by tmpl from every
// topic of b; with b.mu held.
func (b *Bus) removeWild(tmpl *listener) {
	for i, w := range b.wild {
		if w.tmpl != tmpl {
			continue
		}
		b.wild = append(b.wild[:i:i], b.wild[i+1:]...)
		b.hasWild.Store(len(b.wild) > 0)
		if ix := b.index(); ix != nil {
			for t, l := range w.inst {
				if n, ok := ix.ids[t]; ok {
					ix.slots[n].remove(b, l)
				}
			}
		}
		return
	}
}

// learnPublished makes b learn topic t, published while b does not know
// it, so that its bus-wide listeners hear it. It reports whether b knows t
// now.
func (b *Bus) learnPublished(t topicCore) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Load() || b.waiting.Load() || len(b.wild) == 0 || t.state().err != nil {
		return false
	}
	if checkNewTopicName(b.index(), t) != nil {
		return false // a topic under another's name: left to Publish's usual path
	}
	b.learn(t)
	return true
}

// subscribeWild adds the bus-wide listener declared by tmpl to the running
// bus b.
func (b *Bus) subscribeWild(tmpl *listener) (*Subscription, error) {
	if b == nil {
		return nil, fmt.Errorf("fxbus: subscribe to every topic: %w", errNilBus)
	}
	if err := tmpl.feat.wild.check(tmpl); err != nil {
		return nil, err
	}
	s := &Subscription{b: b, l: tmpl}
	tmpl.sub = s
	tmpl.info.Subscribed = true
	o := tmpl.owner()
	if o != nil {
		if err := o.Attach(s); err != nil {
			return nil, &WiringError{Listener: tmpl.info.Name, Source: tmpl.info.Source, Err: fmt.Errorf("on every topic: %w", err)}
		}
	}
	b.mu.Lock()
	closed := b.closed.Load()
	if !closed {
		b.addWild(tmpl)
		if s.closed.Load() {
			// Closed while being added, by its owner say: Close found
			// nothing to remove.
			b.removeWild(tmpl)
		}
	}
	b.mu.Unlock()
	if closed {
		if o != nil {
			o.Detach(s)
		}
		return nil, fmt.Errorf("fxbus: subscribe to every topic: %w", b.closedErr())
	}
	return s, nil
}
