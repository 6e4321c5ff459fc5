package unit_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/unit"
	"github.com/fxbus/fxbus/internal/spantest"
)

type signup struct{ User string }

// unitBus is a bus with a welcome mail held for the commit and an
// audit line written at once, both appending to *log.
func unitBus(t *testing.T, log *[]string) (*bus.Bus, *bus.Topic[signup]) {
	t.Helper()
	topic := bus.NewTopic[signup]("unit.signup")
	b := spantest.NewBus(t, []bus.Listener{
		bus.On(topic, func(_ context.Context, s *signup) error { *log = append(*log, "mail "+s.User); return nil },
			unit.AfterCommit(), bus.Name("mail")),
		bus.On(topic, func(_ context.Context, s *signup) error { *log = append(*log, "audit "+s.User); return nil },
			bus.Rank(1), bus.Name("audit")),
	})
	return b, topic
}

func TestAfterCommitRunsAtCommitInPublishOrder(t *testing.T) {
	var log []string
	b, topic := unitBus(t, &log)
	ctx, u := unit.Begin(context.Background())
	require.NoError(t, topic.Publish(ctx, b, &signup{User: "ada"}))
	require.NoError(t, topic.Publish(ctx, b, &signup{User: "bob"}))
	assert.Equal(t, []string{"audit ada", "audit bob"}, log, "held until the commit; the others run at once")
	require.NoError(t, u.Commit(ctx))
	assert.Equal(t, []string{"audit ada", "audit bob", "mail ada", "mail bob"}, log)
	err := u.Commit(ctx)
	assert.ErrorIs(t, err, unit.ErrDone)
	assert.EqualError(t, err, "fxbus: commit: unit of work already committed or rolled back")
}

func TestAfterCommitDroppedOnRollback(t *testing.T) {
	var log []string
	b, topic := unitBus(t, &log)
	storing := errors.New("insert failed")
	err := unit.Run(context.Background(), func(ctx context.Context) error {
		require.NoError(t, topic.Publish(ctx, b, &signup{User: "ada"}))
		return storing
	})
	assert.ErrorIs(t, err, storing)
	assert.Equal(t, []string{"audit ada"}, log)

	require.NoError(t, unit.Run(context.Background(), func(ctx context.Context) error {
		return topic.Publish(ctx, b, &signup{User: "bob"})
	}))
	assert.Equal(t, []string{"audit ada", "audit bob", "mail bob"}, log)

	assert.Panics(t, func() {
		_ = unit.Run(context.Background(), func(ctx context.Context) error {
			_ = topic.Publish(ctx, b, &signup{User: "cy"})
			panic("store crashed")
		})
	})
	assert.NotContains(t, log, "mail cy", "a panic rolls back")
}

func TestAfterCommitOutsideAUnitRunsAtOnce(t *testing.T) {
	var log []string
	b, topic := unitBus(t, &log)
	require.NoError(t, topic.Publish(context.Background(), b, &signup{User: "ada"}))
	assert.Equal(t, []string{"mail ada", "audit ada"}, log)

	ctx, u := unit.Begin(context.Background())
	u.Rollback()
	u.Rollback()
	require.NoError(t, topic.Publish(ctx, b, &signup{User: "bob"}))
	assert.Equal(t, []string{"mail ada", "audit ada", "mail bob", "audit bob"}, log, "an ended unit holds nothing")
	assert.ErrorIs(t, u.Commit(ctx), unit.ErrDone)
}

func TestNestedUnitHandsItsHandlersToTheOuter(t *testing.T) {
	var log []string
	b, topic := unitBus(t, &log)
	ctx, outer := unit.Begin(context.Background())
	inCtx, inner := unit.Begin(ctx)
	require.NoError(t, topic.Publish(inCtx, b, &signup{User: "ada"}))
	require.NoError(t, inner.Commit(inCtx))
	assert.Equal(t, []string{"audit ada"}, log, "the outer unit has not committed")
	require.NoError(t, outer.Commit(ctx))
	assert.Equal(t, []string{"audit ada", "mail ada"}, log)
}

