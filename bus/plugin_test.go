package bus_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/internal/otelbus"
)

type plugEv struct{ After bool }

func plugNop(context.Context, *plugEv) error { return nil }

func TestRegisterPlugin(t *testing.T) {
	b := seedsNew(t, nil)
	p, err := b.RegisterPlugin("MyPlugin")
	require.NoError(t, err)
	assert.Equal(t, "MyPlugin", p.Name())

	_, err = b.RegisterPlugin("MyPlugin")
	var perr *bus.PluginError
	require.ErrorAs(t, err, &perr)
	assert.ErrorIs(t, err, bus.ErrPluginExists)
	assert.Equal(t, "MyPlugin", perr.Plugin)

	other := seedsNew(t, nil)
	_, err = other.RegisterPlugin("MyPlugin")
	assert.NoError(t, err, "names are unique per bus")

	_, err = b.RegisterPlugin("")
	assert.Error(t, err)
	var nilBus *bus.Bus
	_, err = nilBus.RegisterPlugin("x")
	assert.ErrorIs(t, err, bus.ErrNilBus)

	require.NoError(t, p.Unregister())
	p2, err := b.RegisterPlugin("MyPlugin")
	require.NoError(t, err, "an unregistered plugin frees its name")
	assert.NotSame(t, p, p2)
	require.NoError(t, p.Unregister(), "unregistering the old handle again does not touch the new plugin")
	_, err = b.RegisterPlugin("MyPlugin")
	assert.ErrorIs(t, err, bus.ErrPluginExists)

	require.NoError(t, b.Close())
	_, err = b.RegisterPlugin("late")
	assert.ErrorIs(t, err, bus.ErrClosed)
	assert.NoError(t, p2.Unregister(), "Unregister on a closed bus is not an error")
}

func TestPluginOnTheZeroBus(t *testing.T) {
	var b bus.Bus
	topic := bus.NewTopic[plugEv]("plug.zero")
	p, err := b.RegisterPlugin("P")
	require.NoError(t, err)
	var log seedsLog
	_, err = bus.SubscribeAs(p, topic, seedsRecord[plugEv](&log, "p"))
	require.NoError(t, err)
	require.NoError(t, topic.Publish(context.Background(), &b, &plugEv{}))
	require.NoError(t, p.Unregister())
	require.NoError(t, topic.Publish(context.Background(), &b, &plugEv{}))
	assert.Equal(t, seedsLog{"p"}, log)
}

func TestSubscribeAsAttributesToThePlugin(t *testing.T) {
	rec, tracing := seedsTracing(t)
	topic := bus.NewTopic[plugEv]("plug.attr")
	b := seedsNew(t, nil, tracing)
	p, err := b.RegisterPlugin("MyPlugin")
	require.NoError(t, err)
	boom := errors.New("boom")
	sub, err := bus.SubscribeAs(p, topic, func(context.Context, *plugEv) error { return boom }, bus.Name("onReady"), bus.Rank(3))
	require.NoError(t, err)

	info := sub.Info()
	assert.Equal(t, "MyPlugin", info.Plugin)
	assert.Equal(t, "MyPlugin/onReady", info.Name)
	assert.Equal(t, 3, info.Rank)
	assert.Contains(t, info.Source.File, "plugin_test.go", "the source is the SubscribeAs call")
	assert.Equal(t, []bus.ListenerInfo{info}, p.Listeners())

	err = topic.Publish(context.Background(), b, &plugEv{})
	var herr *bus.HandlerError
	require.ErrorAs(t, err, &herr)
	assert.Equal(t, "MyPlugin/onReady", herr.Listener)

	span := seedsSpan(t, rec, "MyPlugin/onReady plug.attr")
	v, ok := seedsAttr(span, otelbus.PluginKey)
	require.True(t, ok, "the handler span has %s", otelbus.PluginKey)
	assert.Equal(t, "MyPlugin", v.AsString())
}

