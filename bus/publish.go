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
	if b.closed.Load() {
		return fmt.Errorf("fxbus: publish %q: %w", t.name, ErrClosed)
	}
	var s *slot[T]
	if ix := b.idx.Load(); ix != nil {
		s, _ = ix.lookup(b, t, t.hint.Load()).(*slot[T])
	}
	var tb *table[T]
	if s != nil {
		tb = s.tab.Load()
	}
	if tb == nil {
		if b.tracing {
			_, span := b.inst.StartPublish(ctx, t.pub0, t.spanAttrs(e))
			span.End()
		}
		return nil
	}
	return s.dispatch(tb, ctx, b, src, e)
}

func (t *Topic[T]) spanAttrs(e *T) func() []attribute.KeyValue {
	if t.attrs == nil {
		return nil
	}
	return func() []attribute.KeyValue { return t.attrs(e) }
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
	d := dispatcher[T]{b: b, t: s.t, e: e, ctx: ctx, metrics: b.metrics}
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
	if b.tracing {
		d.ctx, d.pub = b.inst.StartPublish(d.ctx, tb.publish, s.t.spanAttrs(e))
		d.spans = d.pub.IsRecording()
	}
	d.telemetry = d.spans || d.metrics
	for d.run(chunks) {
		// A handler panicked: run recovered it, once for the whole
		// publish; account for it and resume after that handler.
		perr := &PanicError{Value: d.panicValue, Stack: d.stack}
		d.panicValue, d.stack = nil, nil
		if d.finish(&chunks[d.c][d.i], perr) {
			break
		}
		d.i++
	}
	if f != nil && !shared {
		f.ended.Store(true)
	}
	return d.result()
}

// dispatcher is the state of one publish. It lives on the publisher's stack.
type dispatcher[T any] struct {
	b         *Bus
	t         *Topic[T]
	e         *T
	ctx       context.Context // what handlers get, before their own span
	done      <-chan struct{} // the publisher's ctx.Done(); nil if it never ends
	pub       trace.Span      // the publish span, or nil
	spans     bool            // whether to open handler spans
	metrics   bool            // whether to measure handlers
	telemetry bool            // spans || metrics
	c, i      int             // the handler running: chunk, index
	span      trace.Span      // its span, or nil
	start     time.Time       // its start, when measuring

	err        error   // under StopOnError
	errs       []error // under RunAll
	ctxErr     error
	panicValue any
	stack      []byte
}

// run runs the handlers from (d.c, d.i) on. It reports true when a handler
// panicked, with (d.c, d.i) at that handler and the panic in d: the one
// recover of the publish.
func (d *dispatcher[T]) run(chunks [][]handler[T]) (panicked bool) {
	defer func() {
		if v := recover(); v != nil {
			d.panicValue, d.stack, panicked = v, debug.Stack(), true
		}
	}()
	for ; d.c < len(chunks); d.c, d.i = d.c+1, 0 {
		hs := chunks[d.c]
		for ; d.i < len(hs); d.i++ {
			h := &hs[d.i]
			if d.done != nil {
				select {
				case <-d.done:
					d.ctxErr = fmt.Errorf("fxbus: publish %q stopped before listener %s: %w",
						d.t.name, h.l.info.String(), d.ctx.Err())
					return false
				default:
				}
			}
			if h.filter != nil && !h.filter(d.e) {
				continue
			}
			hctx := d.ctx
			if d.telemetry {
				if d.spans {
					hctx, d.span = d.b.inst.StartHandler(d.ctx, h.l.tel)
				}
				if d.metrics {
					d.start = time.Now()
				}
			}
			if err := h.fn(hctx, d.e); err != nil || d.telemetry {
				if d.finish(h, err) {
					return false
				}
			}
		}
	}
	return false
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
	if d.metrics {
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
	herr := &HandlerError{Topic: d.t.name, Listener: h.l.info.Name, Source: h.l.info.Source, Err: err}
	if d.t.cfg.policy == RunAll {
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
