package widget_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/goleak"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/bustest"
	"github.com/fxbus/fxbus/bus/plugin"
	"github.com/fxbus/fxbus/modules/widget"
	"github.com/fxbus/fxbus/topics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	ctx = context.Background()
	t0  = time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
)

func newBus(t *testing.T) *bus.Bus {
	t.Helper()
	b, err := bus.New(nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// session plays a chat session of thread 1 on b, as the chat service
// publishes it.
func session(t *testing.T, b *bus.Bus) {
	t.Helper()
	agents := func(names ...string) []topics.ChatAgent {
		var as []topics.ChatAgent
		for _, n := range names {
			as = append(as, topics.ChatAgent{Name: n, Connected: true})
		}
		return append(as, topics.ChatAgent{Name: "gone", Connected: false})
	}
	for _, err := range []error{
		topics.ChatReady.Publish(ctx, b, &topics.ChatEvent{Time: t0}),
		topics.ChatStarted.Publish(ctx, b, &topics.ChatEvent{Thread: 1, Time: t0}),
		topics.ChatClientConnected.Publish(ctx, b, &topics.ChatParticipants{Thread: 1}),
		topics.ChatAgentConnected.Publish(ctx, b, &topics.ChatParticipants{Thread: 1, Agents: agents("Ada")}),
		topics.ChatAgentConnected.Publish(ctx, b, &topics.ChatParticipants{Thread: 1, Agents: agents("Ada", "Bob")}),
		topics.ChatAgentDisconnected.Publish(ctx, b, &topics.ChatParticipants{Thread: 1, Agents: agents("Bob")}),
		topics.ChatMessageReceived.Publish(ctx, b, &topics.ChatMessage{Thread: 1, Message: &topics.Message{Body: "hi"}}),
		topics.ChatMessageReceived.Publish(ctx, b, &topics.ChatMessage{Thread: 1, Message: &topics.Message{Body: "hello"}}),
		topics.ChatClientTypingStarted.Publish(ctx, b, &topics.ChatEvent{Thread: 1}),
		topics.ChatAgentTypingStarted.Publish(ctx, b, &topics.ChatEvent{Thread: 1}),
		topics.ChatAgentTypingStopped.Publish(ctx, b, &topics.ChatEvent{Thread: 1}),
		topics.ChatError.Publish(ctx, b, &topics.ChatFailure{Thread: 1, Status: 502}),
		topics.ChatError.Publish(ctx, b, &topics.ChatFailure{Status: 503}), // before any session
		topics.ChatMessageReceived.Publish(ctx, b, &topics.ChatMessage{Thread: 2}),
	} {
		require.NoError(t, err)
	}
}

func TestPluginFollowsTheChatLifecycle(t *testing.T) {
	b := newBus(t)
	s := widget.NewState()
	p, err := widget.Attach(b, s)
	require.NoError(t, err)
	assert.False(t, s.Ready())
	session(t, b)

	assert.True(t, s.Ready())
	assert.Equal(t, 2, s.Errors())
	got, ok := s.Thread(1)
	require.True(t, ok)
	assert.Equal(t, widget.Session{Thread: 1, Active: true, Started: t0, Messages: 2, Agents: []string{"Bob"},
		ClientConnected: true, ClientTyping: true, Errors: 1}, got)
	assert.Len(t, s.Threads(), 2, "a thread seen without its start has a session too")

	require.NoError(t, topics.ChatEnded.Publish(ctx, b, &topics.ChatEvent{Thread: 1, Time: t0.Add(time.Minute)}))
	got, _ = s.Thread(1)
	assert.False(t, got.Active)
	assert.Equal(t, t0.Add(time.Minute), got.Ended)
	assert.False(t, got.ClientTyping)
	assert.False(t, got.ClientConnected)

	// Every handler is the plugin's.
	infos := p.Listeners()
	assert.Len(t, infos, 13)
	for _, i := range infos {
		assert.Equal(t, widget.PluginName, i.Plugin)
		assert.Contains(t, i.Name, "widget/")
	}

	// Unregistered: every handler is gone at once.
	require.NoError(t, p.Unregister())
	require.NoError(t, topics.ChatStarted.Publish(ctx, b, &topics.ChatEvent{Thread: 3, Time: t0}))
	_, ok = s.Thread(3)
	assert.False(t, ok)
}

// Threads returns copies: changing them changes nothing in the state.
func TestStateReturnsCopies(t *testing.T) {
	b := newBus(t)
	s := widget.NewState()
	_, err := widget.Attach(b, s)
	require.NoError(t, err)
	session(t, b)
	m := s.Threads()
	ss := m[1]
	ss.Agents[0] = "Mallory"
	got, _ := s.Thread(1)
	assert.Equal(t, []string{"Bob"}, got.Agents)
}

func TestStateKeepsTheNewestEndedSessions(t *testing.T) {
	b := newBus(t)
	s := widget.NewState()
	_, err := widget.Attach(b, s)
	require.NoError(t, err)
	for id := range topics.ThreadID(widget.MaxEnded + 2) {
		th := id + 1
		require.NoError(t, topics.ChatStarted.Publish(ctx, b, &topics.ChatEvent{Thread: th}))
		require.NoError(t, topics.ChatEnded.Publish(ctx, b, &topics.ChatEvent{Thread: th}))
		require.NoError(t, topics.ChatEnded.Publish(ctx, b, &topics.ChatEvent{Thread: th})) // twice: counted once
	}
	require.NoError(t, topics.ChatStarted.Publish(ctx, b, &topics.ChatEvent{Thread: 1000}))
	threads := s.Threads()
	assert.Len(t, threads, widget.MaxEnded+1)
	assert.NotContains(t, threads, topics.ThreadID(1))
	assert.NotContains(t, threads, topics.ThreadID(2))
	assert.Contains(t, threads, topics.ThreadID(3))
	assert.True(t, threads[1000].Active)
}

func TestAttachTwiceFails(t *testing.T) {
	b := newBus(t)
	p, err := widget.Attach(b, widget.NewState())
	require.NoError(t, err)
	_, err = widget.Attach(b, widget.NewState())
	assert.ErrorIs(t, err, plugin.ErrExists)
	assert.Len(t, p.Listeners(), 13, "the first plugin is untouched")
}

// In an app, the plugin is registered while the app runs, and unregistered
// when it stops, before the bus closes.
func TestModuleRegistersThePluginWhileTheAppRuns(t *testing.T) {
	var freeAtStop error
	probe := fx.Module("probe", fx.Invoke(func(lc fx.Lifecycle, b *bus.Bus) {
		// Appended before the module's hook: stops after it.
		lc.Append(fx.StopHook(func() {
			var p *plugin.Plugin
			p, freeAtStop = plugin.Register(b, widget.PluginName)
			_ = p.Unregister()
		}))
	}))
	var b *bus.Bus
	var s *widget.State
	app := fxtest.New(t, fx.NopLogger, probe, widget.Module, bus.Module, fx.Populate(&b, &s))
	p, err := plugin.Register(b, widget.PluginName)
	require.NoError(t, err, "not registered before start")
	require.NoError(t, p.Unregister())
	app.RequireStart()
	_, err = plugin.Register(b, widget.PluginName)
	assert.ErrorIs(t, err, plugin.ErrExists, "registered while running")
	require.NoError(t, topics.ChatStarted.Publish(ctx, b, &topics.ChatEvent{Thread: 5}))
	_, ok := s.Thread(5)
	assert.True(t, ok)
	app.RequireStop()
	assert.NoError(t, freeAtStop, "unregistered at stop")
}

// The theme comes after the desk's base CSS, at rank 0, whatever the order
// of the modules in the app; and before listeners at higher ranks.
func TestThemeCSSAfterTheBaseCSS(t *testing.T) {
	base := bus.Listen(topics.PageAddCSS, func(_ context.Context, p *topics.PageAssets) error {
		p.Assets = append(p.Assets, topics.Asset{Content: "/static/desk.css"})
		return nil
	}, bus.Rank(0))
	for _, tc := range []struct {
		name string
		opts []fx.Option
	}{
		{"widget first", []fx.Option{widget.Module, base}},
		{"widget last", []fx.Option{base, widget.Module}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b *bus.Bus
			var rec *bustest.Recorder[topics.PageAssets]
			app := fxtest.New(t, append(tc.opts, fx.NopLogger, bus.Module, bustest.Capture(&rec, topics.PageAddCSS),
				fx.Populate(&b))...)
			app.RequireStart()
			defer app.RequireStop()
			p := &topics.PageAssets{}
			require.NoError(t, topics.PageAddCSS.Publish(ctx, b, p))
			require.Len(t, p.Assets, 2)
			assert.Equal(t, "/static/desk.css", p.Assets[0].Content)
			assert.Equal(t, widget.ThemeCSS, p.Assets[1].Content)
			assert.Greater(t, p.Assets[1].Weight, p.Assets[0].Weight)
			bustest.AssertCount(t, rec, 1)
		})
	}
}
