package bus_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/internal/otelbus"
)

type (
	hookReq struct{ In string }
	hookRes struct{ Out string }
)

func hookEcho(_ context.Context, r *hookReq) (*hookRes, error) {
	return &hookRes{Out: "op(" + r.In + ")"}, nil
}

func TestHookRunsBeforeOperationAfterInRankOrder(t *testing.T) {
	h := bus.NewHook[hookReq, hookRes]("echo")
	assert.Equal(t, "echo", h.Name())
	assert.Equal(t, "echo.before", h.Before().Name())
	assert.Equal(t, "echo.after", h.After().Name())
	var log seedsLog
	b := seedsNew(t, []bus.Listener{
		bus.On(h.Before(), func(_ context.Context, r *hookReq) error { log.add("before+1"); r.In += "+1"; return nil }, bus.Rank(1)),
		bus.On(h.Before(), func(_ context.Context, r *hookReq) error { log.add("before-1"); r.In += "-1"; return nil }, bus.Rank(-1)),
		bus.On(h.After(), func(_ context.Context, r *bus.Result[hookReq, hookRes]) error {
			log.add("after+1")
			r.Res.Out += "+1"
			return nil
		}, bus.Rank(1)),
		bus.On(h.After(), func(_ context.Context, r *bus.Result[hookReq, hookRes]) error {
			log.add("after-1")
			assert.Equal(t, "x-1+1", r.Req.In, "after handlers see the request as changed")
			r.Res.Out += "-1"
			return nil
		}, bus.Rank(-1)),
	})
	res, err := h.Run(context.Background(), b, &hookReq{In: "x"}, func(ctx context.Context, r *hookReq) (*hookRes, error) {
		log.add("op")
		return hookEcho(ctx, r)
	})
	require.NoError(t, err)
	assert.Equal(t, "op(x-1+1)-1+1", res.Out)
	assert.Equal(t, seedsLog{"before-1", "before+1", "op", "after-1", "after+1"}, log)
}

func TestHookVeto(t *testing.T) {
	h := bus.NewHook[hookReq, hookRes]("veto")
	denied := errors.New("denied")
	var ran seedsLog
	b := seedsNew(t, []bus.Listener{
		bus.On(h.Before(), func(context.Context, *hookReq) error { return denied }, bus.Name("guard")),
		bus.On(h.Before(), seedsRecord[hookReq](&ran, "later before")),
		bus.On(h.After(), seedsRecord[bus.Result[hookReq, hookRes]](&ran, "after")),
	})
	res, err := h.Run(context.Background(), b, &hookReq{}, func(context.Context, *hookReq) (*hookRes, error) {
		ran.add("op")
		return &hookRes{}, nil
	})
	assert.Nil(t, res)
	assert.ErrorIs(t, err, bus.ErrVetoed)
	assert.ErrorIs(t, err, denied)
	var herr *bus.HookError
	require.ErrorAs(t, err, &herr)
	assert.Equal(t, "veto", herr.Hook)
	assert.Equal(t, bus.HookBefore, herr.Stage)
	var hand *bus.HandlerError
	require.ErrorAs(t, err, &hand)
	assert.Equal(t, "veto.before", hand.Topic)
	assert.Equal(t, "guard", hand.Listener)
	assert.Empty(t, ran, "a veto stops the before stage, the operation and the after stage")
	assert.Equal(t, `fxbus: hook "veto": before: `+hand.Error(), err.Error())
}

func TestHookStopInBeforeIsNoVeto(t *testing.T) {
	h := bus.NewHook[hookReq, hookRes]("stop")
	var ran seedsLog
	b := seedsNew(t, []bus.Listener{
		bus.On(h.Before(), func(context.Context, *hookReq) error { return bus.ErrStop }),
		bus.On(h.Before(), seedsRecord[hookReq](&ran, "skipped")),
	})
	res, err := h.Run(context.Background(), b, &hookReq{In: "x"}, hookEcho)
	require.NoError(t, err)
	assert.Equal(t, "op(x)", res.Out)
	assert.Empty(t, ran)
}

