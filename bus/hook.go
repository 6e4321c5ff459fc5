package bus

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/trace"

	"github.com/fxbus/fxbus/internal/otelbus"
)

// ErrVetoed matches, with errors.Is, an error of [Hook.Run] whose
// operation did not run because the before stage failed: a before handler
// vetoed the call by returning an error (or the bus was closed, or ctx
// done). The error is a [*HookError] wrapping the [*HandlerError], so
// errors.Is and errors.As also reach the handler's own error.
var ErrVetoed = errors.New("fxbus: operation vetoed")

// HookStage is a stage of a [Hook] that can fail.
type HookStage uint8

const (
	// HookBefore is the before stage: its failure vetoes the operation.
	HookBefore HookStage = iota + 1
	// HookAfter is the after stage: one of its handlers failed.
	HookAfter
)

// String returns "before" or "after".
func (s HookStage) String() string {
	switch s {
	case HookBefore:
		return "before"
	case HookAfter:
		return "after"
	}
	return fmt.Sprintf("HookStage(%d)", uint8(s))
}

// HookError is the failure of a stage of a [Hook]: it names the hook and
// the stage, and wraps the publish error, which names the topic and the
// listener. An error of the operation itself is not wrapped.
type HookError struct {
	Hook  string    // the hook's name
	Stage HookStage // the stage that failed
	Err   error     // the stage's publish error
}

// Error names the hook and the stage, then the publish error.
func (e *HookError) Error() string {
	return fmt.Sprintf("fxbus: hook %q: %s: %v", e.Hook, e.Stage, e.Err)
}

// Unwrap returns the publish error of the stage.
func (e *HookError) Unwrap() error { return e.Err }

// Is reports whether target is [ErrVetoed] and the before stage failed.
func (e *HookError) Is(target error) bool { return target == ErrVetoed && e.Stage == HookBefore }

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
// [Hook.After] may change the result or the error. Handlers of both stages
// are ordinary listeners: bind them with [On], [Listen] or Subscribe, with
// ranks, filters, sources and plugins. Declare hooks once, as package-level
// values, with [NewHook].
type Hook[Req, Res any] struct {
	name   string
	before *Topic[Req]
	after  *Topic[Result[Req, Res]]
	tel    *otelbus.Hook
}

// NewHook declares a hook named name, whose before stage is the topic
// "<name>.before" and after stage "<name>.after". Options apply to both
// topics; [WithErrorPolicy] decides whether one failing before handler
// vetoes at once or all of them run first.
func NewHook[Req, Res any](name string, opts ...TopicOption) *Hook[Req, Res] {
	bn, an := "", "" // an empty name makes topics that New reports
	if name != "" {
		bn, an = name+".before", name+".after"
	}
	h := &Hook[Req, Res]{
		name:   name,
		before: NewTopic[Req](bn, opts...),
		after:  NewTopic[Result[Req, Res]](an, opts...),
		tel:    otelbus.NewHook(name),
	}
	// A stage without listeners opens no publish span: the hook's span says
	// the call happened.
	h.before.pub0, h.after.pub0 = nil, nil
	return h
}

// Name returns the hook's name.
func (h *Hook[Req, Res]) Name() string { return h.name }

// Before returns the topic of the before stage: its handlers get the
// request, and may change it or return an error to veto the call.
func (h *Hook[Req, Res]) Before() *Topic[Req] { return h.before }

// After returns the topic of the after stage: its handlers get the
// [Result], and may change it.
func (h *Hook[Req, Res]) After() *Topic[Result[Req, Res]] { return h.after }

// Run calls op with req, around the hook's handlers on b:
//
//  1. it publishes req to [Hook.Before]; if that fails, op does not run and
//     Run returns a [*HookError] that matches [ErrVetoed];
//  2. it calls op with req as the before handlers left it;
//  3. it publishes a [Result] to [Hook.After], whatever op returned; if
//     that fails, Run returns a [*HookError] for the after stage;
//  4. it returns the Result's Res and Err as the after handlers left them.
//
// ctx, with its values (such as the caller's identity) and trace, reaches
// every handler and op. A [ErrStop] from a before handler ends the before
// stage without a veto. With tracing, Run opens a span "hook <name>" with,
// inside it, the publish spans of both stages and a span "run <name>"
// around op. Run allocates the Result; the stages allocate as any publish.
func (h *Hook[Req, Res]) Run(ctx context.Context, b *Bus, req *Req, op func(context.Context, *Req) (*Res, error)) (*Res, error) {
	switch {
	case h == nil:
		return nil, errors.New("fxbus: Run on a nil hook")
	case b == nil:
		return nil, fmt.Errorf("fxbus: hook %q: %w", h.name, ErrNilBus)
	case req == nil:
		return nil, fmt.Errorf("fxbus: hook %q: %w", h.name, ErrNilPayload)
	case ctx == nil:
		return nil, fmt.Errorf("fxbus: hook %q: %w", h.name, ErrNilContext)
	case op == nil:
		return nil, fmt.Errorf("fxbus: hook %q: nil operation", h.name)
	}
	if b.waiting.Load() { // see deferTelemetry
		if err := b.wakeTelemetry(); err != nil {
			return nil, fmt.Errorf("fxbus: hook %q: %w", h.name, err)
		}
	}
	if !b.tracing {
		return h.run(ctx, b, req, op, false)
	}
	ctx, span := b.inst.StartHook(ctx, h.tel)
	defer span.End()
	res, err := h.run(ctx, b, req, op, span.IsRecording())
	if err != nil {
		b.inst.Fail(span, err)
	}
	return res, err
}

func (h *Hook[Req, Res]) run(ctx context.Context, b *Bus, req *Req, op func(context.Context, *Req) (*Res, error), spans bool) (*Res, error) {
	if err := h.before.Publish(ctx, b, req); err != nil {
		return nil, &HookError{Hook: h.name, Stage: HookBefore, Err: err}
	}
	var res *Res
	var err error
	if spans {
		res, err = h.call(ctx, b, req, op)
	} else {
		res, err = op(ctx, req)
	}
	r := &Result[Req, Res]{Req: req, Res: res, Err: err}
	if err := h.after.Publish(ctx, b, r); err != nil {
		return nil, &HookError{Hook: h.name, Stage: HookAfter, Err: err}
	}
	return r.Res, r.Err
}

// call runs op inside its span.
func (h *Hook[Req, Res]) call(ctx context.Context, b *Bus, req *Req, op func(context.Context, *Req) (*Res, error)) (*Res, error) {
	var span trace.Span
	ctx, span = b.inst.StartOperation(ctx, h.tel)
	defer span.End()
	res, err := op(ctx, req)
	if err != nil {
		b.inst.Fail(span, err)
	}
	return res, err
}
