package plugin_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/plugin"
	"github.com/fxbus/fxbus/internal/otelbus"
	"github.com/fxbus/fxbus/internal/race"
	"github.com/fxbus/fxbus/internal/spantest"
)

type plugEv struct{ After bool }

func plugNop(context.Context, *plugEv) error { return nil }

func TestRegisterPlugin(t *testing.T) {
	b := spantest.NewBus(t, nil)
	p, err := plugin.Register(b, "MyPlugin")
	require.NoError(t, err)
	assert.Equal(t, "MyPlugin", p.Name())

	_, err = plugin.Register(b, "MyPlugin")
	var perr *plugin.Error
	require.ErrorAs(t, err, &perr)
	assert.ErrorIs(t, err, plugin.ErrExists)
	assert.Equal(t, "MyPlugin", perr.Plugin)

	other := spantest.NewBus(t, nil)
	_, err = plugin.Register(other, "MyPlugin")
	assert.NoError(t, err, "names are unique per bus")

	_, err = plugin.Register(b, "")
	assert.Error(t, err)
	_, err = plugin.Register(nil, "x")
	assert.ErrorContains(t, err, "nil bus")

	require.NoError(t, p.Unregister())
	p2, err := plugin.Register(b, "MyPlugin")
	require.NoError(t, err, "an unregistered plugin frees its name")
	assert.NotSame(t, p, p2)
	require.NoError(t, p.Unregister(), "unregistering the old handle again does not touch the new plugin")
	_, err = plugin.Register(b, "MyPlugin")
	assert.ErrorIs(t, err, plugin.ErrExists)

	_, err = bus.NewTopic[plugEv]("plug.registered").Subscribe(b, plugNop, bus.OwnedBy(p2))
	require.NoError(t, err)
	require.NoError(t, b.Close())
	_, err = bus.NewTopic[plugEv]("plug.late").Subscribe(b, plugNop, bus.OwnedBy(p2))
	assert.ErrorIs(t, err, bus.ErrClosed, "a closed bus takes no subscription")
	assert.Len(t, p2.Listeners(), 1, "a refused subscription is not the plugin's")
	assert.NoError(t, p2.Unregister(), "Unregister on a closed bus is not an error")
}

func TestPluginOnTheZeroBus(t *testing.T) {
	var b bus.Bus
	topic := bus.NewTopic[plugEv]("plug.zero")
	p, err := plugin.Register(&b, "P")
	require.NoError(t, err)
	var log spantest.Trail
	_, err = topic.Subscribe(&b, spantest.Note[plugEv](&log, "p"), bus.OwnedBy(p))
	require.NoError(t, err)
	require.NoError(t, topic.Publish(context.Background(), &b, &plugEv{}))
	require.NoError(t, p.Unregister())
	require.NoError(t, topic.Publish(context.Background(), &b, &plugEv{}))
	assert.Equal(t, spantest.Trail{"p"}, log)
}

func TestSubscriptionsAreAttributedToThePlugin(t *testing.T) {
	rec, tp := spantest.Tracing(t)
	topic := bus.NewTopic[plugEv]("plug.attr")
	b := spantest.NewBus(t, nil, tp)
	p, err := plugin.Register(b, "MyPlugin")
	require.NoError(t, err)
	boom := errors.New("boom")
	sub, err := topic.Subscribe(b, func(context.Context, *plugEv) error { return boom }, bus.Name("onReady"), bus.Rank(3), bus.OwnedBy(p))
	require.NoError(t, err)

	info := sub.Info()
	assert.Equal(t, "MyPlugin", info.Plugin)
	assert.Equal(t, "MyPlugin/onReady", info.Name)
	assert.Equal(t, 3, info.Rank)
	assert.Contains(t, info.Source.File, "plugin_test.go", "the source is the Subscribe call")
	assert.Equal(t, []bus.ListenerInfo{info}, p.Listeners())

	err = topic.Publish(context.Background(), b, &plugEv{})
	var herr *bus.HandlerError
	require.ErrorAs(t, err, &herr)
	assert.Equal(t, "MyPlugin/onReady", herr.Listener)

	assert.Equal(t, "MyPlugin", spantest.Attr(spantest.Span(t, rec, "MyPlugin/onReady plug.attr"), otelbus.PluginKey), "the handler span has %s", otelbus.PluginKey)
}