func TestCommitReportsHeldFailures(t *testing.T) {
	topic := bus.NewTopic[signup]("unit.fail")
	boom := errors.New("smtp down")
	b := spantest.NewBus(t, []bus.Listener{
		bus.On(topic, func(context.Context, *signup) error { return boom }, unit.AfterCommit(), bus.Name("mail")),
		bus.On(topic, func(context.Context, *signup) error { panic("oops") }, unit.AfterCommit(), bus.Name("crm")),
		bus.On(topic, func(context.Context, *signup) error { return bus.ErrStop }, unit.AfterCommit(), bus.Name("stop")),
	})
	ctx, u := unit.Begin(context.Background())
	require.NoError(t, topic.Publish(ctx, b, &signup{}), "held handlers succeed at publish")
	err := u.Commit(ctx)
	assert.ErrorIs(t, err, unit.ErrHeldFailed, "the unit committed")
	assert.ErrorIs(t, err, boom)
	assert.Regexp(t, `^fxbus: unit committed, but handlers held for the commit failed: topic "unit.fail": listener mail \(.*unit_test.go:\d+\): smtp down; topic "unit.fail": listener crm .*panic`, err.Error(),
		"the prefix once, each failure after it")
	var pe *bus.PanicError
	assert.ErrorAs(t, err, &pe)
	var he *bus.HandlerError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, "unit.fail", he.Topic)
	assert.Equal(t, "mail", he.Listener)
	assert.NotContains(t, err.Error(), "stop dispatch")
}

// Run's error says whether the unit committed: a held handler's failure
// matches ErrHeldFailed (the work stands: retrying would do it twice); fn's
// own failure does not (the unit rolled back).
func TestRunTellsACommittedUnitFromARolledBackOne(t *testing.T) {
	topic := bus.NewTopic[signup]("unit.run.fail")
	smtp := errors.New("smtp down")
	var mailed int
	b := spantest.NewBus(t, []bus.Listener{
		bus.On(topic, func(context.Context, *signup) error { mailed++; return smtp }, unit.AfterCommit(), bus.Name("mail")),
	})
	ctx := context.Background()

	err := unit.Run(ctx, func(ctx context.Context) error { return topic.Publish(ctx, b, &signup{}) })
	assert.ErrorIs(t, err, unit.ErrHeldFailed, "committed; the follow-up failed")
	assert.ErrorIs(t, err, smtp)
	assert.Equal(t, 1, mailed)

	invalid := errors.New("invalid signup")
	err = unit.Run(ctx, func(ctx context.Context) error {
		if err := topic.Publish(ctx, b, &signup{}); err != nil {
			return err
		}
		return invalid
	})
	assert.ErrorIs(t, err, invalid)
	assert.NotErrorIs(t, err, unit.ErrHeldFailed, "rolled back")
	assert.Equal(t, 1, mailed, "a rolled-back unit runs nothing it held")
}

func TestAfterCommitSpansShowTheDeferral(t *testing.T) {
	rec, tracing := spantest.Tracing(t)
	topic := bus.NewTopic[signup]("unit.traced")
	b := spantest.NewBus(t, []bus.Listener{
		bus.On(topic, func(context.Context, *signup) error { return nil }, unit.AfterCommit(), bus.Name("mail")),
	}, tracing)
	ctx, u := unit.Begin(context.Background())
	require.NoError(t, topic.Publish(ctx, b, &signup{}))
	atPublish := spantest.Span(t, rec, "mail unit.traced")
	assert.Equal(t, "after_commit", spantest.Attr(atPublish, "fxbus.deferred"))
	require.Len(t, atPublish.Events(), 1)
	assert.Equal(t, "fxbus.deferred", atPublish.Events()[0].Name)

	require.NoError(t, u.Commit(ctx))
	ended := rec.Ended()
	require.Len(t, ended, 3, "publish, handler at the publish, handler at the commit")
	atCommit := ended[2]
	assert.Equal(t, atPublish.Name(), atCommit.Name())
	assert.Equal(t, "true", spantest.Attr(atCommit, "fxbus.after_commit"))
	assert.Equal(t, "mail", spantest.Attr(atCommit, "fxbus.listener.name"))
	assert.Equal(t, "unit.traced", spantest.Attr(atCommit, "messaging.destination.name"))
	require.Len(t, atCommit.Links(), 1)
	assert.Equal(t, atPublish.SpanContext().SpanID(), atCommit.Links()[0].SpanContext.SpanID())
}

