package bus

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"time"
	"unsafe"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/fxbus/fxbus/internal/otelbus"
)

// table is the frozen dispatch table of one topic on one bus.
type table[T any] struct {
	topic    *Topic[T]
	handlers []handler[T] // in dispatch order
	publish  *otelbus.Publish
	// root caches the depth frame of the last top-level publish, reused when
	// the next one comes with the same context: publishing with a long-lived
	// context then allocates nothing.
	root atomic.Pointer[frame]
	// sources, when some listener has a source type (see FromSource), picks
	// the handlers for a publish's source; nil otherwise.
	sources *sourceIndex[T]
	// filtered is set when a handler has a filter (When, WithRules,
	// ForAsset); without, the loop skips the check.
	filtered bool
}

type handler[T any] struct {
	fn     func(context.Context, *T) error
	filter func(*T) bool // all of the listener's filters, or nil
	l      *listener
}

func (t *Topic[T]) build(b *Bus, ls []*listener) any {
	if len(ls) == 0 {
		return nil
	}
	tb := &table[T]{topic: t, handlers: make([]handler[T], len(ls))}
	for i, l := range ls {
		var preds []func(*T) bool
		for _, f := range l.filters {
			preds = append(preds, f.(func(*T) bool))
		}
		if l.x != nil {
			for _, rs := range l.x.rules {
				preds = append(preds, ruleFilter(rs, t))
			}
		}
		tb.handlers[i] = handler[T]{fn: l.handler.(func(context.Context, *T) error), filter: allOf(preds), l: l}
		tb.filtered = tb.filtered || len(preds) > 0
	}
	tb.finish()
	if b.tracing {
		tb.publish = t.tel.Publish(len(ls))
	}
	return tb
}

// frame marks a context as inside a publish, so that a nested publish knows
// its depth and the chain of topics. It is immutable but for the cache of
// its child.
type frame struct {
	context.Context
	done   <-chan struct{} // Context.Done(), asked once
	topic  int
	name   string
	depth  int
	parent *frame
	child  atomic.Pointer[frame]
}

type frameKey struct{}

func (f *frame) Value(key any) any {
	if key == (frameKey{}) {
		return f
	}
	return f.Context.Value(key)
}

// sameContext reports whether a and b are the very same context: the same
// dynamic type and the same data word. That is identity, not ==, so it
// never panics on a context type that is not comparable; two equal values
// boxed apart compare unequal, which only costs the cache a miss.
func sameContext(a, b context.Context) bool {
	type iface struct{ tab, data unsafe.Pointer }
	x, y := (*iface)(unsafe.Pointer(&a)), (*iface)(unsafe.Pointer(&b))
	return x.tab == y.tab && x.data == y.data
}

// enter returns the frame for a publish of topic at depth under parent with
// context ctx, reusing the cached one in slot when it matches.
func enter(slot *atomic.Pointer[frame], ctx context.Context, topic int, name string, depth int, parent *frame, cache bool) *frame {
	if f := slot.Load(); f != nil && f.topic == topic && sameContext(f.Context, ctx) {
		return f
	}
	f := &frame{Context: ctx, done: ctx.Done(), topic: topic, name: name, depth: depth, parent: parent}
	if cache {
		slot.Store(f)
	}
	return f
}

func depthError(parent *frame, name string, limit int) error {
	chain := []string{name}
	for f := parent; f != nil; f = f.parent {
		chain = append(chain, f.name)
	}
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	return &DepthError{Chain: chain, Limit: limit}
}

// Publish runs the topic's handlers for event e, synchronously, in rank
// order, in the caller's goroutine; every handler gets the same e. It
// returns nil when every handler succeeded or one returned [ErrStop];
// otherwise, under the topic's [ErrorPolicy], the first [*HandlerError] or
// all of them joined. A done ctx stops dispatch before the next handler,
// with ctx.Err() wrapped. It fails with [ErrClosed] once b is closed.
//
// Handlers get ctx wrapped in a small frame that tells a nested publish its
// depth (see [WithMaxDepth]). Without telemetry, a publish allocates
// nothing when the context is the one the topic's last top-level publish
// used (a long-lived context, such as a worker's); a new context, such as
// each request's, costs one small allocation, and the topic keeps that
// context referenced until its next publish. [WithMaxDepth](0) turns frames
// off.
func (t *Topic[T]) Publish(ctx context.Context, b *Bus, e *T) error {
	return t.publish(ctx, b, nil, e)
}

