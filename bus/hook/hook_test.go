package hook_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/hook"
	"github.com/fxbus/fxbus/internal/otelbus"
	"github.com/fxbus/fxbus/internal/race"
	"github.com/fxbus/fxbus/internal/spantest"
)

type (
	req struct{ In string }
	res struct{ Out string }
)

func echo(_ context.Context, r *req) (*res, error) {
	return &res{Out: "op(" + r.In + ")"}, nil
}

func TestRunsBeforeOperationAfterInRankOrder(t *testing.T) {
	h := hook.New[req, res]("echo")
	assert.Equal(t, "echo", h.Name())
	assert.Equal(t, "echo.before", h.Before().Name())
	assert.Equal(t, "echo.after", h.After().Name())
	var log spantest.Trail
	b := spantest.NewBus(t, []bus.Listener{
		bus.On(h.Before(), func(_ context.Context, r *req) error { log.Add("before+1"); r.In += "+1"; return nil }, bus.Rank(1)),
		bus.On(h.Before(), func(_ context.Context, r *req) error { log.Add("before-1"); r.In += "-1"; return nil }, bus.Rank(-1)),
		bus.On(h.After(), func(_ context.Context, r *hook.Result[req, res]) error {
			log.Add("after+1")
			r.Res.Out += "+1"
			return nil
		}, bus.Rank(1)),
		bus.On(h.After(), func(_ context.Context, r *hook.Result[req, res]) error {
			log.Add("after-1")
			assert.Equal(t, "x-1+1", r.Req.In, "after handlers see the request as changed")
			r.Res.Out += "-1"
			return nil
		}, bus.Rank(-1)),
	})
	out, err := h.Run(context.Background(), b, &req{In: "x"}, func(ctx context.Context, r *req) (*res, error) {
		log.Add("op")
		return echo(ctx, r)
	})
	require.NoError(t, err)
	assert.Equal(t, "op(x-1+1)-1+1", out.Out)
	assert.Equal(t, spantest.Trail{"before-1", "before+1", "op", "after-1", "after+1"}, log)
}

func TestVeto(t *testing.T) {
	h := hook.New[req, res]("veto")
	denied := errors.New("denied")
	var ran spantest.Trail
	b := spantest.NewBus(t, []bus.Listener{
		bus.On(h.Before(), func(context.Context, *req) error { return denied }, bus.Name("guard")),
		bus.On(h.Before(), spantest.Note[req](&ran, "later before")),
		bus.On(h.After(), spantest.Note[hook.Result[req, res]](&ran, "after")),
	})
	out, err := h.Run(context.Background(), b, &req{}, func(context.Context, *req) (*res, error) {
		ran.Add("op")
		return &res{}, nil
	})
	assert.Nil(t, out)
	assert.ErrorIs(t, err, hook.ErrVetoed)
	assert.ErrorIs(t, err, denied)
	var herr *hook.Error
	require.ErrorAs(t, err, &herr)
	assert.Equal(t, "veto", herr.Hook)
	assert.Equal(t, hook.StageBefore, herr.Stage)
	var hand *bus.HandlerError
	require.ErrorAs(t, err, &hand)
	assert.Equal(t, "veto.before", hand.Topic)
	assert.Equal(t, "guard", hand.Listener)
	assert.Empty(t, ran, "a veto stops the before stage, the operation and the after stage")
	assert.Regexp(t, `^fxbus: hook vetoed: topic "veto.before": listener guard \(.*hook_test.go:\d+\): denied$`, err.Error(),
		"the prefix once, what happened, then the topic (naming hook and stage) and the listener")
}

func TestStopInBeforeIsNoVeto(t *testing.T) {
	h := hook.New[req, res]("stop")
	var ran spantest.Trail
	b := spantest.NewBus(t, []bus.Listener{
		bus.On(h.Before(), func(context.Context, *req) error { return bus.ErrStop }),
		bus.On(h.Before(), spantest.Note[req](&ran, "skipped")),
	})
	out, err := h.Run(context.Background(), b, &req{In: "x"}, echo)
	require.NoError(t, err)
	assert.Equal(t, "op(x)", out.Out)
	assert.Empty(t, ran)
}

