package bus_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/bus"
)

type userKey struct{}

// TestContextValuesReachNestedHandlers: what the publisher put in the
// context, such as the caller's identity, reaches the handlers of nested
// publishes, with tracing or without.
func TestContextValuesReachNestedHandlers(t *testing.T) {
	outer := bus.NewTopic[srcEv]("caller.outer")
	inner := bus.NewTopic[srcEv]("caller.inner")
	var seen []string
	var b *bus.Bus
	b = newBus(t, []bus.Listener{
		bus.On(outer, func(ctx context.Context, e *srcEv) error { return inner.Publish(ctx, b, e) }),
		bus.On(inner, func(ctx context.Context, _ *srcEv) error {
			seen = append(seen, ctx.Value(userKey{}).(string))
			return nil
		}),
	})
	_, tp := newRecorder(t)
	tracing := bus.WithTracerProvider(tp)
	traced := newBus(t, []bus.Listener{bus.On(inner, func(ctx context.Context, _ *srcEv) error {
		seen = append(seen, ctx.Value(userKey{}).(string)+" traced")
		return nil
	})}, tracing)
	ctx := context.WithValue(context.Background(), userKey{}, "u7")
	require.NoError(t, outer.Publish(ctx, b, &srcEv{}))
	require.NoError(t, inner.Publish(ctx, traced, &srcEv{}))
	assert.Equal(t, []string{"u7", "u7 traced"}, seen)
}

type (
	assetChannel struct{ name string }
	assetMsg     struct {
		Channel *assetChannel
		Table   int
	}
)

func TestAssetScopeRecipe(t *testing.T) {
	lobby, support := &assetChannel{"lobby"}, &assetChannel{"lobby"} // same name, different assets
	topic := bus.NewTopic[assetMsg]("asset.msg")
	var log notes
	channelOf := func(m *assetMsg) *assetChannel { return m.Channel }
	b := newBus(t, []bus.Listener{
		bus.On(topic, note[assetMsg](&log, "lobby"), topic.When(func(m *assetMsg) bool { return channelOf(m) == lobby })),
		bus.On(topic, note[assetMsg](&log, "support"), topic.When(func(m *assetMsg) bool { return channelOf(m) == support })),
		bus.On(topic, note[assetMsg](&log, "table 3"), topic.When(func(m *assetMsg) bool { return m.Table == 3 })),
		bus.On(topic, note[assetMsg](&log, "all")),
	})
	ctx := context.Background()
	require.NoError(t, topic.Publish(ctx, b, &assetMsg{Channel: lobby}))
	require.NoError(t, topic.Publish(ctx, b, &assetMsg{Channel: support, Table: 3}))
	assert.Equal(t, notes{"lobby", "all", "support", "table 3", "all"}, log)

	if !raceEnabled {
		e := &assetMsg{Channel: lobby}
		assert.Zero(t, testing.AllocsPerRun(200, func() { _ = topic.Publish(ctx, b, e) }))
	}
}
