package bus_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/bus"
)

type signup struct{ User string }

// unitBus is a bus with a welcome mail held for the commit and an
// audit line written at once, both appending to *log.
func unitBus(t *testing.T, log *[]string) (*bus.Bus, *bus.Topic[signup]) {
	t.Helper()
	topic := bus.NewTopic[signup]("unit.signup")
	b := newBus(t, []bus.Listener{
		bus.On(topic, func(_ context.Context, s *signup) error { *log = append(*log, "mail "+s.User); return nil },
			bus.AfterCommit(), bus.Name("mail")),
		bus.On(topic, func(_ context.Context, s *signup) error { *log = append(*log, "audit "+s.User); return nil },
			bus.Rank(1), bus.Name("audit")),
	})
	return b, topic
}

func TestAfterCommitRunsAtCommitInPublishOrder(t *testing.T) {
	var log []string
	b, topic := unitBus(t, &log)
	ctx, u := bus.BeginUnit(context.Background())
	require.NoError(t, topic.Publish(ctx, b, &signup{User: "ada"}))
	require.NoError(t, topic.Publish(ctx, b, &signup{User: "bob"}))
	assert.Equal(t, []string{"audit ada", "audit bob"}, log, "held until the commit; the others run at once")
	require.NoError(t, u.Commit(ctx))
	assert.Equal(t, []string{"audit ada", "audit bob", "mail ada", "mail bob"}, log)
	assert.ErrorIs(t, u.Commit(ctx), bus.ErrUnitDone)
}

func TestAfterCommitDroppedOnRollback(t *testing.T) {
	var log []string
	b, topic := unitBus(t, &log)
	storing := errors.New("insert failed")
	err := bus.InUnit(context.Background(), func(ctx context.Context) error {
		require.NoError(t, topic.Publish(ctx, b, &signup{User: "ada"}))
		return storing
	})
	assert.ErrorIs(t, err, storing)
	assert.Equal(t, []string{"audit ada"}, log)

	require.NoError(t, bus.InUnit(context.Background(), func(ctx context.Context) error {
		return topic.Publish(ctx, b, &signup{User: "bob"})
	}))
	assert.Equal(t, []string{"audit ada", "audit bob", "mail bob"}, log)

	assert.Panics(t, func() {
		_ = bus.InUnit(context.Background(), func(ctx context.Context) error {
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

	ctx, u := bus.BeginUnit(context.Background())
	u.Rollback()
	u.Rollback()
	require.NoError(t, topic.Publish(ctx, b, &signup{User: "bob"}))
	assert.Equal(t, []string{"mail ada", "audit ada", "mail bob", "audit bob"}, log, "an ended unit holds nothing")
	assert.ErrorIs(t, u.Commit(ctx), bus.ErrUnitDone)
}

func TestNestedUnitHandsItsHandlersToTheOuter(t *testing.T) {
	var log []string
	b, topic := unitBus(t, &log)
	ctx, outer := bus.BeginUnit(context.Background())
	inCtx, inner := bus.BeginUnit(ctx)
	require.NoError(t, topic.Publish(inCtx, b, &signup{User: "ada"}))
	require.NoError(t, inner.Commit(inCtx))
	assert.Equal(t, []string{"audit ada"}, log, "the outer unit has not committed")
	require.NoError(t, outer.Commit(ctx))
	assert.Equal(t, []string{"audit ada", "mail ada"}, log)
}

func TestCommitReportsHeldFailures(t *testing.T) {
	topic := bus.NewTopic[signup]("unit.fail")
	boom := errors.New("smtp down")
	b := newBus(t, []bus.Listener{
		bus.On(topic, func(context.Context, *signup) error { return boom }, bus.AfterCommit(), bus.Name("mail")),
		bus.On(topic, func(context.Context, *signup) error { panic("oops") }, bus.AfterCommit(), bus.Name("crm")),
		bus.On(topic, func(context.Context, *signup) error { return bus.ErrStop }, bus.AfterCommit(), bus.Name("stop")),
	})
	ctx, u := bus.BeginUnit(context.Background())
	require.NoError(t, topic.Publish(ctx, b, &signup{}), "held handlers succeed at publish")
	err := u.Commit(ctx)
	assert.ErrorIs(t, err, boom)
	var pe *bus.PanicError
	assert.ErrorAs(t, err, &pe)
	var he *bus.HandlerError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, "unit.fail", he.Topic)
	assert.Equal(t, "mail", he.Listener)
	assert.NotContains(t, err.Error(), "stop dispatch")
}

func TestAfterCommitSpansShowTheDeferral(t *testing.T) {
	rec, tp := newRecorder(t)
	topic := bus.NewTopic[signup]("unit.traced")
	b := newBus(t, []bus.Listener{
		bus.On(topic, func(context.Context, *signup) error { return nil }, bus.AfterCommit(), bus.Name("mail")),
	}, bus.WithTracerProvider(tp))
	ctx, u := bus.BeginUnit(context.Background())
	require.NoError(t, topic.Publish(ctx, b, &signup{}))
	ended := rec.Ended()
	require.Len(t, ended, 2)
	var atPublish = ended[0]
	assert.Equal(t, "after_commit", attrMap(atPublish.Attributes())["fxbus.deferred"])
	require.Len(t, atPublish.Events(), 1)
	assert.Equal(t, "fxbus.deferred", atPublish.Events()[0].Name)

	require.NoError(t, u.Commit(ctx))
	ended = rec.Ended()
	require.Len(t, ended, 3)
	atCommit := ended[2]
	assert.Equal(t, atPublish.Name(), atCommit.Name())
	assert.Equal(t, true, attrMap(atCommit.Attributes())["fxbus.after_commit"])
	require.Len(t, atCommit.Links(), 1)
	assert.Equal(t, atPublish.SpanContext().SpanID(), atCommit.Links()[0].SpanContext.SpanID())
}

func TestTopicOfAndDepthOf(t *testing.T) {
	outer := bus.NewTopic[event]("ctx.outer")
	inner := bus.NewTopic[event]("ctx.inner")
	var got []string
	shared := func(ctx context.Context, e *event) error {
		tp, ok := bus.TopicOf(ctx)
		require.True(t, ok)
		got = append(got, tp.Name()+"@"+string(rune('0'+bus.DepthOf(ctx))))
		return nil
	}
	var b *bus.Bus
	b = newBus(t, []bus.Listener{
		bus.On(outer, shared),
		bus.On(outer, func(ctx context.Context, e *event) error {
			if err := inner.Publish(ctx, b, e); err != nil {
				return err
			}
			return shared(ctx, e) // back in the outer publish
		}, bus.Rank(1)),
		bus.On(inner, shared),
	})
	require.NoError(t, outer.Publish(context.Background(), b, &event{}))
	assert.Equal(t, []string{"ctx.outer@1", "ctx.inner@2", "ctx.outer@1"}, got)
	_, ok := bus.TopicOf(context.Background())
	assert.False(t, ok)
	assert.Zero(t, bus.DepthOf(context.Background()))
	//lint:ignore SA1012 a nil context is 0, not a crash
	assert.Zero(t, bus.DepthOf(nil))
}
