package hook

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/attribute"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/internal/otelbus"
)

// ErrVetoed matches, with errors.Is, an error of [Hook.Run] whose operation
// did not run because the before stage failed: a before handler vetoed the
// call by returning an error (or the bus was closed, or ctx done). The
// error is an [*Error] wrapping the publish error, so errors.Is and
// errors.As also reach the handler's own error and its [*bus.HandlerError].
var ErrVetoed = errors.New("operation vetoed")

// Stage is a stage of a [Hook] that can fail.
type Stage uint8

const (
	// StageBefore is the before stage: its failure vetoes the operation.
	StageBefore Stage = iota + 1
	// StageAfter is the after stage: one of its handlers failed.
	StageAfter
)

// String returns "before" or "after".
func (s Stage) String() string {
	switch s {
	case StageBefore:
		return "before"
	case StageAfter:
		return "after"
	}
	return fmt.Sprintf("Stage(%d)", uint8(s))
}

// Error is the failure of a stage of a [Hook]: it names the hook and the
// stage, and wraps the stage's publish error, which names the topic and the
// listener. An error of the operation itself is returned as is.
type Error struct {
	Hook  string // the hook's name
	Stage Stage  // the stage that failed
	Err   error  // the stage's publish error
}

// Error says what the stage did to the operation, then the publish error,
// which names the stage's topic ("<hook>.before" or "<hook>.after"), the
// listener and its source:
//
//	fxbus: hook vetoed: topic "post.before": listener guard (quota.go:12): over quota
//	fxbus: hook failed after the operation: topic "post.after": listener audit (audit.go:9): disk full
//
// A before stage that failed without a handler's error, on a closed bus
// or with a done ctx, says "hook not run" instead of "hook vetoed"; it
// matches [ErrVetoed] all the same.
//
// The hook is named once, by its topics.
func (e *Error) Error() string {
	what := "hook failed after the operation"
	if e.Stage == StageBefore {
		what = "hook vetoed"
		var he *bus.HandlerError
		if !errors.As(e.Err, &he) { // no handler vetoed: a closed bus, a nil one, a done ctx
			what = "hook not run"
		}
	}
	return "fxbus: " + what + ": " + strings.TrimPrefix(e.Err.Error(), "fxbus: ")
}

// Unwrap returns the stage's publish error.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is [ErrVetoed] and the before stage failed.
func (e *Error) Is(target error) bool { return target == ErrVetoed && e.Stage == StageBefore }

// Result is the payload of a hook's after stage: the request as the before
// handlers left it, and what the operation returned. After handlers, in
// rank order, may change Res, or Err: set Err to another error to replace
// it, or set Res and clear Err to turn a failure into a result. What they
// leave is what [Hook.Run] returns.
type Result[Req, Res any] struct {
	Req *Req
	Res *Res
	Err error
}

// Hook wraps an operation that takes a *Req and returns a *Res with two
// topics: handlers of [Hook.Before] run first and may change the request or
// veto the call with an error; then the operation runs; then handlers of
// [Hook.After] may change the result or the error. Declare hooks once, as
// package-level values, with [New].
type Hook[Req, Res any] struct {
	name   string
	before *bus.Topic[Req]
	after  *bus.Topic[Result[Req, Res]]
	span   string               // the hook's span name
	attrs  []attribute.KeyValue // of the hook's span
	opName string
	opAttr []attribute.KeyValue // of the operation's span
}

// New declares a hook named name, whose before stage is the topic
// "<name>.before" and after stage "<name>.after". Options apply to both
// topics; a [bus.ErrorPolicy] decides whether one failing before handler
// vetoes at once ([bus.StopOnError], the default) or all of them run first
// ([bus.RunAll]).
func New[Req, Res any](name string, opts ...bus.TopicOption) *Hook[Req, Res] {
	bn, an := "", "" // an empty name makes topics that bus.New reports
	if name != "" {
		bn, an = name+".before", name+".after"
	}
	// A stage nobody listens to opens no span: the hook's span shows the call.
	opts = append([]bus.TopicOption{bus.Quiet()}, opts...)
	return &Hook[Req, Res]{
		name:   name,
		before: bus.NewTopic[Req](bn, opts...),
		after:  bus.NewTopic[Result[Req, Res]](an, opts...),
		span:   "hook " + name,
		attrs:  []attribute.KeyValue{otelbus.HookNameKey.String(name)},
		opName: "run " + name,
		opAttr: []attribute.KeyValue{otelbus.HookNameKey.String(name), otelbus.HookStageKey.String("operation")},
	}
}

// Name returns the hook's name.
func (h *Hook[Req, Res]) Name() string { return h.name }

// Before returns the topic of the before stage: its handlers get the
// request, and may change it or return an error to veto the call.
func (h *Hook[Req, Res]) Before() *bus.Topic[Req] { return h.before }

// After returns the topic of the after stage: its handlers get the
// [Result], and may change it.
func (h *Hook[Req, Res]) After() *bus.Topic[Result[Req, Res]] { return h.after }

// Run calls op with req, around the hook's handlers on b:
//
//  1. it publishes req to [Hook.Before]; if that fails, op does not run and
//     Run returns an [*Error] that matches [ErrVetoed];
//  2. it calls op with req as the before handlers left it;
//  3. it publishes a [Result] to [Hook.After], whatever op returned; if
//     that fails, Run returns an [*Error] for the after stage;
//  4. it returns the Result's Res and Err as the after handlers left them.
//
// ctx, with its values (such as the caller's identity) and trace, reaches
// every handler and op. A [bus.ErrStop] from a before handler ends the
// before stage without a veto. Run allocates the Result; the stages
// allocate as any publish does.
func (h *Hook[Req, Res]) Run(ctx context.Context, b *bus.Bus, req *Req, op func(context.Context, *Req) (*Res, error)) (*Res, error) {
	switch {
	case h == nil:
		return nil, errors.New("fxbus: Run on a nil hook")
	case op == nil:
		return nil, fmt.Errorf("fxbus: hook %q: nil operation", h.name)
	}
	ctx, end := b.StartSpan(ctx, h.span, h.attrs...)
	res, err := h.run(ctx, b, req, op)
	end(err)
	return res, err
}

func (h *Hook[Req, Res]) run(ctx context.Context, b *bus.Bus, req *Req, op func(context.Context, *Req) (*Res, error)) (*Res, error) {
	if err := h.before.Publish(ctx, b, req); err != nil {
		return nil, &Error{Hook: h.name, Stage: StageBefore, Err: err}
	}
	octx, end := b.StartSpan(ctx, h.opName, h.opAttr...)
	res, err := op(octx, req)
	end(err)
	r := &Result[Req, Res]{Req: req, Res: res, Err: err}
	if err := h.after.Publish(ctx, b, r); err != nil {
		return nil, &Error{Hook: h.name, Stage: StageAfter, Err: err}
	}
	return r.Res, r.Err
}