// publish is Publish with a source (see PublishFrom); nil for none.
func (t *Topic[T]) publish(ctx context.Context, b *Bus, src any, e *T) error {
	switch {
	case t == nil:
		return errors.New("fxbus: Publish on a nil topic")
	case b == nil:
		return fmt.Errorf("fxbus: publish %q: %w", t.name, ErrNilBus)
	case e == nil:
		return fmt.Errorf("fxbus: publish %q: %w", t.name, ErrNilPayload)
	case ctx == nil:
		return fmt.Errorf("fxbus: publish %q: %w", t.name, ErrNilContext)
	}
	st := b.state.Load()
	if st == nil { // the zero Bus: nobody listens yet
		return nil
	}
	if st.closed {
		return st.closedErr(t.name)
	}
	var tb *table[T]
	if t.id < len(st.tables) {
		tb, _ = st.tables[t.id].(*table[T])
	}
	if tb == nil {
		if st.telemetryLater {
			if err := b.wakeTelemetry(); err != nil {
				return err
			}
			return t.publish(ctx, b, src, e)
		}
		if st.unheard != nil {
			st.unheard.published(t.id)
		}
		if b.tracing {
			_, span := b.inst.StartPublish(ctx, t.pub0, t.spanAttrs(e))
			span.End()
		}
		return nil
	}
	return tb.dispatch(ctx, b, src, e)
}

func (t *Topic[T]) spanAttrs(e *T) func() []attribute.KeyValue {
	if t.attrs == nil {
		return nil
	}
	return func() []attribute.KeyValue { return t.attrs(e) }
}

func (tb *table[T]) dispatch(ctx context.Context, b *Bus, src any, e *T) error {
	hs := tb.handlers
	if tb.sources != nil {
		hs = tb.sources.handlers(src)
	}
	limit := b.depthLimit()
	if !b.tracing && !b.metrics {
		// The common path: no telemetry. Run the handlers in a tight loop
		// until one fails, panics or finds the context done; only then
		// set up the accounting.
		hctx, done := context.Context(ctx), (<-chan struct{})(nil)
		if limit > 0 {
			// A long-lived context publishing again finds its frame cached
			// and is known to be top-level: contexts are immutable, and only
			// contexts without a frame are cached at the root. Else, walk
			// the context for the frame of an enclosing publish.
			f := tb.root.Load()
			if f == nil || !sameContext(f.Context, ctx) {
				parent, _ := ctx.Value(frameKey{}).(*frame)
				depth := 1
				if parent != nil {
					depth = parent.depth + 1
				}
				if depth > limit {
					return depthError(parent, tb.topic.name, limit)
				}
				f = enter(tb.slot(parent), ctx, tb.topic.id, tb.topic.name, depth, parent, true)
			}
			hctx, done = f, f.done
		} else {
			done = ctx.Done()
		}
		n, p, err := run(hctx, done, tb.filtered, hs, e, 0)
		if n == len(hs) {
			return nil
		}
		d := dispatcher[T]{b: b, tb: tb, hs: hs, e: e, ctx: hctx}
		for {
			if err == errDone {
				d.ctxErr = d.cancelError(&hs[n], ctx)
				break
			}
			if p != nil {
				err = p
			}
			if d.finish(&hs[n], err) {
				break
			}
			if n, p, err = run(hctx, done, tb.filtered, hs, e, n+1); n == len(hs) {
				break
			}
		}
		return d.result()
	}

	var parent *frame
	depth := 0
	if limit > 0 {
		parent, _ = ctx.Value(frameKey{}).(*frame)
		depth = 1
		if parent != nil {
			depth = parent.depth + 1
		}
		if depth > limit {
			return depthError(parent, tb.topic.name, limit)
		}
	}
	d := dispatcher[T]{b: b, tb: tb, hs: hs, e: e, ctx: ctx, done: ctx.Done()}
	if b.tracing {
		d.ctx, d.pub = b.inst.StartPublish(ctx, tb.publish, tb.topic.spanAttrs(e))
		d.spans = d.pub.IsRecording()
	}
	if limit > 0 {
		// With tracing, the context is new at every publish: caching it would only churn.
		d.ctx = enter(tb.slot(parent), d.ctx, tb.topic.id, tb.topic.name, depth, parent, !b.tracing)
	}
	for d.loop() {
		// A handler panicked: loop recovered it once for the whole publish;
		// account for it and resume after that handler.
		h := &d.hs[d.i]
		perr := &PanicError{Value: d.panicValue, Stack: d.stack}
		d.panicValue, d.stack = nil, nil
		if d.finish(h, perr) {
			break
		}
		d.i++
	}
	return d.result()
}

// slot is where the depth frame of a publish under parent is cached.
func (tb *table[T]) slot(parent *frame) *atomic.Pointer[frame] {
	if parent != nil {
		return &parent.child
	}
	return &tb.root
}

// errDone tells dispatch that run stopped at a handler because the
// publisher's context is done.
var errDone = errors.New("fxbus: context done")

