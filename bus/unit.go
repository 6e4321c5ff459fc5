package bus

import (
	"context"
	"errors"
	"runtime/debug"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// ErrUnitDone is the cause of an error from [Unit.Commit] on a unit that
// was committed or rolled back already.
var ErrUnitDone = errors.New("unit of work already committed or rolled back")

// Unit is a unit of work carried in a context, such as a database
// transaction: the handlers of [AfterCommit] listeners that a publish with
// its context reaches are held, and run when the unit commits, or are
// dropped when it rolls back. Start one with [BeginUnit], or run a function
// in one with [InUnit]. It is safe for use by several goroutines.
//
// It is the shape of Spring's @TransactionalEventListener(phase =
// AFTER_COMMIT) and Laravel's ShouldDispatchAfterCommit: a welcome mail
// must not go out for a user whose insert rolled back.
type Unit struct {
	mu    sync.Mutex
	held  []func(context.Context) error
	state uint8 // unitOpen, unitCommitted, unitRolledBack
	outer *Unit // the unit open in the context BeginUnit was given, if any
}

const (
	unitOpen uint8 = iota
	unitCommitted
	unitRolledBack
)

type unitKey struct{}

// BeginUnit starts a unit of work and returns a context that carries it:
// publish with that context (or one derived from it) within the unit. A
// unit begun within another one is nested: when it commits, what it held
// moves to the outer unit, and runs when that one commits.
func BeginUnit(ctx context.Context) (context.Context, *Unit) {
	u := &Unit{}
	u.outer, _ = ctx.Value(unitKey{}).(*Unit)
	return context.WithValue(ctx, unitKey{}, u), u
}

// InUnit runs fn in a new unit of work: it commits the unit when fn returns
// nil, returning what the held handlers returned, and rolls it back when fn
// fails or panics, returning fn's error.
func InUnit(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	uctx, u := BeginUnit(ctx)
	committed := false
	defer func() {
		if !committed {
			u.Rollback()
		}
	}()
	if err := fn(uctx); err != nil {
		return err
	}
	committed = true
	return u.Commit(uctx)
}

// Commit ends the unit and runs the handlers it held, in the order their
// publishes reached them, each in a span of its own (marked
// fxbus.after_commit, linked to the handler span of the publish) when
// tracing is on. They all run; Commit returns their failures joined, each
// a [*HandlerError], a panic as a [*PanicError] inside one. A handler that
// publishes with ctx publishes at once: the unit is over. Within an outer
// unit (see [BeginUnit]), Commit hands the held handlers to it instead.
// It fails with [ErrUnitDone] when the unit has ended already.
func (u *Unit) Commit(ctx context.Context) error {
	u.mu.Lock()
	if u.state != unitOpen {
		u.mu.Unlock()
		return ErrUnitDone
	}
	u.state = unitCommitted
	held := u.held
	u.held = nil
	u.mu.Unlock()
	if u.outer != nil && u.outer.adopt(held) {
		return nil
	}
	var errs []error
	for _, run := range held {
		if err := run(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Rollback ends the unit and drops the handlers it held. It is idempotent,
// and does nothing after Commit.
func (u *Unit) Rollback() {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.state == unitOpen {
		u.state = unitRolledBack
		u.held = nil
	}
}

// hold keeps run for the commit, and reports whether the unit is open.
func (u *Unit) hold(run func(context.Context) error) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.state != unitOpen {
		return false
	}
	u.held = append(u.held, run)
	return true
}

// adopt takes the handlers held by a nested unit that committed, and
// reports whether u is open to take them.
func (u *Unit) adopt(held []func(context.Context) error) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.state != unitOpen {
		return false
	}
	u.held = append(u.held, held...)
	return true
}

// AfterCommit makes the listener run after the unit of work of the
// publish's context commits (see [Unit]): a publish within a unit holds
// its handler, and [Unit.Commit] runs it; a rollback drops it. Outside a
// unit, or once the unit has ended, it runs at once, as other listeners
// do. The publish sees the held handler succeed; its span records the
// event fxbus.deferred. The other listeners of the topic run at once.
func AfterCommit() ListenerOption {
	return listenerOptionFunc(func(l *listener) { l.feats().afterCommit = true })
}

// afterCommit wraps fn, the handler of AfterCommit listener l of topic t,
// so that a publish within a unit of work holds it for the commit.
func afterCommit[T any](b *Bus, t *Topic[T], l *listener, fn func(context.Context, *T) error) func(context.Context, *T) error {
	return func(ctx context.Context, e *T) error {
		u, _ := ctx.Value(unitKey{}).(*Unit)
		if u == nil {
			return fn(ctx, e)
		}
		span := trace.SpanFromContext(ctx)
		link := span.SpanContext()
		if !u.hold(func(ctx context.Context) error { return runHeld(ctx, b, t, l, fn, e, link) }) {
			return fn(ctx, e)
		}
		if span.IsRecording() {
			span.SetAttributes(deferredAttr)
			span.AddEvent("fxbus.deferred", trace.WithAttributes(deferredAttr))
		}
		return nil
	}
}

var (
	deferredAttr    = attribute.String("fxbus.deferred", "after_commit")
	afterCommitAttr = attribute.Bool("fxbus.after_commit", true)
)

// runHeld runs a held handler at its unit's commit, in a span of its own.
func runHeld[T any](ctx context.Context, b *Bus, t *Topic[T], l *listener, fn func(context.Context, *T) error, e *T, link trace.SpanContext) (err error) {
	if b.tracing {
		var span trace.Span
		ctx, span = b.inst.StartHandler(ctx, l.tel)
		span.SetAttributes(afterCommitAttr)
		if link.IsValid() {
			span.AddLink(trace.Link{SpanContext: link})
		}
		defer func() {
			if p, ok := errors.AsType[*PanicError](err); ok {
				b.inst.Panic(span, p, p.Stack)
			} else if err != nil {
				b.inst.Fail(span, err)
			}
			span.End()
		}()
	}
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
		if err != nil {
			if isStop(err) {
				err = nil
				return
			}
			err = &HandlerError{Topic: t.name, Listener: l.info.Name, Source: l.info.Source, Err: err}
		}
	}()
	return fn(ctx, e)
}