func TestUnregisterRemovesEverySubscription(t *testing.T) {
	ready := bus.NewTopic[plugEv]("plug.ready")
	msg := bus.NewTopic[plugEv]("plug.msg")
	var log seedsLog
	b := seedsNew(t, []bus.Listener{bus.On(ready, seedsRecord[plugEv](&log, "static"))})
	p, err := b.RegisterPlugin("P")
	require.NoError(t, err)
	s1, err := bus.SubscribeAs(p, ready, seedsRecord[plugEv](&log, "p ready"))
	require.NoError(t, err)
	_, err = bus.SubscribeAs(p, msg, seedsRecord[plugEv](&log, "p msg 1"))
	require.NoError(t, err)
	_, err = bus.SubscribeAs(p, msg, seedsRecord[plugEv](&log, "p msg 2"))
	require.NoError(t, err)
	other, err := b.RegisterPlugin("Other")
	require.NoError(t, err)
	_, err = bus.SubscribeAs(other, msg, seedsRecord[plugEv](&log, "other msg"))
	require.NoError(t, err)

	ctx := context.Background()
	publish := func() {
		require.NoError(t, ready.Publish(ctx, b, &plugEv{}))
		require.NoError(t, msg.Publish(ctx, b, &plugEv{}))
	}
	publish()
	assert.Equal(t, seedsLog{"static", "p ready", "p msg 1", "p msg 2", "other msg"}, log)
	assert.Len(t, p.Listeners(), 3)

	require.NoError(t, p.Unregister())
	log = nil
	publish()
	assert.Equal(t, seedsLog{"static", "other msg"}, log)
	assert.Empty(t, p.Listeners())
	assert.NoError(t, s1.Close(), "closing a subscription of an unregistered plugin is a no-op")
	assert.NoError(t, p.Unregister(), "Unregister is idempotent")

	_, err = bus.SubscribeAs(p, ready, plugNop, bus.Name("late"))
	var perr *bus.PluginError
	require.ErrorAs(t, err, &perr)
	assert.ErrorIs(t, err, bus.ErrPluginUnregistered)
	assert.Equal(t, "P", perr.Plugin)
	assert.Equal(t, "plug.ready", perr.Topic)
	assert.Contains(t, perr.Listener, "P/late (")
	assert.Contains(t, perr.Listener, "plugin_test.go:")
	log = nil
	publish()
	assert.Equal(t, seedsLog{"static", "other msg"}, log, "the refused subscription was not added")
}

func TestPluginSubscriptionCloseDetaches(t *testing.T) {
	topic := bus.NewTopic[plugEv]("plug.close")
	var log seedsLog
	b := seedsNew(t, nil)
	p, err := b.RegisterPlugin("P")
	require.NoError(t, err)
	s1, err := bus.SubscribeAs(p, topic, seedsRecord[plugEv](&log, "one"), bus.Name("one"))
	require.NoError(t, err)
	_, err = bus.SubscribeAs(p, topic, seedsRecord[plugEv](&log, "two"), bus.Name("two"))
	require.NoError(t, err)
	require.NoError(t, s1.Close())
	require.Len(t, p.Listeners(), 1)
	assert.Equal(t, "P/two", p.Listeners()[0].Name)
	require.NoError(t, topic.Publish(context.Background(), b, &plugEv{}))
	assert.Equal(t, seedsLog{"two"}, log)
	require.NoError(t, p.Unregister())
	log = nil
	require.NoError(t, topic.Publish(context.Background(), b, &plugEv{}))
	assert.Empty(t, log)
}