func TestUnregisterRemovesEverySubscription(t *testing.T) {
	ready := bus.NewTopic[plugEv]("plug.ready")
	msg := bus.NewTopic[plugEv]("plug.msg")
	var log spantest.Trail
	b := spantest.NewBus(t, []bus.Listener{bus.On(ready, spantest.Note[plugEv](&log, "static"))})
	p, err := plugin.Register(b, "P")
	require.NoError(t, err)
	s1, err := ready.Subscribe(b, spantest.Note[plugEv](&log, "p ready"), bus.OwnedBy(p))
	require.NoError(t, err)
	_, err = msg.Subscribe(b, spantest.Note[plugEv](&log, "p msg 1"), bus.OwnedBy(p))
	require.NoError(t, err)
	_, err = msg.Subscribe(b, spantest.Note[plugEv](&log, "p msg 2"), bus.OwnedBy(p))
	require.NoError(t, err)
	other, err := plugin.Register(b, "Other")
	require.NoError(t, err)
	_, err = msg.Subscribe(b, spantest.Note[plugEv](&log, "other msg"), bus.OwnedBy(other))
	require.NoError(t, err)

	ctx := context.Background()
	publish := func() {
		require.NoError(t, ready.Publish(ctx, b, &plugEv{}))
		require.NoError(t, msg.Publish(ctx, b, &plugEv{}))
	}
	publish()
	assert.Equal(t, spantest.Trail{"static", "p ready", "p msg 1", "p msg 2", "other msg"}, log)
	assert.Len(t, p.Listeners(), 3)

	require.NoError(t, p.Unregister())
	log = nil
	publish()
	assert.Equal(t, spantest.Trail{"static", "other msg"}, log)
	assert.Empty(t, p.Listeners())
	assert.NoError(t, s1.Close(), "closing a subscription of an unregistered plugin is a no-op")
	assert.NoError(t, p.Unregister(), "Unregister is idempotent")

	_, err = ready.Subscribe(b, plugNop, bus.Name("late"), bus.OwnedBy(p))
	var perr *plugin.Error
	require.ErrorAs(t, err, &perr)
	assert.ErrorIs(t, err, plugin.ErrUnregistered)
	assert.Equal(t, "P", perr.Plugin)
	var werr *bus.WiringError
	require.ErrorAs(t, err, &werr, "the bus names the topic and the listener")
	assert.Equal(t, "plug.ready", werr.Topic)
	assert.Equal(t, "P/late", werr.Listener)
	assert.Contains(t, werr.Source.File, "plugin_test.go")
	assert.Regexp(t, `^fxbus: topic "plug.ready": listener P/late \(.*plugin_test.go:\d+\): plugin "P": unregistered$`, err.Error())
	log = nil
	publish()
	assert.Equal(t, spantest.Trail{"static", "other msg"}, log, "the refused subscription was not added")
}

func TestPluginSubscriptionCloseDetaches(t *testing.T) {
	topic := bus.NewTopic[plugEv]("plug.close")
	var log spantest.Trail
	b := spantest.NewBus(t, nil)
	p, err := plugin.Register(b, "P")
	require.NoError(t, err)
	s1, err := topic.Subscribe(b, spantest.Note[plugEv](&log, "one"), bus.Name("one"), bus.OwnedBy(p))
	require.NoError(t, err)
	_, err = topic.Subscribe(b, spantest.Note[plugEv](&log, "two"), bus.Name("two"), bus.OwnedBy(p))
	require.NoError(t, err)
	require.NoError(t, s1.Close())
	require.Len(t, p.Listeners(), 1)
	assert.Equal(t, "P/two", p.Listeners()[0].Name)
	require.NoError(t, topic.Publish(context.Background(), b, &plugEv{}))
	assert.Equal(t, spantest.Trail{"two"}, log)
	require.NoError(t, p.Unregister())
	log = nil
	require.NoError(t, topic.Publish(context.Background(), b, &plugEv{}))
	assert.Empty(t, log)
}

func TestSubscribeChecks(t *testing.T) {
	only := bus.NewTopic[plugEv]("plug.only", bus.ExactlyOne)
	b := spantest.NewBus(t, []bus.Listener{bus.On(only, plugNop)})
	p, err := plugin.Register(b, "P")
	require.NoError(t, err)
	_, err = only.Subscribe(b, plugNop, bus.OwnedBy(p))
	require.ErrorIs(t, err, bus.ErrRequirement)
	assert.Empty(t, p.Listeners(), "a refused subscription is not the plugin's")

	var nilPlugin *plugin.Plugin
	_, err = only.Subscribe(b, plugNop, bus.OwnedBy(nilPlugin))
	assert.ErrorContains(t, err, "OwnedBy: nil owner")
	_, err = bus.NewTopic[plugEv]("plug.nil").Subscribe(b, nil, bus.OwnedBy(p))
	assert.ErrorContains(t, err, "nil handler")
	assert.Empty(t, p.Listeners())

	_, err = bus.New([]bus.Listener{bus.On(only, plugNop, bus.OwnedBy(p))})
	assert.ErrorContains(t, err, "OwnedBy is for runtime subscriptions", "a plugin's listeners are subscriptions")
}

