package unit

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/internal/otelbus"
)

// ErrDone is the cause of the error of [Unit.Commit] on a unit that was
// committed or rolled back already (errors.Is finds it).
var ErrDone = errors.New("unit of work already committed or rolled back")

// ErrHeldFailed matches, with errors.Is, the error of [Unit.Commit] (and
// of [Run]) when the unit committed but handlers it held failed: the
// unit's own work stands, and retrying it would do it twice. errors.As
// reaches each failure, a [*bus.HandlerError]. An error of [Run] that does
// not match it is fn's own, and the unit rolled back.
var ErrHeldFailed = errors.New("unit committed, but handlers held for the commit failed")

// heldError is the failure of held handlers at a commit.
type heldError struct{ errs []error }

// Error says "fxbus: unit committed, but handlers held for the commit
// failed: " and each failure without its prefix, separated by "; ".
func (e *heldError) Error() string {
	var b strings.Builder
	b.WriteString("fxbus: ")
	b.WriteString(ErrHeldFailed.Error())
	for i, err := range e.errs {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(strings.TrimPrefix(err.Error(), "fxbus: "))
	}
	return b.String()
}

// Unwrap returns the failures.
func (e *heldError) Unwrap() []error { return e.errs }

// Is reports whether target is [ErrHeldFailed].
func (e *heldError) Is(target error) bool { return target == ErrHeldFailed }

// errCommitDone is what Commit returns on an ended unit: [ErrDone] with
// the prefix the bus's errors have, once.
var errCommitDone = fmt.Errorf("fxbus: commit: %w", ErrDone)

// Unit is a unit of work carried in a context: the handlers of
// [AfterCommit] listeners that a publish with its context reaches are
// held, and run when the unit commits, or are dropped when it rolls back.
// Start one with [Begin], or run a function in one with [Run]. It is safe
// for use by several goroutines.
type Unit struct {
	mu    sync.Mutex
	held  []func(context.Context) error
	state state
	outer *Unit // the unit open in the context Begin was given, if any
}

type state uint8

const (
	open state = iota
	committed
	rolledBack
)

type key struct{}

// Begin starts a unit of work and returns a context that carries it:
// publish with that context (or one derived from it) within the unit. A
// unit begun within another one is nested: when it commits, what it held
// moves to the outer unit, and runs when that one commits.
func Begin(ctx context.Context) (context.Context, *Unit) {
	u := &Unit{}
	u.outer, _ = ctx.Value(key{}).(*Unit)
	return context.WithValue(ctx, key{}, u), u
}

// Run runs fn in a new unit of work: it commits the unit when fn returns
// nil, returning what [Unit.Commit] returns, and rolls it back when fn
// fails or panics, returning fn's error (or panicking on). errors.Is(err,
// [ErrHeldFailed]) tells the two apart: true, the unit committed.
func Run(ctx context.Context, fn func(ctx context.Context) error) error {
	uctx, u := Begin(ctx)
	defer u.Rollback() // does nothing once committed
	if err := fn(uctx); err != nil {
		return err
	}
	return u.Commit(uctx)
}