func TestSubscribeAsChecks(t *testing.T) {
	only := bus.NewTopic[plugEv]("plug.only", bus.ExactlyOne)
	b := seedsNew(t, []bus.Listener{bus.On(only, plugNop)})
	p, err := b.RegisterPlugin("P")
	require.NoError(t, err)
	_, err = bus.SubscribeAs(p, only, plugNop)
	require.ErrorIs(t, err, bus.ErrRequirement)
	assert.Empty(t, p.Listeners(), "a refused subscription is not the plugin's")

	_, err = bus.SubscribeAs(nil, only, plugNop)
	assert.Error(t, err)
	_, err = bus.SubscribeAs[plugEv](p, nil, plugNop)
	assert.ErrorContains(t, err, `plugin "P"`)
	_, err = bus.SubscribeAs(p, bus.NewTopic[plugEv]("plug.nil"), nil)
	assert.ErrorIs(t, err, bus.ErrNilHandler)
}

// TestPluginUnregisterRaceWithPublishes unregisters a plugin while
// publishes run: a publish that starts after Unregister returned never
// reaches the plugin, a publish never sees part of the plugin removed, and
// -race sees no data race.
func TestPluginUnregisterRaceWithPublishes(t *testing.T) {
	ready := bus.NewTopic[plugEv]("plug.race.ready")
	msg := bus.NewTopic[plugEv]("plug.race.msg")
	for round := range 20 {
		b := seedsNew(t, nil)
		p, err := b.RegisterPlugin("P")
		require.NoError(t, err)
		var late, torn atomic.Int64
		var heardReady, heardMsg atomic.Bool
		check := func(heard *atomic.Bool) func(context.Context, *plugEv) error {
			return func(_ context.Context, e *plugEv) error {
				heard.Store(true)
				if e.After {
					late.Add(1)
				}
				return nil
			}
		}
		_, err = bus.SubscribeAs(p, ready, check(&heardReady))
		require.NoError(t, err)
		_, err = bus.SubscribeAs(p, msg, check(&heardMsg))
		require.NoError(t, err)

		var unregistered atomic.Bool
		var wg sync.WaitGroup
		// Publishers: two topics in turn, in both orders.
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for i := 0; ; i++ {
				after := unregistered.Load()
				first, second := ready, msg
				h1, h2 := &heardReady, &heardMsg
				if i%2 == 1 {
					first, second, h1, h2 = msg, ready, &heardMsg, &heardReady
				}
				h1.Store(false)
				h2.Store(false)
				_ = first.Publish(ctx, b, &plugEv{After: after})
				_ = second.Publish(ctx, b, &plugEv{After: after})
				if !h1.Load() && h2.Load() {
					torn.Add(1)
				}
				if after {
					return
				}
			}
		}()
		// A concurrent subscriber: each SubscribeAs either lands before
		// Unregister, and is removed by it, or fails.
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !unregistered.Load() {
				if _, err := bus.SubscribeAs(p, msg, check(&heardMsg)); err != nil {
					if !errors.Is(err, bus.ErrPluginUnregistered) {
						late.Add(1000)
					}
					return
				}
			}
		}()
		require.NoError(t, p.Unregister())
		unregistered.Store(true)
		wg.Wait()
		assert.Zero(t, late.Load(), "round %d: a publish begun after Unregister reached the plugin", round)
		assert.Zero(t, torn.Load(), "round %d: a publish saw the plugin half removed", round)
		heardMsg.Store(false)
		require.NoError(t, msg.Publish(context.Background(), b, &plugEv{}))
		assert.False(t, heardMsg.Load(), "round %d: a racing SubscribeAs survived Unregister", round)
	}
}

func TestPluginListenersAllocateNothing(t *testing.T) {
	if raceEnabledSeeds {
		t.Skip("the race detector allocates")
	}
	topic := bus.NewTopic[plugEv]("plug.alloc")
	b := seedsNew(t, []bus.Listener{bus.On(topic, plugNop)})
	p, err := b.RegisterPlugin("P")
	require.NoError(t, err)
	for range 3 {
		_, err = bus.SubscribeAs(p, topic, plugNop)
		require.NoError(t, err)
	}
	ctx, e := context.Background(), &plugEv{}
	assert.Zero(t, testing.AllocsPerRun(200, func() { _ = topic.Publish(ctx, b, e) }))
}
