// Package modules_test wires every module of the reference service
// together, as the app does, and checks what they do to one another's
// events: the modules never import each other, so only such a test sees
// the ranks between them.
package modules_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/goleak"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/bustest"
	"github.com/fxbus/fxbus/modules"
	"github.com/fxbus/fxbus/modules/assets"
	"github.com/fxbus/fxbus/modules/audit"
	"github.com/fxbus/fxbus/modules/sso"
	"github.com/fxbus/fxbus/modules/stats"
	"github.com/fxbus/fxbus/modules/webhooks"
	"github.com/fxbus/fxbus/modules/widget"
	"github.com/fxbus/fxbus/topics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var ctx = context.Background()

// The theme comes after the desk's base CSS: assets at rank 0, widget at
// rank 10, whatever the order the modules are given in.
func TestPageCSSInRankOrder(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []fx.Option
	}{
		{"assets first", []fx.Option{assets.Module, widget.Module}},
		{"widget first", []fx.Option{widget.Module, assets.Module}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b *bus.Bus
			app := fxtest.New(t, append(tc.opts, fx.NopLogger, bus.Module, fx.Populate(&b))...)
			app.RequireStart()
			defer app.RequireStop()
			p := &topics.PageAssets{}
			require.NoError(t, topics.PageAddCSS.Publish(ctx, b, p))
			require.Len(t, p.Assets, 2)
			assert.Equal(t, assets.CSS, p.Assets[0].Content)
			assert.Equal(t, widget.ThemeCSS, p.Assets[1].Content)
		})
	}
}

// Every module in one app, as the app wires them: a message is censored by
// moderation (-10) before stats (100) counts it and a webhook (1000)
// delivers it; the second abusive message asks for a ban, which audit
// (-100) records.
func TestAllModulesTogether(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var env struct {
			Event topics.MessagePosting `json:"event"`
		}
		_ = json.NewDecoder(r.Body).Decode(&env)
		mu.Lock()
		bodies = append(bodies, env.Event.Body)
		mu.Unlock()
	}))
	defer srv.Close()

	var (
		b     *bus.Bus
		log   *audit.Log
		st    *stats.Stats
		wh    *webhooks.Stats
		posts *bustest.Recorder[topics.MessagePosting]
	)
	app := fxtest.New(t, modules.All, fx.NopLogger, bus.Module,
		fx.Supply(sso.Config{Secret: []byte("s3cret-s3cret-s3cret-s3cret-s3cret")}),
		fx.Supply(webhooks.Config{AllowLoopback: true, Endpoints: []webhooks.Endpoint{{
			Name: "messages", URL: srv.URL, Secret: []byte("the-modules-test-secret"),
			Rules: []webhooks.Rule{{Topic: "thread.message_posting"}},
		}}}),
		bustest.Capture(&posts, topics.ThreadMessagePosting),
		fx.Populate(&b, &log, &st, &wh),
	)
	app.RequireStart()

	th := &topics.Thread{ID: 1, UserID: "u1", Remote: "192.0.2.1"}
	for _, body := range []string{"hello", "oh heck", "darn it"} {
		require.NoError(t, topics.ThreadMessagePosting.Publish(ctx, b,
			&topics.MessagePosting{Thread: th, Kind: topics.MessageKindUser, Body: body}))
	}
	app.RequireStop()

	want := []string{"hello", "oh ****", "**** it"}
	assert.Equal(t, want, bodies, "delivered censored")
	assert.Equal(t, 3, wh.Delivered("messages"))
	assert.Equal(t, 3, st.Current().Messages)
	bustest.AssertCount(t, posts, 3)
	var topicsSeen []string
	for _, e := range log.Entries() {
		topicsSeen = append(topicsSeen, e.Topic)
	}
	assert.Equal(t, []string{"moderation.ban_requested"}, topicsSeen)
}
