package desk_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/fxbus/fxbus/app/demo"
	"github.com/fxbus/fxbus/app/desk"
	"github.com/fxbus/fxbus/app/desk/httpapi"
	"github.com/fxbus/fxbus/app/telemetry"
	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/bustest"
	"github.com/fxbus/fxbus/topics"
)

// startDesk starts the desk, with a real server on a loopback port, and
// whatever opts add; it stops with the test, unless the test stops it
// first.
func startDesk(t *testing.T, opts ...fx.Option) (*fxtest.App, *httpapi.Server, *telemetry.Telemetry) {
	t.Helper()
	return startDeskWith(t, desk.Config{LogOutput: testWriter{t}}, opts...)
}

// startDeskWith is startDesk with cfg, and the tests' SSO secret.
func startDeskWith(t *testing.T, cfg desk.Config, opts ...fx.Option) (*fxtest.App, *httpapi.Server, *telemetry.Telemetry) {
	t.Helper()
	var (
		srv *httpapi.Server
		tel *telemetry.Telemetry
	)
	cfg.SSOSecret = testSecret
	app := fxtest.New(t, bus.Module, telemetry.Module, desk.Module, httpapi.Module, desk.WithConfig(cfg), fx.NopLogger, fx.Options(opts...), fx.Populate(&srv, &tel), httpapi.Serve)
	app.RequireStart()
	t.Cleanup(func() { _ = app.Stop(context.Background()) })
	select {
	case <-srv.Ready():
	default:
		t.Fatal("the server is not ready once the app has started")
	}
	return app, srv, tel
}

// The scenario against the desk and the fakes of the modules: each step
// has the effect the modules' contract promises.
func TestScenarioWithTheModules(t *testing.T) {
	var (
		rcv      *demo.WebhookReceiver
		received *bustest.Recorder[topics.ChatMessage]
		objects  *bustest.Recorder[topics.ObjectEvent]
		updates  *bustest.Recorder[topics.ObjectUpdate]
		cron     *bustest.Recorder[topics.CronTick]
		loggedIn *bustest.Recorder[topics.OperatorLogin]
	)
	app, srv, _ := startDesk(t, fakeModules(), fakeWebhooks(),
		fx.Provide(demo.NewWebhookReceiver), fx.Populate(&rcv),
		bustest.Capture(&received, topics.ChatMessageReceived),
		bustest.Capture(&objects, topics.ObjectCreated),
		bustest.Capture(&updates, topics.ObjectUpdated),
		bustest.Capture(&cron, topics.CronRun),
		bustest.Capture(&loggedIn, topics.OperatorLoggedIn),
	)
	var out bytes.Buffer
	rep, err := demo.RunScenario(context.Background(), srv.URL(), testSecret, &out)
	t.Log("\n" + out.String())
	require.NoError(t, err)

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	assert.Len(t, lines, len(rep.Steps), "a line per step")
	status := map[string]int{}
	for _, s := range rep.Steps {
		assert.False(t, s.Skipped, "%s: %s", s.Name, s.Result)
		status[s.Name] = s.Status
	}
	assert.Equal(t, map[string]int{
		"chat page assets":              200,
		"visitor alice arrives":         201,
		"visitor bob arrives":           201,
		"operator SSO, forged":          401,
		"operator signs in (SSO)":       200,
		"operator SSO, replayed":        401,
		"bob reads alice's chat":        403,
		"bob comes back as bob2":        201,
		"bob2 starts a chat":            403, // from bob's address, which is banned
		"chat alice starts":             201,
		"chat bob starts":               201,
		"operator joins alice":          200,
		"alice writes":                  201,
		"operator answers":              201,
		"bob abuses (1)":                201,
		"bob abuses (2)":                403,
		"bob writes again":              403,
		"bob starts another chat":       403,
		"bans listed":                   200,
		"user request opened":           201,
		"incident opened":               201,
		"user request assigned":         200,
		"incident resolved":             200,
		"document stored":               201,
		"document downloaded":           200,
		"function echo":                 200,
		"function now":                  200,
		"function unknown":              404,
		"carol registers":               201,
		"carol logs in, wrong password": 401,
		"carol logs in":                 200,
		"carol writes to the operators": 201,
		"carol announces":               403,
		"announcement published":        201,
		"cron runs":                     200,
		"chat closed":                   200,
	}, status)

	assert.Equal(t, "olivia", rep.Operator)
	assert.Equal(t, []string{"This **** widget is useless.", ""}, rep.AbusiveBodies)
	assert.True(t, rep.Banned)
	assert.Equal(t, map[string]any{"text": "ping"}, rep.Echo)
	assert.Equal(t, []string{"/static/desk.css", "/static/widget-theme.css", "/static/desk.js"}, rep.Assets)
	step, _ := rep.Step("document downloaded")
	assert.Contains(t, step.Result, "same as stored: true")
	step, _ = rep.Step("chat alice starts")
	assert.Contains(t, step.Result, "user ready: true")

	bustest.AssertCount(t, loggedIn, 1)
	bustest.AssertCount(t, received, 6, "greetings, a join notice, alice, the operator, bob's first")
	bustest.AssertCount(t, objects, 3, "two tickets, a document")
	bustest.AssertCount(t, updates, 2)
	bustest.AssertCount(t, cron, 1)

	app.RequireStop()
	var topicsGot []string
	for _, d := range rcv.Deliveries() {
		topicsGot = append(topicsGot, d.Topic)
	}
	assert.ElementsMatch(t, []string{"ban.created", "object.created"}, topicsGot,
		"the webhook's rules pass the ban and the incident, nothing else")
	var buf bytes.Buffer
	require.NoError(t, demo.PrintDeliveries(&buf, rcv.Deliveries()))
	assert.Contains(t, buf.String(), "got 2 call(s)")
}