// Commit ends the unit and runs the handlers it held, in the order their
// publishes reached them. They all run; Commit returns their failures in
// one error that matches [ErrHeldFailed], each a [*bus.HandlerError]
// naming the topic, the listener and its source, a panic as a
// [*bus.PanicError] inside one; a handler's
// [bus.ErrStop] is no failure. A handler that publishes with ctx publishes
// at once: the unit is over. Within an outer unit (see [Begin]), Commit
// hands the held handlers to it instead. It fails with [ErrDone] when the
// unit has ended already.
func (u *Unit) Commit(ctx context.Context) error {
	u.mu.Lock()
	if u.state != open {
		u.mu.Unlock()
		return errCommitDone
	}
	u.state = committed
	held := u.held
	u.held = nil
	u.mu.Unlock()
	if u.outer != nil && u.outer.hold(held...) {
		return nil
	}
	var errs []error
	for _, run := range held {
		if err := run(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return &heldError{errs: errs}
}

// Rollback ends the unit and drops the handlers it held. It is idempotent,
// and does nothing after Commit.
func (u *Unit) Rollback() {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.state == open {
		u.state = rolledBack
		u.held = nil
	}
}

// hold keeps runs for the commit, and reports whether the unit is open to
// take them.
func (u *Unit) hold(runs ...func(context.Context) error) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.state != open {
		return false
	}
	u.held = append(u.held, runs...)
	return true
}

// AfterCommit makes the listener run after the unit of work of the
// publish's context commits: a publish within a [Unit] holds its handler,
// and [Unit.Commit] runs it; a rollback drops it. Outside a unit, or once
// the unit has ended, it runs at once, as other listeners do. The publish
// sees the held handler succeed; the other listeners of the topic run at
// once. The held handler gets the publish's payload pointer: it sees what
// was changed in the payload up to the commit.
//
// The bus's middleware (see [bus.WithMiddleware]) is held with the
// handler, and runs at the commit, as does the listener's own [bus.Wrap]
// given after AfterCommit. Middleware outside it, a [bus.Wrap] given
// before AfterCommit and what [bus.Bus.Use] installed, runs at the
// publish around the hold, and sees it succeed: a Retry or a Timeout
// meant for the handler goes after AfterCommit or into the bus's
// middleware.
func AfterCommit() bus.ListenerOption { return bus.Wrap(afterCommit) }

var (
	deferredAttr    = attribute.String("fxbus.deferred", "after_commit")
	afterCommitAttr = attribute.Bool("fxbus.after_commit", true)
)

// afterCommit is the middleware of an AfterCommit listener: within a unit,
// it holds the call of next for the commit.
func afterCommit(next bus.Handler) bus.Handler {
	return func(ctx context.Context, env bus.Envelope) error {
		u, _ := ctx.Value(key{}).(*Unit)
		if u == nil {
			return next(ctx, env)
		}
		span := trace.SpanFromContext(ctx)
		link := span.SpanContext()
		if !u.hold(func(ctx context.Context) error { return runHeld(ctx, next, env, link) }) {
			return next(ctx, env)
		}
		if span.IsRecording() {
			span.SetAttributes(deferredAttr)
			span.AddEvent("fxbus.deferred", trace.WithAttributes(deferredAttr))
		}
		return nil
	}
}

// runHeld runs a held handler at its unit's commit, in a span of its own
// linked to link, the span of the publish that held it. The span records
// the handler's own error, as a handler span at a publish does.
func runHeld(ctx context.Context, next bus.Handler, env bus.Envelope, link trace.SpanContext) (err error) {
	topic, l := env.Topic.Name(), env.Listener()
	var own error // the handler's own failure, for the span
	if env.Bus != nil {
		attrs := append(otelbus.HandlerAttributes(otelbus.ListenerSpec{
			Topic: topic, Name: l.Name, Rank: l.Rank, Module: l.Module, Plugin: l.Plugin,
			Source: otelbus.Source{Function: l.Function, File: l.Source.File, Line: l.Source.Line},
		}), afterCommitAttr)
		sctx, end := env.Bus.StartSpan(ctx, l.Name+" "+topic, attrs...)
		if started := trace.SpanContextFromContext(sctx); started.SpanID() != trace.SpanContextFromContext(ctx).SpanID() {
			if link.IsValid() {
				trace.SpanFromContext(sctx).AddLink(trace.Link{SpanContext: link})
			}
			ctx = sctx
			defer func() { end(own) }()
		}
	}
	defer func() {
		if v := recover(); v != nil {
			err = &bus.PanicError{Value: v, Stack: debug.Stack()}
		}
		if err == nil || stopped(err) {
			err = nil
			return
		}
		own = err
		err = &bus.HandlerError{Topic: topic, Listener: l.Name, Source: l.Source, Err: err}
	}()
	return next(ctx, env)
}

// stopped reports whether err is the handler's own [bus.ErrStop], maybe
// wrapped, and not one inside the failure of a publish it made.
func stopped(err error) bool {
	for err != nil {
		switch e := err.(type) {
		case *bus.HandlerError, *bus.PanicError:
			return false
		case interface{ Unwrap() []error }:
			return slices.ContainsFunc(e.Unwrap(), stopped)
		}
		if err == bus.ErrStop {
			return true
		}
		err = errors.Unwrap(err)
	}
	return false
}