func TestAfterSeesAndChangesTheError(t *testing.T) {
	h := hook.New[req, res]("after")
	notFound := errors.New("not found")
	hidden := errors.New("hidden")
	failing := func(context.Context, *req) (*res, error) { return nil, notFound }

	t.Run("replace the error", func(t *testing.T) {
		b := spantest.NewBus(t, []bus.Listener{bus.On(h.After(), func(_ context.Context, r *hook.Result[req, res]) error {
			if errors.Is(r.Err, notFound) {
				r.Err = hidden
			}
			return nil
		})})
		out, err := h.Run(context.Background(), b, &req{}, failing)
		assert.Nil(t, out)
		assert.Same(t, hidden, err, "what the after handlers leave is returned as is")
	})
	t.Run("turn the error into a result", func(t *testing.T) {
		b := spantest.NewBus(t, []bus.Listener{bus.On(h.After(), func(_ context.Context, r *hook.Result[req, res]) error {
			r.Res, r.Err = &res{Out: "default"}, nil
			return nil
		})})
		out, err := h.Run(context.Background(), b, &req{}, failing)
		require.NoError(t, err)
		assert.Equal(t, "default", out.Out)
	})
	t.Run("no after handler: the operation's error as is", func(t *testing.T) {
		b := spantest.NewBus(t, nil)
		_, err := h.Run(context.Background(), b, &req{}, failing)
		assert.Same(t, notFound, err)
	})
	t.Run("an after handler fails", func(t *testing.T) {
		broken := errors.New("broken")
		b := spantest.NewBus(t, []bus.Listener{bus.On(h.After(), func(context.Context, *hook.Result[req, res]) error { return broken })})
		out, err := h.Run(context.Background(), b, &req{}, echo)
		assert.Nil(t, out)
		var herr *hook.Error
		require.ErrorAs(t, err, &herr)
		assert.Equal(t, hook.StageAfter, herr.Stage)
		assert.ErrorIs(t, err, broken)
		assert.NotErrorIs(t, err, hook.ErrVetoed)
		assert.Regexp(t, `^fxbus: hook failed after the operation: topic "after.after": listener .*hook_test.go:\d+.*: broken$`, err.Error())
	})
}

func TestRunChecksArguments(t *testing.T) {
	h := hook.New[req, res]("args")
	b := spantest.NewBus(t, nil)
	ctx := context.Background()
	var nilHook *hook.Hook[req, res]
	_, err := nilHook.Run(ctx, b, &req{}, echo)
	assert.ErrorContains(t, err, "nil hook")
	_, err = h.Run(ctx, nil, &req{}, echo)
	assert.EqualError(t, err, `fxbus: hook not run: publish "args.before": nil bus`, "no handler vetoed")
	assert.ErrorIs(t, err, hook.ErrVetoed, "nothing ran")
	_, err = h.Run(ctx, b, nil, echo)
	assert.ErrorContains(t, err, "nil payload")
	_, err = h.Run(ctx, b, &req{}, nil)
	assert.ErrorContains(t, err, "nil operation")
	require.NoError(t, b.Close())
	_, err = h.Run(ctx, b, &req{}, echo)
	assert.ErrorIs(t, err, bus.ErrClosed)
	assert.ErrorIs(t, err, hook.ErrVetoed, "a closed bus runs no operation")
	assert.ErrorContains(t, err, "fxbus: hook not run: ", "a closed bus is no veto")

	_, err = bus.New([]bus.Listener{bus.On(hook.New[req, res]("").Before(), func(context.Context, *req) error { return nil })})
	assert.ErrorContains(t, err, "empty name")
	assert.Equal(t, "Stage(9)", hook.Stage(9).String())
}

