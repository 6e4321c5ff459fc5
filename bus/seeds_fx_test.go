package bus_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/fxbus/fxbus/bus"
)

// TestSeedFeaturesThroughFx declares listeners with sources and rules once,
// with Listen, and builds two fx apps from them: each app's bus honours
// both, and a rule change reaches both.
func TestSeedFeaturesThroughFx(t *testing.T) {
	topic := bus.NewTopic[srcEv]("seeds.fx")
	rs, err := bus.NewRuleSet("fx", bus.Include, bus.Match("evens", topic, func(e *srcEv) bool { return e.N%2 == 0 }))
	require.NoError(t, err)
	var log seedsLog
	module := fx.Module("seeds",
		bus.Listen(topic, seedsRecord[srcEv](&log, "pets"), bus.FromSource[srcPet]()),
		bus.Listen(topic, seedsRecord[srcEv](&log, "ruled"), bus.WithRules(rs)),
	)
	ctx := context.Background()
	for range 2 {
		var b *bus.Bus
		app := fxtest.New(t, module, bus.Module, fx.Populate(&b), fx.NopLogger)
		app.RequireStart()
		log = nil
		require.NoError(t, topic.PublishFrom(ctx, b, &srcDog{}, &srcEv{N: 2}))
		require.NoError(t, topic.PublishFrom(ctx, b, &srcRock{}, &srcEv{N: 1}))
		assert.Equal(t, seedsLog{"pets", "ruled"}, log)

		require.NoError(t, rs.Reset(bus.Include, bus.Match("all", topic)))
		log = nil
		require.NoError(t, topic.Publish(ctx, b, &srcEv{N: 1}))
		assert.Equal(t, seedsLog{"ruled"}, log)
		require.NoError(t, rs.Reset(bus.Include, bus.Match("evens", topic, func(e *srcEv) bool { return e.N%2 == 0 })))
		app.RequireStop()
	}
}