// Without the modules the desk still answers every step, and the
// scenario says what did not happen.
func TestScenarioWithoutModules(t *testing.T) {
	_, srv, tel := startDesk(t)
	var out bytes.Buffer
	rep, err := demo.RunScenario(context.Background(), srv.URL(), testSecret, &out)
	require.NoError(t, err, out.String())
	assert.Empty(t, rep.Operator)
	assert.False(t, rep.Banned)
	assert.Equal(t, []string{"This darn widget is useless.", "What the heck is going on?"}, rep.AbusiveBodies)
	step, _ := rep.Step("operator joins alice")
	assert.True(t, step.Skipped)
	assert.Contains(t, out.String(), "skipped: no operator signed in")
	step, _ = rep.Step("function echo")
	assert.Equal(t, 404, step.Status)
	assert.Equal(t, `function "echo": not found`, step.Result)

	spans, _ := tel.Spans.Ended()
	rows := telemetry.Summarize(spans)
	var names []string
	for _, r := range rows {
		names = append(names, r.Topic)
	}
	for _, topic := range []string{topics.ThreadMessagePosting.Name(), topics.VisitorCreated.Name(), topics.UserRegister.Name()} {
		assert.Contains(t, names, topic)
	}
}

func TestScenarioFailsOnAServerError(t *testing.T) {
	boom := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(500)
		_, _ = w.Write([]byte(`{"error":"Internal Server Error"}`))
	})
	ts := httptest.NewServer(boom)
	defer ts.Close()
	var out bytes.Buffer
	rep, err := demo.RunScenario(context.Background(), ts.URL, testSecret, &out)
	require.ErrorContains(t, err, "chat page assets: GET /page/assets: 500 Internal Server Error")
	assert.Len(t, rep.Steps, 1, "it stops at the first server error")

	_, err = demo.RunScenario(context.Background(), "http://127.0.0.1:1", testSecret, &out)
	assert.ErrorContains(t, err, "chat page assets: GET /page/assets")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = demo.RunScenario(ctx, ts.URL, testSecret, &out)
	assert.ErrorIs(t, err, context.Canceled)
}
