package plugin_test

// The scenario test of seed 003, the Genesys Widgets bus
// (/work/shared/seeds/003_*.txt): a plugin registers on the bus under a
// name and subscribes through that handle to a service's events; the
// service publishes its lifecycle events, some with data.

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/plugin"
	"github.com/fxbus/fxbus/internal/otelbus"
	"github.com/fxbus/fxbus/internal/spantest"
)

type (
	genesysNoData  struct{}
	genesysMessage struct {
		Text string
		From string
	}
	// clientConnected, agentConnected, ...: {message, agents, numAgentsConnected}
	genesysAgents struct {
		Message            genesysMessage
		Agents             []string
		NumAgentsConnected int
	}
)

// genesysWebChatService is WebChatService's catalogue of events: one typed
// topic per "WebChatService.<event>" name.
var genesysWebChatService = struct {
	Ready, Started, Ended *bus.Topic[genesysNoData]
	MessageReceived       *bus.Topic[genesysMessage]
	AgentConnected        *bus.Topic[genesysAgents]
	ChatServerWentOffline *bus.Topic[genesysNoData]
}{
	Ready:                 bus.NewTopic[genesysNoData]("WebChatService.ready", bus.Description("WebChatService is initialized and ready to accept commands.")),
	Started:               bus.NewTopic[genesysNoData]("WebChatService.started", bus.Description("Chat session has successfully started.")),
	Ended:                 bus.NewTopic[genesysNoData]("WebChatService.ended", bus.Description("Chat session has successfully ended.")),
	MessageReceived:       bus.NewTopic[genesysMessage]("WebChatService.messageReceived", bus.Description("A new message has been received from the server.")),
	AgentConnected:        bus.NewTopic[genesysAgents]("WebChatService.agentConnected", bus.Description("Indicates an agent has connected to the chat.")),
	ChatServerWentOffline: bus.NewTopic[genesysNoData]("WebChatService.chatServerWentOffline", bus.Description("Chat server has gone offline but chat session has not ended.")),
}

// genesysRunChat is the service: its lifecycle, published on the bus.
func genesysRunChat(t *testing.T, b *bus.Bus, text string) {
	t.Helper()
	ctx, svc := context.Background(), genesysWebChatService
	require.NoError(t, svc.Ready.Publish(ctx, b, &genesysNoData{}))
	require.NoError(t, svc.Started.Publish(ctx, b, &genesysNoData{}))
	require.NoError(t, svc.AgentConnected.Publish(ctx, b, &genesysAgents{
		Message: genesysMessage{Text: "Agent Kim joined", From: "system"}, Agents: []string{"Kim"}, NumAgentsConnected: 1,
	}))
	require.NoError(t, svc.MessageReceived.Publish(ctx, b, &genesysMessage{Text: text, From: "Kim"}))
	require.NoError(t, svc.Ended.Publish(ctx, b, &genesysNoData{}))
}

func TestGenesys(t *testing.T) {
	rec, tp := spantest.Tracing(t)
	b := spantest.NewBus(t, nil, tp)

	// var oMyPlugin = bus.registerPlugin('MyPlugin');
	my, err := plugin.Register(b, "MyPlugin")
	require.NoError(t, err)
	_, err = plugin.Register(b, "MyPlugin")
	require.ErrorIs(t, err, plugin.ErrExists)

	// oMyPlugin.subscribe('WebChatService.ready', function(e){}); ...
	var log spantest.Trail
	_, err = genesysWebChatService.Ready.Subscribe(b, spantest.Note[genesysNoData](&log, "ready"), bus.Name("onReady"), bus.OwnedBy(my))
	require.NoError(t, err)
	_, err = genesysWebChatService.MessageReceived.Subscribe(b, func(_ context.Context, m *genesysMessage) error {
		log.Add("message from " + m.From + ": " + m.Text)
		return nil
	}, bus.Name("onMessage"), bus.OwnedBy(my))
	require.NoError(t, err)
	_, err = genesysWebChatService.AgentConnected.Subscribe(b, func(_ context.Context, a *genesysAgents) error {
		assert.Equal(t, 1, a.NumAgentsConnected)
		log.Add("agents " + a.Agents[0])
		return nil
	}, bus.OwnedBy(my))
	require.NoError(t, err)

	genesysRunChat(t, b, "hello")
	assert.Equal(t, spantest.Trail{"ready", "agents Kim", "message from Kim: hello"}, log)
	for _, name := range []string{"MyPlugin/onReady WebChatService.ready", "MyPlugin/onMessage WebChatService.messageReceived"} {
		assert.Equal(t, "MyPlugin", spantest.Attr(spantest.Span(t, rec, name), otelbus.PluginKey), "traces attribute %s to the plugin", name)
	}
	assert.Len(t, my.Listeners(), 3)

	require.NoError(t, my.Unregister())
	log = nil
	rec.Reset()
	genesysRunChat(t, b, "anyone there?")
	assert.Empty(t, log, "an unregistered plugin hears nothing more")
	for _, name := range spantest.SpanNames(rec) {
		assert.NotContains(t, name, "MyPlugin", "no handler span for the plugin")
	}
	_, err = genesysWebChatService.Ended.Subscribe(b, spantest.Note[genesysNoData](&log, "ended"), bus.OwnedBy(my))
	assert.ErrorIs(t, err, plugin.ErrUnregistered)
}
