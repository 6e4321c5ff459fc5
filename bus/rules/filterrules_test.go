package rules_test

// The scenario test of seed 002, plugin event subscription with filter rules
// (/work/shared/seeds/002_*.txt): a subscription with an id; filter rules
// with an include or exclude policy; each rule, with an id, matches an
// event and optionally any-of groups of all-of parameter matches; rules
// added, modified and removed by id; an empty include set blocks all.
// Typed predicates replace the JSON parameter matching.

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/plugin"
	"github.com/fxbus/fxbus/bus/rules"
	"github.com/fxbus/fxbus/internal/spantest"
)

type (
	frNodeAdded struct{ Node string }
	// frEvent1 carries the parameters the seed's examples match on.
	frEvent1 struct {
		ID      int
		Name    string
		Age     int
		City    map[string]any // "city": {} in the seed: present, whatever its content
		SomeKey string
	}
	frEvent2    struct{}
	frBestEvent struct{ ID int }
)

var (
	frTopicNodeAdded = bus.NewTopic[frNodeAdded]("node_added")
	frTopicEvent1    = bus.NewTopic[frEvent1]("event_1")
	frTopicEvent2    = bus.NewTopic[frEvent2]("event_2")
	frTopicBest      = bus.NewTopic[frBestEvent]("the best event")
)

// frModule publishes one of each module event: the best event twice, with
// id 42 and 7, and event_1 with each parameter set of the seed's example.
func frModule(t *testing.T, b *bus.Bus) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, frTopicNodeAdded.Publish(ctx, b, &frNodeAdded{Node: "n1"}))
	for _, e := range []frEvent1{
		{ID: 42, Name: "the best name ever"},
		{ID: 42, Name: "the best name ever", SomeKey: "extra data passes too"},
		{ID: 42, Name: "another name"},
		{Age: 100500, City: map[string]any{}},
		{Age: 100500},
		{},
	} {
		require.NoError(t, frTopicEvent1.Publish(ctx, b, &e))
	}
	require.NoError(t, frTopicEvent2.Publish(ctx, b, &frEvent2{}))
	require.NoError(t, frTopicBest.Publish(ctx, b, &frBestEvent{ID: 42}))
	require.NoError(t, frTopicBest.Publish(ctx, b, &frBestEvent{ID: 7}))
}

// frSubscribe subscribes a plugin's script to every module event; rs nil
// is a subscription without a filter. It returns what the script was
// notified of.
func frSubscribe(t *testing.T, b *bus.Bus, script string, rs *rules.Set) *spantest.Trail {
	t.Helper()
	p, err := plugin.Register(b, script)
	require.NoError(t, err)
	log := &spantest.Trail{}
	_, err = frTopicNodeAdded.Subscribe(b, func(_ context.Context, e *frNodeAdded) error {
		log.Add("node_added")
		return nil
	}, frOpts(p, rs, frTopicNodeAdded)...)
	require.NoError(t, err)
	_, err = frTopicEvent1.Subscribe(b, func(_ context.Context, e *frEvent1) error {
		switch {
		case e.Name != "":
			log.Add("event_1 id+name:" + e.Name)
		case e.City != nil:
			log.Add("event_1 age+city")
		case e.Age != 0:
			log.Add("event_1 age")
		default:
			log.Add("event_1")
		}
		return nil
	}, frOpts(p, rs, frTopicEvent1)...)
	require.NoError(t, err)
	_, err = frTopicEvent2.Subscribe(b, spantest.Note[frEvent2](log, "event_2"), frOpts(p, rs, frTopicEvent2)...)
	require.NoError(t, err)
	_, err = frTopicBest.Subscribe(b, func(_ context.Context, e *frBestEvent) error {
		if e.ID == 42 {
			log.Add("the best event 42")
		} else {
			log.Add("the best event")
		}
		return nil
	}, frOpts(p, rs, frTopicBest)...)
	require.NoError(t, err)
	return log
}

// frOpts are the options of a subscription of plugin p to topic t, which
// obeys rs unless it is nil.
func frOpts[T any](p *plugin.Plugin, rs *rules.Set, t *bus.Topic[T]) []bus.ListenerOption {
	opts := []bus.ListenerOption{bus.OwnedBy(p)}
	if rs != nil {
		opts = append(opts, rules.When(rs, t))
	}
	return opts
}

var frAllEvents = spantest.Trail{
	"node_added",
	"event_1 id+name:the best name ever", "event_1 id+name:the best name ever", "event_1 id+name:another name",
	"event_1 age+city", "event_1 age", "event_1",
	"event_2",
	"the best event 42", "the best event",
}

