package rules_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/rules"
	"github.com/fxbus/fxbus/internal/spantest"
)

// TestWhenThroughListen declares a listener that obeys a rule set once,
// with Listen, and builds two fx apps from it: each app's bus honours it,
// and a rule change reaches both.
func TestWhenThroughListen(t *testing.T) {
	topic := bus.NewTopic[ruleEv]("rules.fx")
	even := func(e *ruleEv) bool { return e.ID%2 == 0 }
	rs, err := rules.New("fx", rules.Include, rules.Match("evens", topic, even))
	require.NoError(t, err)
	var log spantest.Trail
	module := fx.Module("ruled", bus.Listen(topic, spantest.Note[ruleEv](&log, "ruled"), rules.When(rs, topic)))
	ctx := context.Background()
	for range 2 {
		var b *bus.Bus
		app := fxtest.New(t, module, bus.Module, fx.Populate(&b), fx.NopLogger)
		app.RequireStart()
		log = nil
		require.NoError(t, topic.Publish(ctx, b, &ruleEv{ID: 2}))
		require.NoError(t, topic.Publish(ctx, b, &ruleEv{ID: 1}))
		assert.Equal(t, spantest.Trail{"ruled"}, log)

		require.NoError(t, rs.Reset(rules.Include, rules.Match("all", topic)))
		log = nil
		require.NoError(t, topic.Publish(ctx, b, &ruleEv{ID: 1}))
		assert.Equal(t, spantest.Trail{"ruled"}, log)
		require.NoError(t, rs.Reset(rules.Include, rules.Match("evens", topic, even)))
		app.RequireStop()
	}
}