// run calls hs[i:] in order, without telemetry, and returns at the first
// handler that fails (with its error), panics (with the panic, recovered:
// once for the whole publish, not once per handler) or finds done closed
// (with errDone), or with n == len(hs) when all succeeded. filtered says
// whether any handler may have a filter.
func run[T any](ctx context.Context, done <-chan struct{}, filtered bool, hs []handler[T], e *T, i int) (n int, p *PanicError, err error) {
	defer func() {
		if v := recover(); v != nil {
			p = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	if done == nil && !filtered {
		// Nothing to check between handlers: a context that never ends, no
		// filters.
		for n = i; n < len(hs); n++ {
			if err = hs[n].fn(ctx, e); err != nil {
				return n, nil, err
			}
		}
		return n, nil, nil
	}
	for n = i; n < len(hs); n++ {
		h := &hs[n]
		if done != nil {
			select {
			case <-done:
				return n, nil, errDone
			default:
			}
		}
		if h.filter != nil && !h.filter(e) {
			continue
		}
		if err = h.fn(ctx, e); err != nil {
			return n, nil, err
		}
	}
	return n, nil, nil
}

// dispatcher is the state of one publish. It lives on the publisher's stack.
type dispatcher[T any] struct {
	b     *Bus
	tb    *table[T]
	hs    []handler[T] // the handlers that hear this publish, in dispatch order
	e     *T
	ctx   context.Context // what handlers get, before their own span
	done  <-chan struct{} // the publisher's ctx.Done(); nil if it never ends
	pub   trace.Span      // the publish span, or nil
	spans bool            // whether to open handler spans
	i     int             // the handler running
	span  trace.Span      // its span, or nil
	start time.Time       // its start, when measuring

	err        error   // under StopOnError
	errs       []error // under RunAll
	ctxErr     error
	panicValue any
	stack      []byte
}

// loop runs the handlers from d.i on, with telemetry. It reports true when a handler
// panicked, with d.i at that handler and the panic in d.
func (d *dispatcher[T]) loop() (panicked bool) {
	defer func() {
		if v := recover(); v != nil {
			d.panicValue, d.stack, panicked = v, debug.Stack(), true
		}
	}()
	hs := d.hs
	for ; d.i < len(hs); d.i++ {
		h := &hs[d.i]
		if d.done != nil && d.cancelled(h) {
			return false
		}
		if h.filter != nil && !h.filter(d.e) {
			continue
		}
		hctx := d.ctx
		if d.spans {
			hctx, d.span = d.b.inst.StartHandler(d.ctx, h.l.tel)
		}
		if d.b.metrics {
			d.start = time.Now()
		}
		if d.finish(h, h.fn(hctx, d.e)) {
			return false
		}
	}
	return false
}

// cancelled reports whether the publisher's context is done, before
// handler h, and records the error.
func (d *dispatcher[T]) cancelled(h *handler[T]) bool {
	select {
	case <-d.done:
		d.ctxErr = d.cancelError(h, d.ctx)
		return true
	default:
		return false
	}
}

// cancelError is the error of a publish whose context ctx was done before
// handler h.
func (d *dispatcher[T]) cancelError(h *handler[T], ctx context.Context) error {
	return fmt.Errorf("fxbus: publish %q stopped before listener %s: %w", d.tb.topic.name, h.l.info.Name, ctx.Err())
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

// finish accounts for the end of handler h with err, and reports whether
// dispatch ends.
func (d *dispatcher[T]) finish(h *handler[T], err error) (end bool) {
	// A recovered panic is a failure even when its value is ErrStop.
	_, panicked := err.(*PanicError)
	stop := err != nil && !panicked && errors.Is(err, ErrStop)
	if d.b.metrics {
		merr := err
		if stop {
			merr = nil
		}
		d.b.inst.Record(d.ctx, h.l.tel, time.Since(d.start), merr)
	}
	span := d.span
	d.span = nil
	switch {
	case err == nil:
		if span != nil {
			span.End()
		}
		return false
	case stop:
		otelbus.Stopped(span, d.pub, h.l.info.Name)
		if span != nil {
			span.End()
		}
		return true
	}
	if span != nil {
		if p, ok := err.(*PanicError); ok {
			otelbus.Panic(span, p, p.Value, p.Stack)
		} else {
			otelbus.Fail(span, err, err)
		}
		span.End()
	}
	herr := &HandlerError{Topic: d.tb.topic.name, Listener: h.l.info.Name, Source: h.l.info.Source, Err: err}
	if d.tb.topic.cfg.policy == RunAll {
		d.errs = append(d.errs, herr)
		return false
	}
	d.err = herr
	return true
}

func (d *dispatcher[T]) result() error {
	err := d.err
	switch {
	case d.errs != nil:
		err = errors.Join(append(d.errs, d.ctxErr)...)
	case d.ctxErr != nil:
		err = d.ctxErr
	}
	if d.pub != nil {
		if err != nil {
			otelbus.Fail(d.pub, err, firstCause(err))
		}
		d.pub.End()
	}
	return err
}

// firstCause is the error of the first failed handler, for error.type.
func firstCause(err error) error {
	var h *HandlerError
	if errors.As(err, &h) {
		return h.Err
	}
	return err
}
