package bus

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"
	"sync/atomic"
	"time"
	"weak"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/fxbus/fxbus/internal/otelbus"
)

// Publish runs the topic's handlers for event e, synchronously, in rank
// order, in the caller's goroutine; every handler gets the same e. It
// returns nil when every handler succeeded or one returned [ErrStop];
// otherwise, under the topic's [ErrorPolicy], the first [*HandlerError] or
// all of them joined. A done ctx stops dispatch before the next handler,
// with ctx.Err() wrapped. It fails with [ErrClosed] once b is closed.
//
// Handlers get a context derived from ctx that tells a publish they make
// how deeply it is nested (see [WithMaxDepth]). After Publish returns, the
// bus holds no reference to ctx or e.
func (t *Topic[T]) Publish(ctx context.Context, b *Bus, e *T) error {
	return t.publish(ctx, b, nil, e)
}

// publish is Publish with a source (see PublishFrom); nil for none.
func (t *Topic[T]) publish(ctx context.Context, b *Bus, src any, e *T) error {
	switch {
	case t == nil:
		return fmt.Errorf("fxbus: publish: %w", ErrNilTopic)
	case b == nil:
		return fmt.Errorf("fxbus: publish %q: %w", t.name, ErrNilBus)
	case e == nil:
		return fmt.Errorf("fxbus: publish %q: %w", t.name, ErrNilPayload)
	case ctx == nil:
		return fmt.Errorf("fxbus: publish %q: %w", t.name, ErrNilContext)
	}
	var tb *table[T]
	var s *slot[T]
	if ix := b.idx.Load(); ix != nil {
		if h := t.hint.Load(); h != nil && h.bus == b.id && h.n < len(ix.slots) {
			s, _ = ix.slots[h.n].(*slot[T])
		} else if n, ok := ix.ids[t]; ok {
			s, _ = ix.slots[n].(*slot[T])
		}
		if s != nil {
			tb = s.tab.Load()
		}
	}
	if tb == nil {
		if b.closed.Load() { // Close drops the index
			return fmt.Errorf("fxbus: publish %q: %w", t.name, b.closedErr())
		}
		if b.waiting.Load() { // deferTelemetry parks the index
			if err := b.wakeTelemetry(); err != nil {
				return fmt.Errorf("fxbus: publish %q: %w", t.name, err)
			}
			return t.publish(ctx, b, src, e)
		}
		if r := b.unheard.Load(); r != nil {
			r.published(t)
		}
		if b.tracing && t.pub0 != nil { // a hook's stages have none: no empty span
			_, span := b.inst.StartPublish(ctx, t.pub0, t.spanAttrs(e))
			span.End()
		}
		return nil
	}
	return s.dispatch(tb, ctx, b, src, e)
}

func (t *Topic[T]) spanAttrs(e *T) func() []attribute.KeyValue {
	fn := t.attrs.Load()
	if fn == nil {
		return nil
	}
	return func() []attribute.KeyValue { return (*fn)(e) }
}

// frame marks a context as inside a publish, so that a publish made with it
// knows how deeply it is nested, and the chain of topics.
type frame struct {
	context.Context
	done   <-chan struct{} // Context.Done(), asked once
	name   string          // the topic
	depth  int
	parent *frame      // the enclosing publish, still running when this one began
	ended  atomic.Bool // set when the publish has returned (frames not cached)
}

type frameKey struct{}

func (f *frame) Value(key any) any {
	if key == (frameKey{}) {
		return f
	}
	return f.Context.Value(key)
}

