package desk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/fxbus/fxbus/app/desk/httpapi"
	"github.com/fxbus/fxbus/modules/webhooks"
	"github.com/fxbus/fxbus/modules/widget"
)

// With httpapi.Serve at the top level, the server starts after every module
// (a module's start hook runs before the server listens) and stops before
// any (when a module's stop hook runs, the server no longer answers).
func TestServerStartsLastAndStopsFirst(t *testing.T) {
	var listeningAtStart, answeringAtStop atomic.Bool
	module := fx.Module("a-module", fx.Invoke(func(lc fx.Lifecycle, srv *httpapi.Server) {
		lc.Append(fx.Hook{
			OnStart: func(context.Context) error {
				select {
				case <-srv.Ready():
					listeningAtStart.Store(true)
				default:
				}
				return nil
			},
			OnStop: func(context.Context) error {
				c := &http.Client{Timeout: time.Second}
				if res, err := c.Get(srv.URL() + "/healthz"); err == nil {
					res.Body.Close()
					answeringAtStop.Store(true)
				}
				c.CloseIdleConnections()
				return nil
			},
		})
	}))
	app, _, _ := startDesk(t, widget.Module, module)
	assert.False(t, listeningAtStart.Load(), "the server listened before a module had started")
	app.RequireStop()
	assert.False(t, answeringAtStop.Load(), "the server still answered when a module stopped")
}

// countingReceiver verifies and counts the deliveries of chat messages,
// by message id, once each.
type countingReceiver struct {
	mu  sync.Mutex
	ids map[int64]bool
	bad int
}

func (c *countingReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := webhooks.VerifyRequest(r, testSecret, 1<<20, 0)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.bad++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var env struct {
		Event struct{ Message struct{ ID int64 } } `json:"event"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		c.bad++
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.ids[env.Event.Message.ID] = true
	w.WriteHeader(http.StatusNoContent)
}

// Clients post messages from many goroutines while the app stops: every
// message the desk acknowledged (201) is either delivered to the webhook
// or counted as dropped or failed. The server stops accepting and
// finishes its requests before the webhooks drain, so none is lost
// between the two.
func TestShutdownUnderLoadLosesNothing(t *testing.T) {
	rcv := &countingReceiver{ids: map[int64]bool{}}
	hook := httptest.NewServer(rcv)
	defer hook.Close()
	var stats *webhooks.Stats
	app, srv, _ := startDesk(t, fakeModules(), webhooks.Module, fx.Populate(&stats),
		fx.Supply(webhooks.Config{AllowLoopback: true, Endpoints: []webhooks.Endpoint{{
			Name: "messages", URL: hook.URL, Secret: testSecret, QueueSize: 16,
			Rules: []webhooks.Rule{{Topic: "chat.message_received",
				Where: [][]webhooks.Field{{{Name: "Message.Kind", Equals: "user"}}}}},
		}}}))

	const clients = 8
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	post := func(path, token, body string) (*http.Response, error) {
		req, err := http.NewRequest(http.MethodPost, srv.URL()+path, bytes.NewBufferString(body))
		if err != nil {
			return nil, err
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return hc.Do(req)
	}
	type visitor struct {
		token  string
		thread int64
	}
	var vs []visitor
	for i := range clients {
		res, err := post("/visitors", "", fmt.Sprintf(`{"user_id":"load-%d"}`, i))
		require.NoError(t, err)
		var v httpapi.VisitorJSON
		require.NoError(t, json.NewDecoder(res.Body).Decode(&v))
		res.Body.Close()
		res, err = post("/threads", v.Token, `{}`)
		require.NoError(t, err)
		var th httpapi.ThreadJSON
		require.NoError(t, json.NewDecoder(res.Body).Decode(&th))
		res.Body.Close()
		vs = append(vs, visitor{v.Token, th.ID})
	}

	var acked atomic.Int64
	enough := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for _, v := range vs {
		wg.Go(func() {
			for i := 0; ; i++ {
				res, err := post(fmt.Sprintf("/threads/%d/messages", v.thread), v.token, fmt.Sprintf(`{"body":"message %d"}`, i))
				if err != nil {
					return // the server has stopped
				}
				res.Body.Close()
				switch res.StatusCode {
				case http.StatusCreated:
					if acked.Add(1) == 300 {
						once.Do(func() { close(enough) })
					}
				case http.StatusServiceUnavailable:
				default:
					t.Errorf("status %d", res.StatusCode)
					return
				}
			}
		})
	}
	<-enough
	require.NoError(t, app.Stop(context.Background()), "the drain completes")
	wg.Wait()

	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	delivered, dropped, failed := stats.Delivered("messages"), stats.Dropped("messages"), stats.Failed("messages")
	t.Logf("acknowledged %d: delivered %d, dropped %d, failed %d", acked.Load(), delivered, dropped, failed)
	assert.Zero(t, rcv.bad, "every delivery verifies")
	assert.Equal(t, delivered, len(rcv.ids), "what the desk counts delivered, the receiver got")
	assert.Equal(t, int(acked.Load()), delivered+dropped+failed, "every acknowledged message is delivered or counted")
}
