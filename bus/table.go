package bus

import (
	"context"
	"fmt"
	"sort"
	"sync/atomic"
	"unsafe"
	"weak"

	"github.com/fxbus/fxbus/internal/otelbus"
)

// topicHint remembers where a topic sits in the index of the last bus that
// learned it: a bus id, not a pointer, so it keeps no bus alive.
type topicHint struct {
	bus uint64
	n   int
}

// slot holds one topic's dispatch table on one bus. The dispatch code is
// not generic: handlers take the payload as an unsafe.Pointer (see
// erasedHandler), so that a payload type adds little code to a program.
type slot struct {
	key topicCore // the *Topic[T]
	t   *topicState
	// The methods that change tab (insert, remove, build) run with the
	// bus's mu held; they swap tab for a table with l added, l removed, or
	// exactly ls, and insert fails when the topic cannot take l.
	tab atomic.Pointer[table] // nil: no listener yet
	// root caches, weakly, the depth frame of the last top-level publish
	// with a long-lived context; see enter.
	root atomic.Pointer[weak.Pointer[frame]]
	// plain caches, strongly, the depth frame of the first top-level
	// publish whose context holds no pointer (context.Background()): such
	// a frame keeps nothing of the caller's alive.
	plain atomic.Pointer[frame]
}

// table is an immutable dispatch table: the handlers of one topic on one
// bus, in dispatch order. They sit in the leaves of a B-tree, so that a
// subscription or a closed one copies a path of small nodes, not every
// handler: n subscriptions cost O(n log n), not O(n²).
type table struct {
	root *node
	// chunks lists the leaves in order; set by newTable when the tree is
	// at most two levels deep, else computed by leaves at the first
	// publish that needs it.
	chunks [][]handler
	lazy   atomic.Pointer[[][]handler]
	counts
	publish *otelbus.Publish
	sources *sourceIndex // set when sourced > 0
	obs     *observers   // set while a Tap is installed (see Bus.Tap)
}

// Node sizes: a leaf holds at most leafMax handlers, an inner node at most
// nodeMax children; an insert past that splits the node in halves.
const (
	leafMax = 64
	nodeMax = 32
)

// node is a node of a table's B-tree: a leaf, with handlers, or an inner
// node, with children; every leaf is at the same depth. Nodes are never
// changed once a table holds them, with one exception: a leaf's handlers
// may be appended to in place, past the length every table sees.
type node struct {
	hs   []handler // a leaf's handlers
	kids []*node   // an inner node's children; nil in a leaf
	last *listener // the listener of the last handler under the node
}

func newLeaf(hs []handler) *node {
	return &node{hs: hs, last: hs[len(hs)-1].l}
}

func newInner(kids []*node) *node {
	return &node{kids: kids, last: kids[len(kids)-1].last}
}

// size is the number of a leaf's handlers or of an inner node's children.
func (x *node) size() int {
	if x.kids != nil {
		return len(x.kids)
	}
	return len(x.hs)
}

func (x *node) max() int {
	if x.kids != nil {
		return nodeMax
	}
	return leafMax
}

// insert returns x with h added after every handler that runs before it or
// ties with it: as one node, or as two when x overflows.
func (x *node) insert(h handler) (*node, *node) {
	after := func(l *listener) bool { return byDispatchOrder(l, h.l) > 0 }
	if x.kids == nil {
		i := sort.Search(len(x.hs), func(i int) bool { return after(x.hs[i].l) })
		var hs []handler
		if i == len(x.hs) {
			// At the end: in place when there is room. Only the newest
			// table's leaves grow so (a removal copies, a split caps the
			// first half), and every older table sees a shorter length.
			hs = append(x.hs, h)
		} else {
			hs = make([]handler, 0, len(x.hs)+1)
			hs = append(append(append(hs, x.hs[:i]...), h), x.hs[i:]...)
		}
		if len(hs) > leafMax {
			half := len(hs) / 2
			return newLeaf(hs[:half:half]), newLeaf(hs[half:])
		}
		return newLeaf(hs), nil
	}
	i := sort.Search(len(x.kids), func(i int) bool { return after(x.kids[i].last) })
	i = min(i, len(x.kids)-1)
	a, b := x.kids[i].insert(h)
	kids := make([]*node, 0, len(x.kids)+1)
	kids = append(append(kids, x.kids[:i]...), a)
	if b != nil {
		kids = append(kids, b)
	}
	kids = append(kids, x.kids[i+1:]...)
	if len(kids) > nodeMax {
		half := len(kids) / 2
		return newInner(kids[:half:half]), newInner(kids[half:])
	}
	return newInner(kids), nil
}

