package webhooks_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/goleak"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/plugin"
	"github.com/fxbus/fxbus/modules/webhooks"
	"github.com/fxbus/fxbus/topics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var ctx = context.Background()

// app is the module under test in an app, with the config given.
type app struct {
	*fxtest.App
	b     *bus.Bus
	w     *webhooks.Webhooks
	stats *webhooks.Stats
}

func newApp(t *testing.T, cfg webhooks.Config, opts ...fx.Option) *app {
	t.Helper()
	cfg = local(cfg)
	a := &app{}
	a.App = fxtest.New(t, append([]fx.Option{fx.NopLogger, bus.Module, webhooks.Module,
		fx.Supply(cfg), fx.Populate(&a.b, &a.w, &a.stats)}, opts...)...)
	return a
}

// local is cfg for the tests' receivers on loopback: loopback allowed,
// short backoffs, and testSecret for the endpoints without a secret.
func local(cfg webhooks.Config) webhooks.Config {
	cfg.AllowLoopback = true
	if cfg.Backoff == 0 {
		cfg.Backoff = time.Millisecond
	}
	cfg.Endpoints = slices.Clone(cfg.Endpoints)
	for i := range cfg.Endpoints {
		if cfg.Endpoints[i].Secret == nil {
			cfg.Endpoints[i].Secret = testSecret
		}
	}
	return cfg
}

func logger(buf *syncBuffer) fx.Option {
	return fx.Supply(slog.New(slog.NewTextHandler(buf, nil)))
}

func posting(thread *topics.Thread, kind topics.MessageKind, from string, op topics.OperatorID, body string) *topics.MessagePosting {
	return &topics.MessagePosting{Thread: thread, Kind: kind, Body: body,
		Options: topics.MessageOptions{From: from, OperatorID: op}}
}

// The seed's filter rules, from configuration: no filter (an exclude
// endpoint without rules), pass two events only, match by parameter
// groups, block two events, block all.
func TestFilterRulesFromConfig(t *testing.T) {
	r := newReceiver(t)
	two := []webhooks.Rule{{ID: "1", Topic: "ban.created"}, {ID: "2", Topic: "thread.created"}}
	a := newApp(t, webhooks.Config{Endpoints: []webhooks.Endpoint{
		{Name: "all", URL: r.url("all"), Policy: webhooks.Exclude},
		{Name: "two", URL: r.url("two"), Rules: two},
		{Name: "params", URL: r.url("params"), Policy: webhooks.Include, Rules: []webhooks.Rule{{
			ID: "event_id", Topic: "thread.message_posting",
			Where: [][]webhooks.Field{
				{{Name: "Thread.ID", Equals: "42"}, {Name: "Options.From", Equals: "the best name ever"}},
				{{Name: "Kind", Equals: "agent"}, {Name: "Options.OperatorID", Equals: "100500"}},
			},
		}}},
		{Name: "block", URL: r.url("block"), Policy: webhooks.Exclude, Rules: two},
		{Name: "none", URL: r.url("none")},
	}})
	a.RequireStart()

	th42 := &topics.Thread{ID: 42}
	require.NoError(t, topics.BanCreated.Publish(ctx, a.b, &topics.BanEvent{Ban: &topics.Ban{ID: 1}}))
	require.NoError(t, topics.ThreadCreated.Publish(ctx, a.b, &topics.ThreadEvent{Thread: th42}))
	for _, m := range []*topics.MessagePosting{
		posting(th42, topics.MessageKindUser, "the best name ever", 0, "a"),                     // group 1
		posting(th42, topics.MessageKindUser, "the best name ever", 0, "b, with more data too"), // group 1
		posting(th42, topics.MessageKindUser, "another name", 0, "c"),
		posting(nil, topics.MessageKindAgent, "", 100500, "d"), // group 2
		posting(nil, topics.MessageKindAgent, "", 1, "e"),
		posting(nil, topics.MessageKindUser, "the best name ever", 0, "f"), // a nil Thread fails Thread.ID
	} {
		require.NoError(t, topics.ThreadMessagePosting.Publish(ctx, a.b, m))
	}
	require.NoError(t, topics.BanDeleted.Publish(ctx, a.b, &topics.BanDeletion{ID: 1}))
	_, err := topics.UserLogin.Run(ctx, a.b, &topics.LoginRequest{Login: "ada", Password: "hunter2"},
		func(context.Context, *topics.LoginRequest) (*topics.Session, error) {
			return &topics.Session{UserID: "u-ada", Token: "t0k3n"}, nil
		})
	require.NoError(t, err)

	a.RequireStop() // drains: every delivery is done when Stop returns

	posted := make([]string, 6)
	for i := range posted {
		posted[i] = "thread.message_posting"
	}
	everything := append(append([]string{"ban.created", "thread.created"}, posted...), "ban.deleted", "user.login.after")
	assert.Equal(t, everything, r.topics("all"), "no filter: everything but hooks' before stages")
	assert.Equal(t, []string{"ban.created", "thread.created"}, r.topics("two"))
	var bodies []string
	for _, m := range events[topics.MessagePosting](t, r, "params", "thread.message_posting") {
		bodies = append(bodies, m.Body)
	}
	assert.Equal(t, []string{"a", "b, with more data too", "d"}, bodies)
	assert.Equal(t, everything[2:], r.topics("block"))
	assert.Empty(t, r.topics("none"), "an include endpoint without rules blocks everything")

	for name, n := range map[string]int{"all": 10, "two": 2, "params": 3, "block": 8, "none": 0} {
		assert.Equal(t, n, a.stats.Delivered(name), name)
		assert.Zero(t, a.stats.Failed(name), name)
		assert.Zero(t, a.stats.Dropped(name), name)
	}

	// Secrets stay out of the JSON.
	logins := events[map[string]any](t, r, "all", "user.login.after")
	require.Len(t, logins, 1)
	assert.Equal(t, map[string]any{"Login": "ada"}, logins[0]["Req"])
	assert.Equal(t, map[string]any{"UserID": "u-ada", "Roles": nil}, logins[0]["Res"])
}

