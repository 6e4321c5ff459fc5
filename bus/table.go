package bus

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"weak"

	"github.com/fxbus/fxbus/internal/otelbus"
)

// topicHint remembers where a topic sits in the index of the last bus that
// learned it: a bus id, not a pointer, so it keeps no bus alive.
type topicHint struct {
	bus uint64
	n   int
}

// slot holds one topic's dispatch table on one bus.
type slot[T any] struct {
	t   *Topic[T]
	tab atomic.Pointer[table[T]] // nil: no listener yet
	// root caches, weakly, the depth frame of the last top-level publish
	// with a long-lived context; see enter.
	root atomic.Pointer[weak.Pointer[frame]]
	// plain caches, strongly, the depth frame of the first top-level
	// publish whose context holds no pointer (context.Background()): such
	// a frame keeps nothing of the caller's alive.
	plain atomic.Pointer[frame]
}

// table is an immutable dispatch table: the handlers of one topic on one
// bus, in dispatch order, in chunks of at most chunkSize, so that adding or
// removing one copies one chunk and the list of chunks, not every handler.
type table[T any] struct {
	chunks [][]handler[T]
	counts
	publish *otelbus.Publish
	sources *sourceIndex[T] // set when sourced > 0
	obs     *observers      // set while a Tap is installed (see Bus.Tap)
}

// maxChunk is the size past which a chunk of a table with n handlers
// splits: about √n, so that copying a chunk and copying the list of chunks
// cost about the same, and a subscription costs O(√n), not O(n).
func maxChunk(n int) int {
	c := 64
	for c*c < n {
		c *= 2
	}
	return c
}

type handler[T any] struct {
	fn     func(context.Context, *T) error
	filter func(*T) bool // all of the listener's filters, or nil
	l      *listener
	// skip, when set (by a Tap, see observe.go), hears that filter
	// turned the handler down.
	skip func(context.Context)
}

func (s *slot[T]) topic() topicCore { return s.t }

func (s *slot[T]) listeners() []*listener {
	tb := s.tab.Load()
	if tb == nil {
		return nil
	}
	ls := make([]*listener, 0, tb.n)
	for _, c := range tb.chunks {
		for i := range c {
			ls = append(ls, c[i].l)
		}
	}
	return ls
}

// build sets the slot's table from ls, sorted in dispatch order.
func (s *slot[T]) build(b *Bus, ls []*listener) {
	var chunks [][]handler[T]
	var cnt counts
	for _, l := range ls {
		cnt = cnt.add(l, 1)
	}
	size := maxChunk(len(ls))
	for len(ls) > 0 {
		n := min(len(ls), size)
		c := make([]handler[T], n)
		for i, l := range ls[:n] {
			c[i] = newHandler(b, s.t, l)
		}
		chunks = append(chunks, c)
		ls = ls[n:]
	}
	s.tab.Store(newTable(b, s.t, chunks, cnt))
}

// insert adds l to the slot's table, or fails if the topic cannot take
// another listener.
func (s *slot[T]) insert(b *Bus, l *listener) error {
	cur := s.tab.Load()
	if cur != nil && s.t.cfg.requirement == ExactlyOne && !l.info.Observer && cur.serving > 0 {
		return l.wiringError(fmt.Errorf("%w: needs %v, already has %s", ErrRequirement, ExactlyOne, listenerList(serving(s.listeners()))))
	}
	h := newHandler(b, s.t, l)
	var chunks [][]handler[T]
	var cnt counts
	if cur != nil {
		chunks, cnt = cur.chunks, cur.counts
	}
	cnt = cnt.add(l, 1)
	if len(chunks) == 0 {
		s.tab.Store(newTable(b, s.t, [][]handler[T]{{h}}, cnt))
		return nil
	}
	// The first chunk whose last handler runs after l takes it; else the last.
	ci, _ := slices.BinarySearchFunc(chunks, l, func(c []handler[T], l *listener) int {
		return byDispatchOrder(c[len(c)-1].l, l)
	})
	ci = min(ci, len(chunks)-1)
	c := chunks[ci]
	i, _ := slices.BinarySearchFunc(c, l, func(h handler[T], l *listener) int { return byDispatchOrder(h.l, l) })
	var nc []handler[T]
	if i == len(c) && len(c) < cap(c) {
		// At the end of a chunk with room, which only this table's
		// writers extend (a removal copies): tables sharing the array
		// never look past their own length.
		nc = append(c, h)
	} else {
		nc = make([]handler[T], 0, len(c)+1+len(c)/2)
		nc = append(append(append(nc, c[:i]...), h), c[i:]...)
	}
	next := make([][]handler[T], 0, len(chunks)+1)
	next = append(next, chunks[:ci]...)
	if len(nc) > maxChunk(cnt.n) {
		half := len(nc) / 2
		next = append(next, nc[:half:half], nc[half:])
	} else {
		next = append(next, nc)
	}
	next = append(next, chunks[ci+1:]...)
	s.tab.Store(newTable(b, s.t, next, cnt))
	return nil
}

