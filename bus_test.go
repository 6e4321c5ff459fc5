package fxbus_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/goleak"

	"github.com/fxbus/fxbus/app/demo"
	"github.com/fxbus/fxbus/app/desk"
	"github.com/fxbus/fxbus/app/desk/httpapi"
	"github.com/fxbus/fxbus/app/telemetry"
	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/modules"
	"github.com/fxbus/fxbus/modules/audit"
	"github.com/fxbus/fxbus/modules/sso"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestReferenceService starts the whole reference service under fxtest,
// with the modules and the demo's webhook, drives the scenario through its
// HTTP API, and checks what a user of the desk relies on, then what a
// tracing tool reads.
func TestReferenceService(t *testing.T) {
	var (
		srv *httpapi.Server
		tel *telemetry.Telemetry
		rcv *demo.WebhookReceiver
		log *audit.Log
	)
	secret := demo.NewSSOSecret()
	app := fxtest.New(t,
		bus.Module,
		telemetry.Module,
		desk.Module,
		httpapi.Module,
		desk.WithConfig(desk.Config{LogOutput: io.Discard, SSOSecret: secret}),
		// The modules, as the app's main wires them.
		modules.All,
		fx.Provide(func(c desk.Config) sso.Config { return sso.Config{Secret: c.SSOSecret} }),
		demo.Module,
		fx.NopLogger,
		fx.Populate(&srv, &tel, &rcv, &log),
		httpapi.Serve,
	)
	app.RequireStart()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	report, err := demo.RunScenario(ctx, srv.URL(), secret, io.Discard)
	require.NoError(t, err)
	step, _ := report.Step("operator SSO, replayed")
	assert.Equal(t, http.StatusUnauthorized, step.Status, "the sso module refuses a replayed sign-in")

	// An operator signs in as the front end would, with the shared secret,
	// to read what the desk stored; without a token, nothing is readable.
	token := signIn(t, srv.URL(), secret, "auditor")

	// The moderation module rewrote the abusive body before it was stored,
	// and its follow-up event got the visitor banned: the desk refused the
	// second message and lists the ban.
	require.Len(t, report.AbusiveBodies, 2)
	assert.Equal(t, "This **** widget is useless.", report.AbusiveBodies[0])
	assert.Empty(t, report.AbusiveBodies[1], "the second abusive message is refused")
	assert.True(t, report.Banned)
	var stored struct{ Items []struct{ Body string } }
	getJSON(t, srv.URL()+"/threads/2/messages", token, &stored)
	var bodies []string
	for _, m := range stored.Items {
		bodies = append(bodies, m.Body)
	}
	assert.Contains(t, bodies, "This **** widget is useless.")
	assert.NotContains(t, bodies, "This darn widget is useless.", "the original body never reached the store")

	// SSO signed the operator in; the functions module answered echo over
	// HTTP; assets and widget edited the page's CSS in rank order.
	assert.Equal(t, "olivia", report.Operator)
	assert.Equal(t, map[string]any{"text": "ping"}, report.Echo)
	assert.Equal(t, []string{"/static/desk.css", "/static/widget-theme.css", "/static/desk.js"}, report.Assets)

	// The audit module heard the ban.
	var audited []string
	for _, e := range log.Entries() {
		audited = append(audited, e.Topic)
	}
	assert.Contains(t, audited, "ban.created")

	app.RequireStop() // drains the webhook queue and flushes the traces

	// The webhook's rules pass the bans and the operators' replies, and
	// nothing else.
	var delivered []string
	for _, d := range rcv.Deliveries() {
		delivered = append(delivered, d.Topic)
	}
	slices.Sort(delivered)
	assert.Equal(t, []string{"ban.created", "chat.message_received"}, delivered)
	for _, d := range rcv.Deliveries() {
		if d.Topic == "chat.message_received" {
			assert.Contains(t, string(d.Event), `"Sorry about that, I am on it."`)
		}
	}

	checkTraceShape(t, tel)
	checkNoPersonalData(t, tel, report.Operator)
}

// checkNoPersonalData asserts that no span says the operator's login, not
// even the forged single sign-on whose error names it: the desk records
// errors by class only.
func checkNoPersonalData(t *testing.T, tel *telemetry.Telemetry, login string) {
	spans, _ := tel.Spans.Ended()
	var failed int
	for _, s := range spans {
		texts := []string{s.Name(), s.Status().Description}
		for _, kv := range s.Attributes() {
			texts = append(texts, kv.Value.String())
		}
		for _, ev := range s.Events() {
			for _, kv := range ev.Attributes {
				texts = append(texts, kv.Value.String())
			}
		}
		for _, text := range texts {
			assert.NotContains(t, text, login, "span %q", s.Name())
		}
		if s.Status().Code == codes.Error && attr(s.Attributes(), "error.type").AsString() == "sso: invalid single sign-on" {
			failed++
			assert.Equal(t, "sso: invalid single sign-on", s.Status().Description, "the class, not the message")
		}
	}
	assert.NotZero(t, failed, "the forged sign-in failed, and its spans say so by class")
}

// checkTraceShape finds the publish of a chat message: its parent is the
// HTTP server span of the request that posted it, and its children are the
// handler spans, one per listener, started in rank order.
func checkTraceShape(t *testing.T, tel *telemetry.Telemetry) {
	spans, dropped := tel.Spans.Ended()
	require.Zero(t, dropped)
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		byID[s.SpanContext().SpanID()] = s
	}
	var publishes []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == "publish thread.message_posting" {
			publishes = append(publishes, s)
		}
	}
	require.NotEmpty(t, publishes)
	for _, pub := range publishes {
		parent, ok := byID[pub.Parent().SpanID()]
		require.True(t, ok, "the publish span has a recorded parent")
		assert.Equal(t, trace.SpanKindServer, parent.SpanKind(), "parent %q is the HTTP server span", parent.Name())
		assert.Regexp(t, `^POST /threads`, parent.Name(), "greetings, joins and messages all post through thread.message_posting")

		var handlers []sdktrace.ReadOnlySpan
		for _, s := range spans {
			if s.Parent().SpanID() == pub.SpanContext().SpanID() {
				handlers = append(handlers, s)
			}
		}
		require.NotEmpty(t, handlers)
		slices.SortFunc(handlers, func(a, b sdktrace.ReadOnlySpan) int { return a.StartTime().Compare(b.StartTime()) })
		var ranks []int64
		for _, h := range handlers {
			assert.Equal(t, trace.SpanKindConsumer, h.SpanKind())
			assert.Regexp(t, ` thread\.message_posting$`, h.Name())
			ranks = append(ranks, attr(h.Attributes(), "fxbus.listener.rank").AsInt64())
		}
		assert.True(t, slices.IsSorted(ranks), "handler spans start in rank order: %v", ranks)
		assert.Equal(t, "moderation.NewModerate thread.message_posting", handlers[0].Name(), "moderation runs first, at rank -10")
	}
}

func attr(kvs []attribute.KeyValue, key string) attribute.Value {
	for _, kv := range kvs {
		if string(kv.Key) == key {
			return kv.Value
		}
	}
	return attribute.Value{}
}

// signIn signs the operator login in through single sign-on, as the
// front end would, and returns their bearer token.
func signIn(t *testing.T, base string, secret []byte, login string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/operators/login", nil)
	require.NoError(t, err)
	req.Header = demo.SSOHeaders(secret, login, time.Now())
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var l httpapi.LoginJSON
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&l))
	return l.Token
}

func getJSON(t *testing.T, url, token string, v any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%s without a token", url)

	req.Header.Set("Authorization", "Bearer "+token)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, url)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
}