// remove returns x without l's handler, nil if that leaves it empty, and
// whether l was there.
func (x *node) remove(l *listener) (*node, bool) {
	notBefore := func(m *listener) bool { return byDispatchOrder(m, l) >= 0 }
	if x.kids == nil {
		i := sort.Search(len(x.hs), func(i int) bool { return notBefore(x.hs[i].l) })
		if i == len(x.hs) || x.hs[i].l != l {
			return x, false
		}
		if len(x.hs) == 1 {
			return nil, true
		}
		hs := make([]handler, 0, len(x.hs)-1)
		return newLeaf(append(append(hs, x.hs[:i]...), x.hs[i+1:]...)), true
	}
	i := sort.Search(len(x.kids), func(i int) bool { return notBefore(x.kids[i].last) })
	if i == len(x.kids) {
		return x, false
	}
	c, ok := x.kids[i].remove(l)
	if !ok {
		return x, false
	}
	kids := make([]*node, 0, len(x.kids))
	kids = append(kids, x.kids[:i]...)
	next := x.kids[i+1:]
	switch {
	case c == nil:
	case c.size() < c.max()/4 && len(next) > 0 && c.size()+next[0].size() <= c.max()/2:
		// Merge a child that shrank with its neighbour, so that closing
		// most subscriptions does not leave a tree of near-empty leaves.
		c, next = merge(c, next[0]), next[1:]
		fallthrough
	default:
		if n := len(kids); n > 0 && c.size() < c.max()/4 && c.size()+kids[n-1].size() <= c.max()/2 {
			kids[n-1] = merge(kids[n-1], c)
		} else {
			kids = append(kids, c)
		}
	}
	kids = append(kids, next...)
	if len(kids) == 0 {
		return nil, true
	}
	return newInner(kids), true
}

// merge returns the node with a's entries then b's, of the same depth.
func merge(a, b *node) *node {
	if a.kids == nil {
		hs := make([]handler, 0, len(a.hs)+len(b.hs))
		return newLeaf(append(append(hs, a.hs...), b.hs...))
	}
	kids := make([]*node, 0, len(a.kids)+len(b.kids))
	return newInner(append(append(kids, a.kids...), b.kids...))
}

// appendLeaves appends the handlers of x's leaves, in order, to dst.
func (x *node) appendLeaves(dst [][]handler) [][]handler {
	if x.kids == nil {
		return append(dst, x.hs)
	}
	for _, k := range x.kids {
		dst = k.appendLeaves(dst)
	}
	return dst
}

// leaves returns the table's handlers, in dispatch order, leaf by leaf.
func (tb *table) leaves() [][]handler {
	if tb.chunks != nil {
		return tb.chunks
	}
	return tb.lazyLeaves()
}

// lazyLeaves lists the leaves of a big table, new since the last publish,
// once. Publishes that race here compute the same list.
func (tb *table) lazyLeaves() [][]handler {
	if p := tb.lazy.Load(); p != nil {
		return *p
	}
	ls := tb.root.appendLeaves(nil)
	tb.lazy.Store(&ls)
	return ls
}

type handler struct {
	fn     func(context.Context, unsafe.Pointer) error
	filter func(unsafe.Pointer) bool // all of the listener's filters, or nil
	l      *listener
	// skip, when set (by a Tap, see observe.go), hears that filter
	// turned the handler down.
	skip func(context.Context)
}

func (s *slot) topic() topicCore { return s.key }