func TestOptionsApplyToBothStages(t *testing.T) {
	h := hook.New[req, res]("opts", bus.RunAll)
	first, second := errors.New("first"), errors.New("second")
	var ran spantest.Trail
	b := spantest.NewBus(t, []bus.Listener{
		bus.On(h.Before(), func(context.Context, *req) error { return first }),
		bus.On(h.Before(), func(context.Context, *req) error { return second }),
		bus.On(h.After(), spantest.Note[hook.Result[req, res]](&ran, "after")),
	})
	_, err := h.Run(context.Background(), b, &req{}, echo)
	assert.ErrorIs(t, err, first)
	assert.ErrorIs(t, err, second, "under RunAll, every before handler runs before the veto")
	assert.Empty(t, ran)
}

func TestSpans(t *testing.T) {
	rec, on := spantest.Tracing(t)
	h := hook.New[req, res]("api.publish")
	b := spantest.NewBus(t, []bus.Listener{
		bus.On(h.Before(), func(context.Context, *req) error { return nil }, bus.Name("check")),
		bus.On(h.After(), func(context.Context, *hook.Result[req, res]) error { return nil }, bus.Name("audit")),
	}, on)
	var opSpan trace.SpanContext
	_, err := h.Run(context.Background(), b, &req{}, func(ctx context.Context, r *req) (*res, error) {
		opSpan = trace.SpanContextFromContext(ctx)
		return nil, errors.New("op failed")
	})
	require.Error(t, err)
	assert.Equal(t, []string{
		"hook api.publish",
		"publish api.publish.before", "check api.publish.before",
		"run api.publish",
		"publish api.publish.after", "audit api.publish.after",
	}, spantest.SpanNames(rec))

	hs := spantest.Span(t, rec, "hook api.publish")
	run := spantest.Span(t, rec, "run api.publish")
	assert.Equal(t, hs.SpanContext().SpanID(), run.Parent().SpanID())
	assert.Equal(t, hs.SpanContext().SpanID(), spantest.Span(t, rec, "publish api.publish.before").Parent().SpanID())
	assert.Equal(t, hs.SpanContext().SpanID(), spantest.Span(t, rec, "publish api.publish.after").Parent().SpanID())
	assert.Equal(t, run.SpanContext().SpanID(), opSpan.SpanID(), "the operation runs inside its span")
	assert.Equal(t, codes.Error, run.Status().Code)
	assert.Equal(t, codes.Error, hs.Status().Code, "the hook failed, as its caller sees it")
	assert.Equal(t, "operation", spantest.Attr(run, otelbus.HookStageKey))
	assert.Equal(t, "api.publish", spantest.Attr(hs, otelbus.HookNameKey))
	assert.Equal(t, "fxbus", spantest.Attr(hs, "messaging.system"))
}

// A stage that nobody listens to opens no publish span: the hook's span and
// its operation's say the call happened.
func TestSpansWithoutListeners(t *testing.T) {
	rec, on := spantest.Tracing(t)
	h := hook.New[req, res]("tel.hook.empty")
	b := spantest.NewBus(t, nil, on)
	_, err := h.Run(context.Background(), b, &req{}, echo)
	require.NoError(t, err)
	assert.Equal(t, []string{"hook tel.hook.empty", "run tel.hook.empty"}, spantest.SpanNames(rec))
}

// With tracing off, a call allocates its Result and nothing else.
func TestRunWithoutTracingAllocatesTheResultOnly(t *testing.T) {
	if race.Enabled {
		t.Skip("the race detector allocates")
	}
	h := hook.New[req, res]("alloc")
	b := spantest.NewBus(t, []bus.Listener{
		bus.On(h.Before(), func(context.Context, *req) error { return nil }),
		bus.On(h.After(), func(context.Context, *hook.Result[req, res]) error { return nil }),
	})
	ctx, r, out := context.Background(), &req{}, &res{}
	op := func(context.Context, *req) (*res, error) { return out, nil }
	assert.Equal(t, 1.0, testing.AllocsPerRun(200, func() { _, _ = h.Run(ctx, b, r, op) }))
}
