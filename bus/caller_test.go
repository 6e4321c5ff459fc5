package bus_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/bus"
)

func TestCallerInContext(t *testing.T) {
	ctx := context.Background()
	_, ok := bus.CallerFrom(ctx)
	assert.False(t, ok)

	roles := []string{"admin", "operator"}
	ctx = bus.WithCaller(ctx, bus.Caller{UserID: "u1", Token: "secret-token", Roles: roles})
	roles[0] = "changed" // WithCaller kept its own copy
	c, ok := bus.CallerFrom(ctx)
	require.True(t, ok)
	assert.Equal(t, "u1", c.UserID)
	assert.Equal(t, "secret-token", c.Token)
	assert.True(t, c.HasRole("admin"))
	assert.False(t, c.HasRole("changed"))
	assert.False(t, c.Anonymous())
	assert.Equal(t, "u1 [admin operator]", c.String())
	assert.NotContains(t, c.String(), "secret")
	assert.True(t, bus.Caller{}.Anonymous())
	assert.Equal(t, "anonymous []", bus.Caller{}.String())
}

func TestCallerReachesHandlersOfNestedPublishes(t *testing.T) {
	outer := bus.NewTopic[srcEv]("caller.outer")
	inner := bus.NewTopic[srcEv]("caller.inner")
	var seen []string
	var b *bus.Bus
	b = seedsNew(t, []bus.Listener{
		bus.On(outer, func(ctx context.Context, e *srcEv) error { return inner.Publish(ctx, b, e) }),
		bus.On(inner, func(ctx context.Context, _ *srcEv) error {
			c, _ := bus.CallerFrom(ctx)
			seen = append(seen, c.UserID)
			return nil
		}),
	})
	_, tracing := seedsTracing(t)
	traced := seedsNew(t, []bus.Listener{bus.On(inner, func(ctx context.Context, _ *srcEv) error {
		c, _ := bus.CallerFrom(ctx)
		seen = append(seen, c.UserID+" traced")
		return nil
	})}, tracing)
	ctx := bus.WithCaller(context.Background(), bus.Caller{UserID: "u7"})
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
	var log seedsLog
	channelOf := func(m *assetMsg) *assetChannel { return m.Channel }
	b := seedsNew(t, []bus.Listener{
		bus.On(topic, seedsRecord[assetMsg](&log, "lobby"), topic.When(func(m *assetMsg) bool { return channelOf(m) == lobby })),
		bus.On(topic, seedsRecord[assetMsg](&log, "support"), topic.When(func(m *assetMsg) bool { return channelOf(m) == support })),
		bus.On(topic, seedsRecord[assetMsg](&log, "table 3"), topic.When(func(m *assetMsg) bool { return m.Table == 3 })),
		bus.On(topic, seedsRecord[assetMsg](&log, "all")),
	})
	ctx := context.Background()
	require.NoError(t, topic.Publish(ctx, b, &assetMsg{Channel: lobby}))
	require.NoError(t, topic.Publish(ctx, b, &assetMsg{Channel: support, Table: 3}))
	assert.Equal(t, seedsLog{"lobby", "all", "support", "table 3", "all"}, log)

	if !raceEnabledSeeds {
		e := &assetMsg{Channel: lobby}
		assert.Zero(t, testing.AllocsPerRun(200, func() { _ = topic.Publish(ctx, b, e) }))
	}
}
