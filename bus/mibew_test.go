package bus_test

// Scenario tests for seed 000, Mibew Messenger server-side events
// (/work/shared/seeds/000_*.txt): attach and detach at runtime, a catalogue
// of documented events, alter events, function-call events that fill
// results, and custom operator authentication through an event.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/plugin"
)

// Payloads: the documented items of each event's associative array, typed.
type (
	mibewThread struct {
		ID       int
		Messages []mibewMessage
	}
	mibewMessage struct {
		Kind int
		Body string
	}
	// THREAD_POST_MESSAGE
	mibewPostMessage struct {
		Thread         *mibewThread
		MessageKind    int
		MessageBody    string
		MessageOptions map[string]any
	}
	// THREAD_CREATE, THREAD_CLOSE
	mibewThreadEvent struct{ Thread *mibewThread }
	// PAGE_ADD_CSS: each asset is a URL or inline content with a type and weight.
	mibewAsset struct {
		URL     string
		Content string
		Type    string
		Weight  int
	}
	mibewPageCSS struct {
		Request *http.Request
		CSS     []mibewAsset
	}
	// THREAD_FUNCTION_CALL
	mibewFunctionCall struct {
		Function  string
		Arguments map[string]any
		Results   map[string]any
	}
	// OPERATOR_AUTHENTICATE
	mibewOperator struct {
		ID    int
		Login string
	}
	mibewOperatorAuthenticate struct {
		Operator *mibewOperator // a plugin that recognises the operator fills it in
		Request  *http.Request
	}
)

const mibewKindUser = 1

// The catalogue: \Mibew\EventDispatcher\Events constants become typed topics.
var (
	mibewThreadCreate = bus.NewTopic[mibewThreadEvent]("THREAD_CREATE",
		bus.Description("triggered after a thread has been created"))
	mibewThreadClose = bus.NewTopic[mibewThreadEvent]("THREAD_CLOSE",
		bus.Description("triggered after a thread has been closed"))
	mibewThreadPostMessage = bus.NewTopic[mibewPostMessage]("THREAD_POST_MESSAGE",
		bus.Description("triggered before a message is posted to a thread; handlers may alter the message, its kind or options"))
	mibewPageAddCSS = bus.NewTopic[mibewPageCSS]("PAGE_ADD_CSS",
		bus.Description("triggered before CSS assets are attached to a page; handlers add or remove assets"))
	mibewThreadFunctionCall = bus.NewTopic[mibewFunctionCall]("THREAD_FUNCTION_CALL",
		bus.Description("triggered when the chat application calls an API function the system does not know; the plugin that implements it fills Results"))
	mibewOperatorAuth = bus.NewTopic[mibewOperatorAuthenticate]("OPERATOR_AUTHENTICATE",
		bus.Description("triggered when an operator cannot be authenticated by the system; a plugin may fill in the operator from the request"))
)

// mibewPostMessageToThread is Thread::postMessage: it lets plugins alter the
// message, then stores what they left.
func mibewPostMessageToThread(ctx context.Context, b *bus.Bus, th *mibewThread, kind int, body string) error {
	ev := &mibewPostMessage{Thread: th, MessageKind: kind, MessageBody: body, MessageOptions: map[string]any{}}
	if err := mibewThreadPostMessage.Publish(ctx, b, ev); err != nil {
		return err
	}
	th.Messages = append(th.Messages, mibewMessage{Kind: ev.MessageKind, Body: ev.MessageBody})
	return nil
}

