package bus

import (
	"context"
	"sync/atomic"
	"unsafe"
)

// features holds what a listener may ask for beyond a plain handler: [Once],
// middleware of its own ([Wrap]), or being a bus-wide listener ([OnAll]). Plain listeners
// carry a nil pointer, so the handlers built from them are exactly what
// they were without these features.
type features struct {
	once    *atomic.Bool // Once: set when the listener has fired
	wrap    []Middleware // Wrap
	awaited bool         // Awaited
	wild    *wildcard    // OnAll, OnImplementing: set on the bus-wide declaration
	tmpl    *listener    // set on its instances, one per topic: the declaration
	bus     *Bus         // set on its instances: the bus they are on
}

// feats returns the listener's features, making them on first use.
func (l *listener) feats() *features {
	if l.feat == nil {
		l.feat = &features{}
	}
	return l.feat
}

// filtered reports whether the features add a filter to the handler.
func (f *features) filtered() bool { return f != nil && f.once != nil }

// forBus returns the listener as one bus keeps it: l itself, or for a
// [Once] listener a copy with a flag of its own, so that a listener given to
// two buses fires once on each.
func (l *listener) forBus() *listener {
	if l.feat == nil || l.feat.once == nil {
		return l
	}
	c := *l
	f := *l.feat
	f.once = new(atomic.Bool)
	c.feat = &f
	return &c
}

// Once makes the listener run for one publish only: the first publish that
// reaches it (and passes its other filters) runs it, and no other, even
// when several goroutines publish at once. The listener is then removed
// from the bus: a subscription is closed (see [Subscription.Done]), a
// listener given to [New] leaves its topic. A publish that finds it
// already fired skips it before its span starts.
func Once() ListenerOption {
	return listenerOptionFunc(func(l *listener) { l.feats().once = new(atomic.Bool) })
}

// compile wraps the handler h of listener l on bus b, as
// newHandler built it, in what the bus and the listener ask for, from the
// inside out: the bus's static middleware (see [WithMiddleware]), the
// listener's own ([Wrap]), the middleware installed at run
// time ([Bus.Use]), the observers ([Bus.Tap]), [Once], and the count
// of running calls of an [Awaited] subscription. It is
// the one place where these features touch a handler; a listener that asks
// for none, on a bus without middleware or observers, gets its handler as
// it is: no feature costs anything unless used.
func compile(b *Bus, l *listener, h handler) handler {
	t := l.topic
	fn := adapt(b, t, l, h.fn, b.mw)
	f := l.feat
	if f != nil {
		fn = adapt(b, t, l, fn, f.wrap)
	}
	for i := len(b.live) - 1; i >= 0; i-- {
		fn = adapt(b, t, l, fn, b.live[i].mws)
	}
	if o := b.obs.Load(); o != nil {
		fn = observed(o, t, l, fn)
		if h.filter != nil || (f != nil && f.once != nil) {
			h.skip = o.skipper(t, l)
		}
	}
	if f != nil && f.once != nil {
		fired := f.once
		first := func(unsafe.Pointer) bool { return fired.CompareAndSwap(false, true) }
		if h.filter == nil {
			h.filter = first
		} else {
			h.filter = allOf([]func(unsafe.Pointer) bool{h.filter, first})
		}
		next := fn
		fn = func(ctx context.Context, e unsafe.Pointer) error {
			defer b.retire(l)
			return next(ctx, e)
		}
	}
	if l.sub != nil && f != nil && f.awaited {
		fn = tracked(&l.sub.calls, fn)
	}
	h.fn = fn
	return h
}

// retire removes listener l, a [Once] listener that has fired, from b.
func (b *Bus) retire(l *listener) {
	if l.sub != nil {
		_ = l.sub.Close()
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Load() {
		return
	}
	if l.feat != nil && l.feat.tmpl != nil {
		b.removeWild(l.feat.tmpl)
		return
	}
	if ix := b.index(); ix != nil {
		if n, ok := ix.ids[l.topic]; ok {
			ix.slots[n].remove(b, l)
		}
	}
}

// rebuild compiles every table of b again, after its middleware or
// observers changed; with b.mu held.
func (b *Bus) rebuild() {
	ix := b.index()
	if ix == nil {
		return
	}
	for _, s := range ix.slots {
		if ls := s.listeners(); len(ls) > 0 {
			s.build(b, ls)
		}
	}
}