// TestPluginUnregisterRaceWithPublishes unregisters a plugin while
// publishes run: a publish that starts after Unregister returned never
// reaches the plugin, a publish never sees part of the plugin removed, and
// -race sees no data race.
func TestPluginUnregisterRaceWithPublishes(t *testing.T) {
	ready := bus.NewTopic[plugEv]("plug.race.ready")
	msg := bus.NewTopic[plugEv]("plug.race.msg")
	for round := range 20 {
		b := spantest.NewBus(t, nil)
		p, err := plugin.Register(b, "P")
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
		_, err = ready.Subscribe(b, check(&heardReady), bus.OwnedBy(p))
		require.NoError(t, err)
		_, err = msg.Subscribe(b, check(&heardMsg), bus.OwnedBy(p))
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
		// A concurrent subscriber: each Subscribe either lands before
		// Unregister, and is removed by it, or fails.
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !unregistered.Load() {
				if _, err := msg.Subscribe(b, check(&heardMsg), bus.OwnedBy(p)); err != nil {
					if !errors.Is(err, plugin.ErrUnregistered) {
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
		assert.False(t, heardMsg.Load(), "round %d: a racing Subscribe survived Unregister", round)
	}
}

func TestPluginListenersAllocateNothing(t *testing.T) {
	if race.Enabled {
		t.Skip("the race detector allocates")
	}
	topic := bus.NewTopic[plugEv]("plug.alloc")
	b := spantest.NewBus(t, []bus.Listener{bus.On(topic, plugNop)})
	p, err := plugin.Register(b, "P")
	require.NoError(t, err)
	for range 3 {
		_, err = topic.Subscribe(b, plugNop, bus.OwnedBy(p))
		require.NoError(t, err)
	}
	ctx, e := context.Background(), &plugEv{}
	assert.Zero(t, testing.AllocsPerRun(200, func() { _ = topic.Publish(ctx, b, e) }))
}

func TestUnregisterWaitAndDone(t *testing.T) {
	topic := bus.NewTopic[plugEv]("wait.plugin")
	other := bus.NewTopic[plugEv]("wait.plugin.other")
	b := spantest.NewBus(t, nil)
	p, err := plugin.Register(b, "slow")
	require.NoError(t, err)
	entered, release := make(chan struct{}), make(chan struct{})
	blocking := func(context.Context, *plugEv) error {
		entered <- struct{}{}
		<-release
		return nil
	}
	var otherCalls atomic.Int32
	_, err = topic.Subscribe(b, blocking, bus.OwnedBy(p), bus.Awaited())
	require.NoError(t, err)
	_, err = other.Subscribe(b, func(context.Context, *plugEv) error { otherCalls.Add(1); return nil }, bus.OwnedBy(p))
	require.NoError(t, err)
	published := make(chan error)
	go func() { published <- topic.Publish(context.Background(), b, &plugEv{}) }()
	<-entered
	unregistered := make(chan error)
	go func() { unregistered <- p.UnregisterWait(context.Background()) }()
	select {
	case <-p.Done():
		t.Fatal("plugin Done while its handler runs")
	case <-unregistered:
		t.Fatal("UnregisterWait returned while its handler runs")
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	require.NoError(t, <-unregistered)
	<-p.Done()
	require.NoError(t, <-published)
	require.NoError(t, other.Publish(context.Background(), b, &plugEv{}))
	assert.Zero(t, otherCalls.Load(), "an unregistered plugin's handlers hear nothing")

	empty, err := plugin.Register(b, "empty")
	require.NoError(t, err)
	require.NoError(t, empty.Unregister())
	<-empty.Done()
}

func TestBusWideSubscriptionOwnedByAPlugin(t *testing.T) {
	topic := bus.NewTopic[plugEv]("plugin.wide")
	b := spantest.NewBus(t, nil)
	p, err := plugin.Register(b, "audit")
	require.NoError(t, err)
	var heard []string
	s, err := bus.SubscribeAll(b, func(_ context.Context, env bus.Envelope) error {
		heard = append(heard, env.Listener().Name)
		return nil
	}, bus.OwnedBy(p))
	require.NoError(t, err)
	assert.Equal(t, "audit", s.Info().Plugin)
	require.Len(t, p.Listeners(), 1)

	require.NoError(t, topic.Publish(context.Background(), b, &plugEv{}))
	require.Len(t, heard, 1)
	assert.Contains(t, heard[0], "audit/")

	require.NoError(t, p.Unregister())
	require.NoError(t, topic.Publish(context.Background(), b, &plugEv{}))
	assert.Len(t, heard, 1, "an unregistered plugin's bus-wide listener hears nothing")
	assert.Empty(t, p.Listeners())
}
