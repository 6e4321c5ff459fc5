package bus_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/bus"
)

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
