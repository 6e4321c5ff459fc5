package bus

import (
	"context"
	"reflect"
	"sync"
	"sync/atomic"
	"unsafe"
)

// FromSource makes the listener hear only the events published with a
// source of type S, or of a type assignable to S, by [Topic.PublishFrom].
// It is the Go form of a listener on a class that hears its subclasses:
// with S an interface, the listener hears every source type that
// implements it (a listener on Ticket hears *UserRequest and *Incident);
// with S a concrete type, it hears that type.
//
// A listener without FromSource hears every publish, with any source or
// none. A listener with FromSource hears no publish without a source, such
// as [Topic.Publish]. Several FromSource options on one listener add up: it
// hears a source assignable to any of them.
//
// PublishFrom allocates nothing, and what it costs beyond Publish does not
// grow with the number of listeners that have FromSource.
func FromSource[S any]() ListenerOption {
	st := reflect.TypeFor[S]()
	return listenerOptionFunc(func(l *listener) {
		x := l.ext()
		x.sources = append(x.sources, st)
	})
}

// PublishFrom is [Topic.Publish] for an event fired by src, its source: it
// runs the handlers that have no [FromSource] constraint, and those whose
// source type src is assignable to, in rank order. A nil src is no source:
// PublishFrom then behaves as Publish.
//
// The source is a property of the firing, not of the payload type: the same
// topic fires with sources of many types, and the publisher says which. When
// handlers need the source object itself, put it in the payload as well.
func (t *Topic[T]) PublishFrom(ctx context.Context, b *Bus, src any, e *T) error {
	if t == nil {
		return nilTopic("publish")
	}
	return publish(ctx, b, t, &t.topicState, src, unsafe.Pointer(e))
}

// sourceIndex picks, for the dynamic type of a publish's source, the
// handlers that hear it. It belongs to one dispatch table, so a
// subscription or a closed one, which make a new table, start a new cache.
type sourceIndex struct {
	tb    *table
	mu    sync.Mutex // serialises writers of cache
	cache atomic.Pointer[map[reflect.Type][][]handler]
}

func newSourceIndex(tb *table) *sourceIndex {
	x := &sourceIndex{tb: tb}
	x.cache.Store(&map[reflect.Type][][]handler{})
	return x
}

// handlers returns the handlers that hear a publish from src (nil: no
// source), as chunks.
func (x *sourceIndex) handlers(src any) [][]handler {
	rt := reflect.TypeOf(src)
	if hs, ok := (*x.cache.Load())[rt]; ok {
		return hs
	}
	return x.resolve(rt)
}

// resolve matches source type rt (nil for no source) against every
// handler, once, and caches the result. The cache is copied on write:
// readers never lock. It only grows, and is bounded by the number of source
// types in the program.
func (x *sourceIndex) resolve(rt reflect.Type) [][]handler {
	x.mu.Lock()
	defer x.mu.Unlock()
	cur := *x.cache.Load()
	if hs, ok := cur[rt]; ok {
		return hs
	}
	var hs []handler
	for _, c := range x.tb.leaves() {
		for _, h := range c {
			if hearsSource(h.l, rt) {
				hs = append(hs, h)
			}
		}
	}
	chunks := [][]handler{hs}
	next := make(map[reflect.Type][][]handler, len(cur)+1)
	for k, v := range cur {
		next[k] = v
	}
	next[rt] = chunks
	x.cache.Store(&next)
	return chunks
}

// hearsSource reports whether listener l hears a source of type rt (nil:
// no source).
func hearsSource(l *listener, rt reflect.Type) bool {
	if l.x == nil || l.x.sources == nil {
		return true
	}
	if rt == nil {
		return false
	}
	for _, st := range l.x.sources {
		if rt.AssignableTo(st) {
			return true
		}
	}
	return false
}