func TestAfterCommitSpanRecordsTheFailure(t *testing.T) {
	rec, tracing := spantest.Tracing(t)
	topic := bus.NewTopic[signup]("unit.traced.fail")
	b := spantest.NewBus(t, []bus.Listener{
		bus.On(topic, func(context.Context, *signup) error { return errors.New("smtp down") }, unit.AfterCommit(), bus.Name("mail")),
	}, tracing)
	err := unit.Run(context.Background(), func(ctx context.Context) error { return topic.Publish(ctx, b, &signup{}) })
	require.Error(t, err)
	atCommit := rec.Ended()[2]
	assert.Equal(t, codes.Error, atCommit.Status().Code)
	assert.Equal(t, "smtp down", atCommit.Status().Description, "the handler's own error, as at a publish")
}

func TestAfterCommitWithoutTracingMakesNoSpan(t *testing.T) {
	rec, _ := spantest.Tracing(t)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	topic := bus.NewTopic[signup]("unit.untraced")
	ran := 0
	b := spantest.NewBus(t, []bus.Listener{
		bus.On(topic, func(context.Context, *signup) error { ran++; return nil }, unit.AfterCommit()),
	})
	// The caller traces with its own provider; the bus does not.
	ctx, span := tp.Tracer("caller").Start(context.Background(), "request")
	require.NoError(t, unit.Run(ctx, func(ctx context.Context) error { return topic.Publish(ctx, b, &signup{}) }))
	span.End()
	assert.Equal(t, 1, ran)
	assert.Equal(t, []string{"request"}, spantest.SpanNames(rec), "no span from a bus without tracing")
	assert.Empty(t, rec.Ended()[0].Links())
}

func TestAfterCommitHoldsTheBusMiddleware(t *testing.T) {
	topic := bus.NewTopic[signup]("unit.mw")
	var log spantest.Trail
	trail := func(next bus.Handler) bus.Handler {
		return func(ctx context.Context, env bus.Envelope) error {
			log.Add("m>")
			err := next(ctx, env)
			log.Add("<m")
			return err
		}
	}
	b := spantest.NewBus(t, []bus.Listener{bus.On(topic, spantest.Note[signup](&log, "h"), unit.AfterCommit())}, bus.WithMiddleware(trail))
	ctx, u := unit.Begin(context.Background())
	require.NoError(t, topic.Publish(ctx, b, &signup{}))
	assert.Empty(t, log)
	require.NoError(t, u.Commit(ctx))
	assert.Equal(t, spantest.Trail{"m>", "h", "<m"}, log, "the held handler runs with the bus's middleware")
}

// Middleware outside AfterCommit, a Wrap given before it and Bus.Use's,
// runs at the publish around the hold; a Wrap given after it is held
// with the handler.
func TestAfterCommitHoldsOnlyTheMiddlewareInsideIt(t *testing.T) {
	topic := bus.NewTopic[signup]("unit.mwplace")
	var log spantest.Trail
	trail := func(name string) bus.Middleware {
		return func(next bus.Handler) bus.Handler {
			return func(ctx context.Context, env bus.Envelope) error {
				log.Add(name + ">")
				err := next(ctx, env)
				log.Add("<" + name)
				return err
			}
		}
	}
	b := spantest.NewBus(t, []bus.Listener{bus.On(topic, spantest.Note[signup](&log, "h"),
		bus.Wrap(trail("before")), unit.AfterCommit(), bus.Wrap(trail("after")))}, bus.WithMiddleware(trail("new")))
	remove, err := b.Use(trail("use"))
	require.NoError(t, err)
	defer remove()
	ctx, u := unit.Begin(context.Background())
	require.NoError(t, topic.Publish(ctx, b, &signup{}))
	assert.Equal(t, spantest.Trail{"use>", "before>", "<before", "<use"}, log, "at the publish: around the hold")
	log = nil
	require.NoError(t, u.Commit(ctx))
	assert.Equal(t, spantest.Trail{"after>", "new>", "h", "<new", "<after"}, log, "at the commit")
}

func TestAfterCommitOnARuntimeSubscription(t *testing.T) {
	topic := bus.NewTopic[signup]("unit.sub")
	var log spantest.Trail
	b := spantest.NewBus(t, nil)
	sub, err := topic.Subscribe(b, spantest.Note[signup](&log, "late"), unit.AfterCommit())
	require.NoError(t, err)
	defer func() { _ = sub.Close() }()
	require.NoError(t, unit.Run(context.Background(), func(ctx context.Context) error {
		require.NoError(t, topic.Publish(ctx, b, &signup{}))
		assert.Empty(t, log)
		return nil
	}))
	assert.Equal(t, spantest.Trail{"late"}, log)
}