// A delivery is a POST of {"topic", "event"} as JSON, made by the worker:
// the publisher does not wait for the endpoint.
func TestDeliveryIsAsynchronousJSON(t *testing.T) {
	r := newReceiver(t).gated()
	a := newApp(t, webhooks.Config{Endpoints: []webhooks.Endpoint{
		{Name: "crm", URL: r.url("crm"), Rules: []webhooks.Rule{{Topic: "ban.created"}}},
	}})
	a.RequireStart()
	defer a.RequireStop()

	ban := &topics.Ban{ID: 7, Address: netip.MustParseAddr("192.0.2.7"), Comment: "spam",
		Until: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	require.NoError(t, topics.BanCreated.Publish(ctx, a.b, &topics.BanEvent{Ban: ban}))
	// Publish has returned while the receiver holds the request.
	d := r.await(t)
	assert.Equal(t, http.MethodPost, d.Method)
	assert.Equal(t, "application/json", d.ContentType)
	assert.Equal(t, "ban.created", d.Topic)
	assert.JSONEq(t, `{"Ban": {"ID": 7, "Address": "192.0.2.7", "Comment": "spam",
		"Created": "0001-01-01T00:00:00Z", "Until": "2030-01-01T00:00:00Z"}}`, string(d.Event))
	assert.Zero(t, a.stats.Delivered("crm"))
	r.release()
}

// The event is encoded when it is published: later changes to the payload
// are not delivered.
func TestDeliveryEncodesAtPublish(t *testing.T) {
	r := newReceiver(t).gated()
	a := newApp(t, webhooks.Config{Endpoints: []webhooks.Endpoint{
		{Name: "crm", URL: r.url("crm"), Rules: []webhooks.Rule{{Topic: "page.add_css"}}},
	}})
	a.RequireStart()
	p := &topics.PageAssets{Request: httptest.NewRequest("GET", "/operator", nil),
		Assets: []topics.Asset{{Content: "/static/desk.css"}}}
	require.NoError(t, topics.PageAddCSS.Publish(ctx, a.b, p))
	p.Assets[0].Content = "changed"
	r.release()
	a.RequireStop()
	got := events[topics.PageAssets](t, r, "crm", "page.add_css")
	require.Len(t, got, 1)
	assert.Equal(t, "/static/desk.css", got[0].Assets[0].Content)
	assert.Nil(t, got[0].Request, "the request is not encoded")
}

// Endpoints see the events as the listeners at lower ranks left them.
func TestDeliveryAfterTheOtherListeners(t *testing.T) {
	r := newReceiver(t)
	a := newApp(t, webhooks.Config{Endpoints: []webhooks.Endpoint{
		{Name: "crm", URL: r.url("crm"), Rules: []webhooks.Rule{{Topic: "thread.message_posting"}}},
	}}, bus.Listen(topics.ThreadMessagePosting, func(_ context.Context, m *topics.MessagePosting) error {
		m.Body = "****"
		return nil
	}, bus.Rank(-10)))
	a.RequireStart()
	require.NoError(t, topics.ThreadMessagePosting.Publish(ctx, a.b, &topics.MessagePosting{Body: "darn"}))
	a.RequireStop()
	got := events[topics.MessagePosting](t, r, "crm", "thread.message_posting")
	require.Len(t, got, 1)
	assert.Equal(t, "****", got[0].Body)
}

// A full queue drops the event, counts it and logs it.
func TestFullQueueDrops(t *testing.T) {
	r := newReceiver(t).gated()
	var log syncBuffer
	a := newApp(t, webhooks.Config{Endpoints: []webhooks.Endpoint{
		{Name: "slow", URL: r.url("slow"), QueueSize: 1, Rules: []webhooks.Rule{{Topic: "ban.deleted"}}},
	}}, logger(&log))
	a.RequireStart()

	require.NoError(t, topics.BanDeleted.Publish(ctx, a.b, &topics.BanDeletion{ID: 1}))
	// The worker holds the first event, in its request.
	r.await(t)
	require.NoError(t, topics.BanDeleted.Publish(ctx, a.b, &topics.BanDeletion{ID: 2})) // queued
	require.NoError(t, topics.BanDeleted.Publish(ctx, a.b, &topics.BanDeletion{ID: 3})) // dropped
	assert.Equal(t, 1, a.stats.Dropped("slow"))
	assert.Contains(t, log.String(), "events dropped (queue full or stopping)")
	assert.Contains(t, log.String(), "endpoint=slow topic=ban.deleted count=1")

	r.release()
	a.RequireStop()
	var ids []topics.BanID
	for _, e := range events[topics.BanDeletion](t, r, "slow", "ban.deleted") {
		ids = append(ids, e.ID)
	}
	assert.Equal(t, []topics.BanID{1, 2}, ids)
	assert.Equal(t, 2, a.stats.Delivered("slow"))
}

// Stop waits for the queued events to be delivered.
func TestStopDrainsTheQueue(t *testing.T) {
	r := newReceiver(t).gated()
	// The probe's stop hook runs before the module's: it lets the
	// receiver answer only once the app is stopping.
	probe := fx.Module("probe", fx.Invoke(func(lc fx.Lifecycle) { lc.Append(fx.StopHook(r.release)) }))
	a := newApp(t, webhooks.Config{Endpoints: []webhooks.Endpoint{
		{Name: "crm", URL: r.url("crm"), Rules: []webhooks.Rule{{Topic: "ban.deleted"}}},
	}}, probe)
	a.RequireStart()
	for i := range 5 {
		require.NoError(t, topics.BanDeleted.Publish(ctx, a.b, &topics.BanDeletion{ID: topics.BanID(i)}))
	}
	assert.Zero(t, a.stats.Delivered("crm"))
	a.RequireStop()
	assert.Equal(t, 5, a.stats.Delivered("crm"), "delivered by the time Stop returns")
	assert.Len(t, r.topics("crm"), 5)
}

// A drain that takes too long is cut short: the delivery under way is
// cancelled, the rest dropped, and Stop says so.
func TestStopDrainTimeout(t *testing.T) {
	r := newReceiver(t).gated() // never released: requests end when cancelled
	var log syncBuffer
	a := newApp(t, webhooks.Config{DrainTimeout: time.Millisecond, Endpoints: []webhooks.Endpoint{
		{Name: "stuck", URL: r.url("stuck"), Rules: []webhooks.Rule{{Topic: "ban.deleted"}}},
		// Drained at once, but waited for after the deadline has passed.
		{Name: "idle", URL: r.url("idle")},
	}}, logger(&log))
	a.RequireStart()
	for i := range 3 {
		require.NoError(t, topics.BanDeleted.Publish(ctx, a.b, &topics.BanDeletion{ID: topics.BanID(i)}))
	}
	r.await(t)
	err := a.Stop(ctx)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorContains(t, err, `webhooks: endpoint "stuck": drain: 3 event(s) abandoned`)
	assert.NotContains(t, err.Error(), "idle", "an endpoint that has drained reports no timeout")
	assert.Equal(t, 1, a.stats.Failed("stuck"), "the delivery under way, cancelled")
	assert.Equal(t, 2, a.stats.Dropped("stuck"))
	assert.Zero(t, a.stats.Delivered("stuck"))
	assert.Contains(t, log.String(), `drain timed out; events abandoned" endpoint=stuck abandoned=3`)
}

// Failed deliveries are counted and logged, and do not stop the next.
func TestFailedDeliveries(t *testing.T) {
	r := newReceiver(t)
	r.status = http.StatusBadGateway
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close() // nobody listens there
	var log syncBuffer
	a := newApp(t, webhooks.Config{Endpoints: []webhooks.Endpoint{
		{Name: "status", URL: r.url("status"), Rules: []webhooks.Rule{{Topic: "chat.error"}}},
		{Name: "down", URL: closed.URL, Rules: []webhooks.Rule{{Topic: "chat.error"}}},
	}}, logger(&log))
	a.RequireStart()
	require.NoError(t, topics.ChatError.Publish(ctx, a.b, &topics.ChatFailure{Status: 500, Err: errors.New("boom")}))
	// An event that does not encode: an error value with a channel in it.
	require.NoError(t, topics.ChatError.Publish(ctx, a.b, &topics.ChatFailure{Err: chanError{C: make(chan int)}}))
	a.RequireStop()
	assert.Equal(t, 2, a.stats.Failed("status"))
	assert.Equal(t, 2, a.stats.Failed("down"))
	assert.Equal(t, 2, a.stats.Retried("status"), "a 502 is tried three times")
	assert.Equal(t, 2, a.stats.Retried("down"), "so is a connection refused")
	assert.Zero(t, a.stats.Delivered("status"))
	assert.Contains(t, log.String(), "deliveries failed")
	assert.Contains(t, log.String(), `endpoint stopped" endpoint=status delivered=0 failed=2 dropped=0`)
}

type chanError struct{ C chan int }

func (chanError) Error() string { return "chan" }

// Each endpoint is a plugin "webhooks/<Name>", while the app runs.
func TestEndpointsArePlugins(t *testing.T) {
	r := newReceiver(t)
	a := newApp(t, webhooks.Config{Endpoints: []webhooks.Endpoint{
		{Name: "crm", URL: r.url("crm"), Rules: []webhooks.Rule{{Topic: "ban.created"}, {Topic: "ban.deleted"}, {Topic: "ban.deleted"}}},
	}})
	a.RequireStart()
	_, err := plugin.Register(a.b, "webhooks/crm")
	assert.ErrorIs(t, err, plugin.ErrExists)
	a.RequireStop()
}

// Without a config there is no endpoint, and the module starts and stops
// all the same.
func TestNoConfig(t *testing.T) {
	var st *webhooks.Stats
	var b *bus.Bus
	a := fxtest.New(t, fx.NopLogger, bus.Module, webhooks.Module, fx.Populate(&st, &b))
	a.RequireStart()
	require.NoError(t, topics.BanDeleted.Publish(ctx, b, &topics.BanDeletion{}))
	a.RequireStop()
	assert.Zero(t, st.Delivered("any"))
}

// A plugin name already taken fails the start, and undoes what was done.
func TestStartFailsForATakenName(t *testing.T) {
	r := newReceiver(t)
	w, err := webhooks.New(webhooks.Params{Config: local(webhooks.Config{Endpoints: []webhooks.Endpoint{
		{Name: "a", URL: r.url("a"), Rules: []webhooks.Rule{{Topic: "ban.deleted"}}},
		{Name: "b", URL: r.url("b"), Rules: []webhooks.Rule{{Topic: "ban.deleted"}}},
	}})})
	require.NoError(t, err)
	b, err := bus.New(nil)
	require.NoError(t, err)
	defer b.Close()
	_, err = plugin.Register(b, "webhooks/b")
	require.NoError(t, err)

	err = w.Start(ctx, b)
	assert.ErrorIs(t, err, plugin.ErrExists)
	assert.ErrorContains(t, err, `webhooks: endpoint "b"`)
	p, err := plugin.Register(b, "webhooks/a")
	assert.NoError(t, err, "the first endpoint's plugin is gone")
	require.NoError(t, p.Unregister())
	require.NoError(t, topics.BanDeleted.Publish(ctx, b, &topics.BanDeletion{}))
	assert.NoError(t, w.Stop(ctx))
	assert.Zero(t, w.Stats().Delivered("a"))
}