func TestHookAfterSeesAndChangesTheError(t *testing.T) {
	h := bus.NewHook[hookReq, hookRes]("after")
	notFound := errors.New("not found")
	hidden := errors.New("hidden")
	failing := func(context.Context, *hookReq) (*hookRes, error) { return nil, notFound }

	t.Run("replace the error", func(t *testing.T) {
		b := seedsNew(t, []bus.Listener{bus.On(h.After(), func(_ context.Context, r *bus.Result[hookReq, hookRes]) error {
			if errors.Is(r.Err, notFound) {
				r.Err = hidden
			}
			return nil
		})})
		res, err := h.Run(context.Background(), b, &hookReq{}, failing)
		assert.Nil(t, res)
		assert.Same(t, hidden, err, "what the after handlers leave is returned as is")
	})
	t.Run("turn the error into a result", func(t *testing.T) {
		b := seedsNew(t, []bus.Listener{bus.On(h.After(), func(_ context.Context, r *bus.Result[hookReq, hookRes]) error {
			r.Res, r.Err = &hookRes{Out: "default"}, nil
			return nil
		})})
		res, err := h.Run(context.Background(), b, &hookReq{}, failing)
		require.NoError(t, err)
		assert.Equal(t, "default", res.Out)
	})
	t.Run("no after handler: the operation's error as is", func(t *testing.T) {
		b := seedsNew(t, nil)
		_, err := h.Run(context.Background(), b, &hookReq{}, failing)
		assert.Same(t, notFound, err)
	})
	t.Run("an after handler fails", func(t *testing.T) {
		broken := errors.New("broken")
		b := seedsNew(t, []bus.Listener{bus.On(h.After(), func(context.Context, *bus.Result[hookReq, hookRes]) error { return broken })})
		res, err := h.Run(context.Background(), b, &hookReq{}, hookEcho)
		assert.Nil(t, res)
		var herr *bus.HookError
		require.ErrorAs(t, err, &herr)
		assert.Equal(t, bus.HookAfter, herr.Stage)
		assert.ErrorIs(t, err, broken)
		assert.NotErrorIs(t, err, bus.ErrVetoed)
	})
}

func TestHookRunChecksArguments(t *testing.T) {
	h := bus.NewHook[hookReq, hookRes]("args")
	b := seedsNew(t, nil)
	ctx := context.Background()
	var nilHook *bus.Hook[hookReq, hookRes]
	_, err := nilHook.Run(ctx, b, &hookReq{}, hookEcho)
	assert.Error(t, err)
	_, err = h.Run(ctx, nil, &hookReq{}, hookEcho)
	assert.ErrorIs(t, err, bus.ErrNilBus)
	_, err = h.Run(ctx, b, nil, hookEcho)
	assert.ErrorIs(t, err, bus.ErrNilPayload)
	_, err = h.Run(ctx, b, &hookReq{}, nil)
	assert.ErrorContains(t, err, "nil operation")
	require.NoError(t, b.Close())
	_, err = h.Run(ctx, b, &hookReq{}, hookEcho)
	assert.ErrorIs(t, err, bus.ErrClosed)
	assert.ErrorIs(t, err, bus.ErrVetoed, "a closed bus runs no operation")

	_, err = bus.New([]bus.Listener{bus.On(bus.NewHook[hookReq, hookRes]("").Before(), func(context.Context, *hookReq) error { return nil })})
	assert.ErrorContains(t, err, "empty name")
	assert.Equal(t, "HookStage(9)", bus.HookStage(9).String())
}

func TestHookSpans(t *testing.T) {
	rec, tracing := seedsTracing(t)
	h := bus.NewHook[hookReq, hookRes]("api.publish")
	b := seedsNew(t, []bus.Listener{
		bus.On(h.Before(), func(context.Context, *hookReq) error { return nil }, bus.Name("check")),
		bus.On(h.After(), func(context.Context, *bus.Result[hookReq, hookRes]) error { return nil }, bus.Name("audit")),
	}, tracing)
	var opSpan trace.SpanContext
	_, err := h.Run(context.Background(), b, &hookReq{}, func(ctx context.Context, r *hookReq) (*hookRes, error) {
		opSpan = trace.SpanContextFromContext(ctx)
		return nil, errors.New("op failed")
	})
	require.Error(t, err)
	assert.Equal(t, []string{
		"hook api.publish",
		"publish api.publish.before", "check api.publish.before",
		"run api.publish",
		"publish api.publish.after", "audit api.publish.after",
	}, seedsSpanNames(rec))

	hook := seedsSpan(t, rec, "hook api.publish")
	run := seedsSpan(t, rec, "run api.publish")
	assert.Equal(t, hook.SpanContext().SpanID(), run.Parent().SpanID())
	assert.Equal(t, hook.SpanContext().SpanID(), seedsSpan(t, rec, "publish api.publish.before").Parent().SpanID())
	assert.Equal(t, hook.SpanContext().SpanID(), seedsSpan(t, rec, "publish api.publish.after").Parent().SpanID())
	assert.Equal(t, run.SpanContext().SpanID(), opSpan.SpanID(), "the operation runs inside its span")
	assert.Equal(t, codes.Error, run.Status().Code)
	assert.Equal(t, codes.Error, hook.Status().Code, "the hook failed, as its caller sees it")
	v, _ := seedsAttr(run, otelbus.HookStageKey)
	assert.Equal(t, "operation", v.AsString())
	v, _ = seedsAttr(hook, otelbus.HookNameKey)
	assert.Equal(t, "api.publish", v.AsString())
}