// TestMibew is the seed's server-side events: a catalogue of documented
// events, plugins attached and detached at run time, alter events,
// function calls that fill results, and custom authentication.
func TestMibew(t *testing.T) {
	t.Run("catalogue documents every event", func(t *testing.T) {
		for _, topic := range []bus.AnyTopic{mibewThreadCreate, mibewThreadClose, mibewThreadPostMessage,
			mibewPageAddCSS, mibewThreadFunctionCall, mibewOperatorAuth} {
			assert.NotEmpty(t, topic.Info().Description, topic.Name())
			assert.Equal(t, "bus_test", strings.SplitN(topic.Info().Payload, ".", 2)[0], "typed payload of %s", topic.Name())
		}
	})
	t.Run("plugin attached and detached at runtime", func(t *testing.T) {
		var log notes
		b := newBus(t, nil, bus.WithTopics(mibewThreadCreate, mibewThreadClose))
		ctx := context.Background()
		th := &mibewThread{ID: 1}
		require.NoError(t, mibewThreadCreate.Publish(ctx, b, &mibewThreadEvent{Thread: th}), "no plugin yet")

		// attachListener, through a plugin handle.
		p, err := plugin.Register(b, "Mibew:Stats")
		require.NoError(t, err)
		_, err = mibewThreadCreate.Subscribe(b, func(_ context.Context, e *mibewThreadEvent) error {
			log.add(fmt.Sprint("created ", e.Thread.ID))
			return nil
		}, bus.OwnedBy(p))
		require.NoError(t, err)
		closed, err := mibewThreadClose.Subscribe(b, note[mibewThreadEvent](&log, "closed"), bus.OwnedBy(p))
		require.NoError(t, err)
		require.NoError(t, mibewThreadCreate.Publish(ctx, b, &mibewThreadEvent{Thread: th}))
		require.NoError(t, mibewThreadClose.Publish(ctx, b, &mibewThreadEvent{Thread: th}))
		assert.Equal(t, notes{"created 1", "closed"}, log)

		// detachListener, one listener...
		require.NoError(t, closed.Close())
		log = nil
		require.NoError(t, mibewThreadCreate.Publish(ctx, b, &mibewThreadEvent{Thread: th}))
		require.NoError(t, mibewThreadClose.Publish(ctx, b, &mibewThreadEvent{Thread: th}))
		assert.Equal(t, notes{"created 1"}, log)

		// ...and the whole plugin.
		require.NoError(t, p.Unregister())
		log = nil
		require.NoError(t, mibewThreadCreate.Publish(ctx, b, &mibewThreadEvent{Thread: th}))
		assert.Empty(t, log)
	})
	t.Run("thread post message filter rewrites body before store", func(t *testing.T) {
		b := newBus(t, nil)
		censor, err := plugin.Register(b, "Mibew:Censor")
		require.NoError(t, err)
		_, err = mibewThreadPostMessage.Subscribe(b, func(_ context.Context, e *mibewPostMessage) error {
			e.MessageBody = strings.ReplaceAll(e.MessageBody, "darn", "****")
			return nil
		}, mibewThreadPostMessage.When(func(e *mibewPostMessage) bool { return e.MessageKind == mibewKindUser }), bus.OwnedBy(censor))
		require.NoError(t, err)
		signature, err := plugin.Register(b, "Mibew:Signature")
		require.NoError(t, err)
		_, err = mibewThreadPostMessage.Subscribe(b, func(_ context.Context, e *mibewPostMessage) error {
			e.MessageBody += " -- sent via chat" // runs after the censor: sees its change
			e.MessageOptions["signed"] = true
			return nil
		}, bus.Rank(10), bus.OwnedBy(signature))
		require.NoError(t, err)

		th := &mibewThread{ID: 7}
		ctx := context.Background()
		require.NoError(t, mibewPostMessageToThread(ctx, b, th, mibewKindUser, "darn printer"))
		require.NoError(t, mibewPostMessageToThread(ctx, b, th, 2, "darn: system kinds are not censored"))
		assert.Equal(t, []mibewMessage{
			{Kind: mibewKindUser, Body: "**** printer -- sent via chat"},
			{Kind: 2, Body: "darn: system kinds are not censored -- sent via chat"},
		}, th.Messages, "the stored messages are the altered ones")
	})
	t.Run("page add c s s edited by two plugins in rank order", func(t *testing.T) {
		b := newBus(t, nil)
		theme, err := plugin.Register(b, "Mibew:Theme")
		require.NoError(t, err)
		branding, err := plugin.Register(b, "Mibew:Branding")
		require.NoError(t, err)
		// Declared first, but ranked after the theme: it sees the theme's assets.
		_, err = mibewPageAddCSS.Subscribe(b, func(_ context.Context, e *mibewPageCSS) error {
			e.CSS = slices.DeleteFunc(e.CSS, func(a mibewAsset) bool { return a.URL == "theme/legacy.css" })
			e.CSS = append(e.CSS, mibewAsset{Content: ".logo{display:none}", Type: "inline", Weight: 100})
			return nil
		}, bus.Rank(10), bus.OwnedBy(branding))
		require.NoError(t, err)
		_, err = mibewPageAddCSS.Subscribe(b, func(_ context.Context, e *mibewPageCSS) error {
			e.CSS = append(e.CSS, mibewAsset{URL: "theme/dark.css"}, mibewAsset{URL: "theme/legacy.css"})
			return nil
		}, bus.Rank(-10), bus.OwnedBy(theme))
		require.NoError(t, err)

		page := &mibewPageCSS{Request: httptest.NewRequest(http.MethodGet, "/operator/users", nil),
			CSS: []mibewAsset{{URL: "default/main.css"}}}
		require.NoError(t, mibewPageAddCSS.Publish(context.Background(), b, page))
		assert.Equal(t, []mibewAsset{
			{URL: "default/main.css"},
			{URL: "theme/dark.css"},
			{Content: ".logo{display:none}", Type: "inline", Weight: 100},
		}, page.CSS)
	})
	t.Run("thread function call filled by the plugin that knows it", func(t *testing.T) {
		b := newBus(t, nil)
		implement := func(name, function string, fn func(*mibewFunctionCall)) {
			p, err := plugin.Register(b, name)
			require.NoError(t, err)
			_, err = mibewThreadFunctionCall.Subscribe(b, func(_ context.Context, c *mibewFunctionCall) error {
				fn(c)
				return nil
			}, mibewThreadFunctionCall.When(func(c *mibewFunctionCall) bool { return c.Function == function }), bus.OwnedBy(p))
			require.NoError(t, err)
		}
		implement("Mibew:Clock", "microtime", func(c *mibewFunctionCall) {
			if asFloat, _ := c.Arguments["as_float"].(bool); asFloat {
				c.Results["time"] = 1700000000.25
			} else {
				c.Results["time"] = "0.25 1700000000"
			}
		})
		implement("Mibew:Weather", "weather", func(c *mibewFunctionCall) { c.Results["sky"] = "clear" })

		// The request processor calls an unknown function and reads the results.
		call := func(function string, args map[string]any) map[string]any {
			c := &mibewFunctionCall{Function: function, Arguments: args, Results: map[string]any{}}
			require.NoError(t, mibewThreadFunctionCall.Publish(context.Background(), b, c))
			return c.Results
		}
		assert.Equal(t, map[string]any{"time": 1700000000.25}, call("microtime", map[string]any{"as_float": true}))
		assert.Equal(t, map[string]any{"time": "0.25 1700000000"}, call("microtime", nil))
		assert.Equal(t, map[string]any{"sky": "clear"}, call("weather", nil))
		assert.Empty(t, call("teleport", nil), "no plugin knows it: no results")
	})
	t.Run("operator authenticate custom auth", func(t *testing.T) {
		var tried notes
		// Two authentication plugins: the first that recognises the operator
		// fills it in and stops, so the second does not try.
		b := newBus(t, []bus.Listener{
			bus.On(mibewOperatorAuth, func(_ context.Context, e *mibewOperatorAuthenticate) error {
				tried.add("sso")
				if tok := e.Request.Header.Get("X-SSO-Token"); tok == "valid-for-ann" {
					e.Operator = &mibewOperator{ID: 3, Login: "ann"}
					return bus.ErrStop
				}
				return nil
			}, bus.Rank(-1)),
			bus.On(mibewOperatorAuth, func(_ context.Context, e *mibewOperatorAuthenticate) error {
				tried.add("ldap")
				if user, pass, ok := e.Request.BasicAuth(); ok && user == "bob" && pass == "pw" {
					e.Operator = &mibewOperator{ID: 4, Login: "bob"}
				}
				return nil
			}),
		})
		authenticate := func(r *http.Request) *mibewOperator {
			e := &mibewOperatorAuthenticate{Request: r}
			require.NoError(t, mibewOperatorAuth.Publish(context.Background(), b, e))
			return e.Operator
		}
		sso := httptest.NewRequest(http.MethodGet, "/operator", nil)
		sso.Header.Set("X-SSO-Token", "valid-for-ann")
		assert.Equal(t, &mibewOperator{ID: 3, Login: "ann"}, authenticate(sso))
		assert.Equal(t, notes{"sso"}, tried)

		tried = nil
		basic := httptest.NewRequest(http.MethodGet, "/operator", nil)
		basic.SetBasicAuth("bob", "pw")
		assert.Equal(t, &mibewOperator{ID: 4, Login: "bob"}, authenticate(basic))
		assert.Equal(t, notes{"sso", "ldap"}, tried)

		assert.Nil(t, authenticate(httptest.NewRequest(http.MethodGet, "/operator", nil)), "nobody recognises it")
	})
}