func (s *slot) listeners() []*listener {
	tb := s.tab.Load()
	if tb == nil {
		return nil
	}
	ls := make([]*listener, 0, tb.n)
	for _, c := range tb.leaves() {
		for i := range c {
			ls = append(ls, c[i].l)
		}
	}
	return ls
}

// build sets the slot's table from ls, sorted in dispatch order.
func (s *slot) build(b *Bus, ls []*listener) {
	var cnt counts
	var level []*node
	for len(ls) > 0 {
		n := min(len(ls), leafMax)
		hs := make([]handler, n)
		for i, l := range ls[:n] {
			hs[i] = newHandler(b, l)
			cnt = cnt.add(l, 1)
		}
		level = append(level, newLeaf(hs))
		ls = ls[n:]
	}
	for len(level) > 1 {
		var up []*node
		for len(level) > 0 {
			n := min(len(level), nodeMax)
			up = append(up, newInner(level[:n:n]))
			level = level[n:]
		}
		level = up
	}
	var root *node
	if len(level) > 0 {
		root = level[0]
	}
	s.tab.Store(newTable(b, s, root, cnt))
}

// insert adds l to the slot's table, or fails if the topic cannot take
// another listener.
func (s *slot) insert(b *Bus, l *listener) error {
	cur := s.tab.Load()
	if cur != nil && s.t.cfg.requirement == ExactlyOne && !l.info.Observer && cur.serving > 0 {
		return l.wiringError(fmt.Errorf("%w: needs %v, already has %s", ErrRequirement, ExactlyOne, listenerList(serving(s.listeners()))))
	}
	h := newHandler(b, l)
	if cur == nil {
		s.tab.Store(newTable(b, s, newLeaf([]handler{h}), counts{}.add(l, 1)))
		return nil
	}
	root, split := cur.root.insert(h)
	if split != nil {
		root = newInner([]*node{root, split})
	}
	s.tab.Store(newTable(b, s, root, cur.counts.add(l, 1)))
	return nil
}

// remove takes l out of the slot's table, if it is there.
func (s *slot) remove(b *Bus, l *listener) {
	cur := s.tab.Load()
	if cur == nil {
		return
	}
	root, ok := cur.root.remove(l)
	if !ok {
		return
	}
	for root != nil && root.kids != nil && len(root.kids) == 1 {
		root = root.kids[0]
	}
	s.tab.Store(newTable(b, s, root, cur.counts.add(l, -1)))
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
	if len(l.filters) > 0 || l.owner() != nil || l.feat.filtered() {
		c.filtered += d
	}
	return c
}

// newTable makes the table of the tree root; nil when there are no
// handlers.
func newTable(b *Bus, s *slot, root *node, c counts) *table {
	if c.n == 0 {
		return nil
	}
	tb := &table{root: root, counts: c, obs: b.obs.Load()}
	if root.kids == nil || root.kids[0].kids == nil {
		// At most nodeMax leaves: list them now.
		tb.chunks = root.appendLeaves(make([][]handler, 0, max(1, len(root.kids))))
	}
	if c.sourced > 0 {
		tb.sources = newSourceIndex(tb)
	}
	if b.tracing {
		tb.publish = s.t.tel.Publish(c.n)
	}
	return tb
}

// newHandler compiles listener l on bus b: its handler and all its
// filters, which run before the handler's span starts, then what compile
// adds (middleware, Once, observers, close-and-wait).
func newHandler(b *Bus, l *listener) handler {
	var preds []func(unsafe.Pointer) bool
	if o := l.owner(); o != nil {
		preds = append(preds, func(unsafe.Pointer) bool { return o.Active() })
	}
	preds = append(preds, l.filters...)
	return compile(b, l, handler{fn: l.fn, filter: allOf(preds), l: l})
}

// allOf is the conjunction of preds, in order; nil when there are none.
func allOf(preds []func(unsafe.Pointer) bool) func(unsafe.Pointer) bool {
	switch len(preds) {
	case 0:
		return nil
	case 1:
		return preds[0]
	}
	return func(e unsafe.Pointer) bool {
		for _, p := range preds {
			if !p(e) {
				return false
			}
		}
		return true
	}
}