// remove takes l out of the slot's table, if it is there.
func (s *slot[T]) remove(b *Bus, l *listener) {
	cur := s.tab.Load()
	if cur == nil {
		return
	}
	chunks := cur.chunks
	ci, _ := slices.BinarySearchFunc(chunks, l, func(c []handler[T], l *listener) int {
		return byDispatchOrder(c[len(c)-1].l, l)
	})
	if ci == len(chunks) {
		return
	}
	c := chunks[ci]
	i, found := slices.BinarySearchFunc(c, l, func(h handler[T], l *listener) int { return byDispatchOrder(h.l, l) })
	if !found || c[i].l != l {
		return
	}
	next := make([][]handler[T], 0, len(chunks))
	next = append(next, chunks[:ci]...)
	if len(c) > 1 {
		nc := make([]handler[T], 0, len(c)-1)
		next = append(next, append(append(nc, c[:i]...), c[i+1:]...))
	}
	next = append(next, chunks[ci+1:]...)
	s.tab.Store(newTable(b, s.t, next, cur.counts.add(l, -1)))
}

// counts is how many handlers a table has, and of which kinds.
type counts struct {
	n        int // handlers
	serving  int // listeners that count toward the topic's Requirement
	sourced  int // listeners with a source type (see FromSource)
	filtered int // handlers with a filter
}

// add returns c with listener l added (d = 1) or removed (d = -1).
func (c counts) add(l *listener, d int) counts {
	c.n += d
	if !l.info.Observer {
		c.serving += d
	}
	if l.x != nil && l.x.sources != nil {
		c.sourced += d
	}
	if len(l.filters) > 0 || (l.x != nil && (l.x.plugin != nil || len(l.x.rules) > 0)) || l.feat.filtered() {
		c.filtered += d
	}
	return c
}

// newTable makes the table of chunks; nil when there are no handlers.
func newTable[T any](b *Bus, t *Topic[T], chunks [][]handler[T], c counts) *table[T] {
	if c.n == 0 {
		return nil
	}
	tb := &table[T]{chunks: chunks, counts: c, obs: b.obs.Load()}
	if c.sourced > 0 {
		tb.sources = newSourceIndex(tb)
	}
	if b.tracing {
		tb.publish = t.tel.Publish(c.n)
	}
	return tb
}

// newHandler compiles listener l of topic t on bus b: its handler and all
// its filters, which run before the handler's span starts, then what
// compile adds (middleware, Once, AfterCommit, observers, close-and-wait).
func newHandler[T any](b *Bus, t *Topic[T], l *listener) handler[T] {
	var preds []func(*T) bool
	if l.x != nil && l.x.plugin != nil {
		p := l.x.plugin
		preds = append(preds, func(*T) bool { return !p.off.Load() })
	}
	for _, f := range l.filters {
		preds = append(preds, f.(func(*T) bool))
	}
	if l.x != nil {
		for _, rs := range l.x.rules {
			preds = append(preds, ruleFilter(rs, t))
		}
	}
	return compile(b, t, l, handler[T]{fn: l.handler.(func(context.Context, *T) error), filter: allOf(preds), l: l})
}

// allOf is the conjunction of preds, in order; nil when there are none.
func allOf[T any](preds []func(*T) bool) func(*T) bool {
	switch len(preds) {
	case 0:
		return nil
	case 1:
		return preds[0]
	}
	return func(e *T) bool {
		for _, p := range preds {
			if !p(e) {
				return false
			}
		}
		return true
	}
}