// TestFilterRules is the seed's plugin subscriptions, their filter
// rules, and the seed's changes to them at run time.
func TestFilterRules(t *testing.T) {
	t.Run("omitted filter passes all", func(t *testing.T) {
		b := spantest.NewBus(t, nil)
		log := frSubscribe(t, b, "all.lua", nil)
		frModule(t, b)
		assert.Equal(t, frAllEvents, *log)
	})
	// {"exclude": false, "rules": [{"event": "node_added"}, {"event": "event_1"}]}
	t.Run("pass only two events", func(t *testing.T) {
		rs, err := rules.New("two.lua", rules.Include,
			rules.Match("", frTopicNodeAdded),
			rules.Match("", frTopicEvent1))
		require.NoError(t, err)
		b := spantest.NewBus(t, nil)
		log := frSubscribe(t, b, "two.lua", rs)
		frModule(t, b)
		assert.Equal(t, frAllEvents[:7], *log)
	})
	// TestFilterRulesMatchByParameterGroups is the seed's
	//
	//	{"rules": [{"event": "event_1", "accepts": [
	//	  {"id": 42, "name": "the best name ever"},
	//	  {"age": 100500, "city": {}}]}]}
	t.Run("match by parameter groups", func(t *testing.T) {
		rs, err := rules.New("params.lua", rules.Include, rules.Match("event_id", frTopicEvent1,
			rules.AllOf(func(e *frEvent1) bool { return e.ID == 42 }, func(e *frEvent1) bool { return e.Name == "the best name ever" }),
			rules.AllOf(func(e *frEvent1) bool { return e.Age == 100500 }, func(e *frEvent1) bool { return e.City != nil }),
		))
		require.NoError(t, err)
		b := spantest.NewBus(t, nil)
		log := frSubscribe(t, b, "params.lua", rs)
		frModule(t, b)
		assert.Equal(t, spantest.Trail{
			"event_1 id+name:the best name ever",
			"event_1 id+name:the best name ever", // with more data alongside: passes too
			"event_1 age+city",
		}, *log)
	})
	// {"exclude": true, "rules": [{"event": "event_1"}, {"event": "event_2"}]}
	t.Run("block two events", func(t *testing.T) {
		rs, err := rules.New("block.lua", rules.Exclude,
			rules.Match("", frTopicEvent1),
			rules.Match("", frTopicEvent2))
		require.NoError(t, err)
		b := spantest.NewBus(t, nil)
		log := frSubscribe(t, b, "block.lua", rs)
		frModule(t, b)
		assert.Equal(t, spantest.Trail{"node_added", "the best event 42", "the best event"}, *log)
	})
	// {"exclude": false, "rules": []}, or {"rules": []}
	t.Run("block all", func(t *testing.T) {
		rs, err := rules.New("none.lua", rules.Include)
		require.NoError(t, err)
		b := spantest.NewBus(t, nil)
		log := frSubscribe(t, b, "none.lua", rs)
		frModule(t, b)
		assert.Empty(t, *log)
	})
	// The seed's change: remove rule "1", modify rule "100500", add a rule for
	// event_1; then, later, remove "100500".
	t.Run("modified and removed at run time", func(t *testing.T) {
		rs, err := rules.New("changing.lua", rules.Include,
			rules.Match("1", frTopicNodeAdded),
			rules.Match("100500", frTopicBest))
		require.NoError(t, err)
		b := spantest.NewBus(t, nil)
		log := frSubscribe(t, b, "changing.lua", rs)
		frModule(t, b)
		assert.Equal(t, spantest.Trail{"node_added", "the best event 42", "the best event"}, *log)

		//	[{"id": "1", "event": ""},
		//	 {"id": "100500", "event": "the best event", "accepts": [{"id": 42}]},
		//	 {"event": "event_1"}]
		require.NoError(t, rs.Remove("1"))
		require.NoError(t, rs.Put(
			rules.Match("100500", frTopicBest, func(e *frBestEvent) bool { return e.ID == 42 }),
			rules.Match("", frTopicEvent1)))
		*log = nil
		frModule(t, b)
		assert.Equal(t, append(frAllEvents[1:7:7], "the best event 42"), *log)

		require.NoError(t, rs.Remove("100500"))
		*log = nil
		frModule(t, b)
		assert.Equal(t, frAllEvents[1:7], *log)

		assert.ErrorIs(t, rs.Remove("100500"), rules.ErrUnknownRule, "already removed")
	})
}