// enter returns the frame of a publish of s's topic with ctx, and whether it
// is shared (cached) rather than this publish's own. A publish nests in the
// innermost publish of ctx's chain that has not returned yet; so a context
// handed to a goroutine that publishes after its handler returned does not
// count toward the limit.
//
// A top-level publish whose context is the one of the slot's last top-level
// publish (a long-lived context, such as a worker's) reuses that frame,
// which the slot holds only weakly: the cache never keeps a context alive,
// and it is written only when empty or collected, so publishers with fresh
// contexts do not write to shared memory.
func (s *slot[T]) enter(ctx context.Context, limit int) (*frame, bool, error) {
	w := s.root.Load()
	if w != nil {
		if f := w.Value(); f != nil && f.Context == ctx {
			return f, true, nil
		}
	}
	parent, _ := ctx.Value(frameKey{}).(*frame)
	for parent != nil && parent.ended.Load() {
		parent = parent.parent
	}
	depth := 1
	if parent != nil {
		depth = parent.depth + 1
	}
	if depth > limit {
		return nil, false, depthError(parent, s.t.name, limit)
	}
	f := &frame{Context: ctx, done: ctx.Done(), name: s.t.name, depth: depth, parent: parent}
	if parent == nil && (w == nil || w.Value() == nil) && reflect.TypeOf(ctx).Comparable() {
		// Comparable, so that the == above cannot panic: it compares the
		// dynamic types first, and a type that matches is this one.
		wp := weak.Make(f)
		s.root.Store(&wp)
		return f, true, nil
	}
	return f, false, nil
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

func (s *slot[T]) dispatch(tb *table[T], ctx context.Context, b *Bus, src any, e *T) error {
	chunks := tb.chunks
	if tb.sources != nil {
		chunks = tb.sources.handlers(src)
	}
	d := dispatcher[T]{t: s.t, e: e, ctx: ctx, filtered: tb.filtered > 0 || tb.sources != nil}
	var f *frame
	shared := false
	if limit := b.depthLimit(); limit > 0 {
		var err error
		if f, shared, err = s.enter(ctx, limit); err != nil {
			return err
		}
		d.ctx, d.done = f, f.done
	} else {
		d.done = ctx.Done()
	}
	var pub trace.Span
	if b.tracing || b.metrics {
		// Telemetry allocates anyway; its state lives on the heap, so that
		// the dispatcher of a publish without it stays small.
		tel := &telemetry{b: b, metrics: b.metrics}
		if b.tracing {
			d.ctx, pub = b.inst.StartPublish(d.ctx, tb.publish, s.t.spanAttrs(e))
			tel.pub, tel.spans = pub, pub.IsRecording()
		}
		if tel.spans || tel.metrics {
			d.tel = tel
		}
	}
	for {
		p := d.run(chunks)
		if p == nil || d.finish(&chunks[d.c][d.i], p) {
			break
		}
		// A handler panicked: run recovered it, once for the whole
		// publish; resume after that handler.
		d.i++
	}
	if f != nil && !shared {
		f.ended.Store(true)
	}
	return d.result(b, pub)
}

// dispatcher is the state of one publish. It lives on the publisher's stack.
type dispatcher[T any] struct {
	t    *Topic[T]
	e    *T
	ctx  context.Context // what handlers get, before their own span
	done <-chan struct{} // the publisher's ctx.Done(); nil if it never ends
	c, i int             // the handler running: chunk, index
	tel  *telemetry      // nil without handler spans and metrics
	// filtered is set when a handler may have a filter
	filtered bool

	err    error   // under StopOnError
	errs   []error // under RunAll
	ctxErr error
}

// telemetry is the state of a publish's spans and metrics.
type telemetry struct {
	b       *Bus
	pub     trace.Span // the publish span, or nil
	spans   bool       // whether to open handler spans
	metrics bool       // whether to measure handlers
	span    trace.Span // the running handler's span, or nil
	start   time.Time  // its start, when measuring
	ran     int        // how many handlers were called
}

// run runs the handlers from (d.c, d.i) on, and returns the panic of a
// handler, recovered, with (d.c, d.i) at that handler: the one recover of
// the publish.
func (d *dispatcher[T]) run(chunks [][]handler[T]) (p *PanicError) {
	returned := false
	defer func() {
		if v := recover(); v != nil {
			p = &PanicError{Value: v, Stack: debug.Stack()}
		} else if !returned && d.tel != nil {
			// runtime.Goexit in a handler: the goroutine unwinds without
			// returning; end the spans on the way.
			otelbus.Goexit(d.tel.span, d.tel.pub)
		}
	}()
	ctx, e, done, tel := d.ctx, d.e, d.done, d.tel
	checks := done != nil || tel != nil || d.filtered
	for ; d.c < len(chunks); d.c, d.i = d.c+1, 0 {
		hs := chunks[d.c]
		for i := d.i; i < len(hs); i++ {
			d.i = i
			h := &hs[i]
			hctx := ctx
			if checks {
				if done != nil {
					select {
					case <-done:
						d.ctxErr = fmt.Errorf("fxbus: publish %q stopped before listener %s: %w",
							d.t.name, h.l.info.String(), ctx.Err())
						returned = true
						return nil
					default:
					}
				}
				if h.filter != nil && !h.filter(e) {
					continue
				}
				if tel != nil {
					hctx = tel.begin(ctx, h.l)
				}
			}
			if err := h.fn(hctx, e); err != nil || tel != nil {
				if d.finish(h, err) {
					returned = true
					return nil
				}
			}
		}
	}
	returned = true
	return nil
}

// begin starts handler l's span and clock, and returns its context.
func (t *telemetry) begin(ctx context.Context, l *listener) context.Context {
	t.ran++
	if t.spans {
		ctx, t.span = t.b.inst.StartHandler(ctx, l.tel)
	}
	if t.metrics {
		t.start = time.Now()
	}
	return ctx
}

// isStop reports whether err is a handler's own ErrStop: ErrStop, maybe
// wrapped, but not inside the failure of another handler (a nested
// publish's [*HandlerError]) or a panic.
func isStop(err error) bool {
	for err != nil {
		switch e := err.(type) {
		case *HandlerError, *PanicError:
			return false
		case interface{ Unwrap() []error }:
			for _, err := range e.Unwrap() {
				if isStop(err) {
					return true
				}
			}
			return false
		}
		if err == ErrStop {
			return true
		}
		err = errors.Unwrap(err)
	}
	return false
}

// finish accounts for the end of handler h with err, and reports whether
// dispatch ends.
func (d *dispatcher[T]) finish(h *handler[T], err error) (end bool) {
	stop := err != nil && isStop(err)
	if t := d.tel; t != nil {
		t.end(d.ctx, h.l, err, stop)
	}
	if err == nil || stop {
		return stop
	}
	herr := &HandlerError{Topic: d.t.name, Listener: h.l.info.Name, Source: h.l.info.Source, Err: err}
	if d.t.cfg.policy == RunAll {
		d.errs = append(d.errs, herr)
		return false
	}
	d.err = herr
	return true
}

// end records the end of listener l's handler with err.
func (t *telemetry) end(ctx context.Context, l *listener, err error, stop bool) {
	if t.metrics {
		merr := err
		if stop {
			merr = nil
		}
		t.b.inst.Record(ctx, l.tel, time.Since(t.start), merr)
	}
	span := t.span
	t.span = nil
	switch {
	case err == nil:
	case stop:
		otelbus.Stopped(span, t.pub, l.info.Name)
	case span == nil:
	default:
		if p, ok := err.(*PanicError); ok {
			t.b.inst.Panic(span, p, p.Stack)
		} else {
			t.b.inst.Fail(span, err)
		}
	}
	if span != nil {
		span.End()
	}
}

func (d *dispatcher[T]) result(b *Bus, pub trace.Span) error {
	err := d.err
	switch {
	case d.errs != nil:
		err = errors.Join(append(d.errs, d.ctxErr)...)
	case d.ctxErr != nil:
		err = d.ctxErr
	}
	if pub != nil {
		if d.tel != nil {
			otelbus.Ran(pub, d.tel.ran)
		}
		if err != nil {
			b.inst.Fail(pub, err)
		}
		pub.End()
	}
	return err
}
