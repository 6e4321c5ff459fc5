package webhooks_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/rules"
	"github.com/fxbus/fxbus/modules/webhooks"
	"github.com/fxbus/fxbus/topics"
)

// A mistake in the config fails the app's start, naming the endpoint, the
// rule and the topic.
func TestConfigMistakesFailTheStart(t *testing.T) {
	const url = "https://crm.example.com/hook"
	ep := func(rules ...webhooks.Rule) webhooks.Endpoint {
		return webhooks.Endpoint{Name: "crm", URL: url, Rules: rules}
	}
	where := func(name, equals string) [][]webhooks.Field {
		return [][]webhooks.Field{{{Name: name, Equals: equals}}}
	}
	for _, tc := range []struct {
		name      string
		endpoints []webhooks.Endpoint
		want      webhooks.ConfigError // Err is compared by message, in msg
		msg       string
	}{
		{"unknown topic", []webhooks.Endpoint{ep(webhooks.Rule{ID: "r1", Topic: "ban.create"})},
			webhooks.ConfigError{Endpoint: `"crm"`, Rule: `"r1"`, Topic: "ban.create"},
			`webhooks: endpoint "crm": rule "r1" on topic "ban.create": no such topic in topics.All()`},
		{"rule without id", []webhooks.Endpoint{ep(webhooks.Rule{Topic: "ban.created"}, webhooks.Rule{Topic: "nope"})},
			webhooks.ConfigError{Endpoint: `"crm"`, Rule: "#1", Topic: "nope"},
			`rule #1 on topic "nope"`},
		{"unknown field", []webhooks.Endpoint{ep(webhooks.Rule{ID: "r2", Topic: "thread.message_posting",
			Where: where("Thread.Nope", "x")})},
			webhooks.ConfigError{Endpoint: `"crm"`, Rule: `"r2"`, Topic: "thread.message_posting"},
			`field "Thread.Nope": topics.Thread has no exported field "Nope"`},
		{"field of a non-struct", []webhooks.Endpoint{ep(webhooks.Rule{ID: "r", Topic: "thread.message_posting",
			Where: where("Body.Len", "1")})},
			webhooks.ConfigError{Endpoint: `"crm"`, Rule: `"r"`, Topic: "thread.message_posting"},
			`field "Body.Len": string (string) has no fields to name "Len"`},
		{"field behind an interface", []webhooks.Endpoint{ep(webhooks.Rule{ID: "r", Topic: "object.created",
			Where: where("Object.Ref", "R-1")})},
			webhooks.ConfigError{Endpoint: `"crm"`, Rule: `"r"`, Topic: "object.created"},
			`field "Object.Ref": topics.Object (interface) has no fields to name "Ref"`},
		{"bad number", []webhooks.Endpoint{ep(webhooks.Rule{ID: "r", Topic: "thread.created",
			Where: where("Thread.ID", "forty-two")})},
			webhooks.ConfigError{Endpoint: `"crm"`, Rule: `"r"`, Topic: "thread.created"},
			`field "Thread.ID": "forty-two" is not a topics.ThreadID`},
		{"bad name of a value", []webhooks.Endpoint{ep(webhooks.Rule{ID: "r", Topic: "thread.message_posting",
			Where: where("Kind", "shout")})},
			webhooks.ConfigError{Endpoint: `"crm"`, Rule: `"r"`, Topic: "thread.message_posting"},
			`"shout" is not a topics.MessageKind: no value has this name`},
		{"bad address", []webhooks.Endpoint{ep(webhooks.Rule{ID: "r", Topic: "ban.created",
			Where: where("Ban.Address", "300.1.1.1")})},
			webhooks.ConfigError{Endpoint: `"crm"`, Rule: `"r"`, Topic: "ban.created"},
			`"300.1.1.1" is not a netip.Addr`},
		{"not comparable", []webhooks.Endpoint{ep(webhooks.Rule{ID: "r", Topic: "page.add_css",
			Where: where("Assets", "x")})},
			webhooks.ConfigError{Endpoint: `"crm"`, Rule: `"r"`, Topic: "page.add_css"},
			`a []topics.Asset (slice) cannot be compared with text`},
		{"duplicate rule id", []webhooks.Endpoint{ep(webhooks.Rule{ID: "r", Topic: "ban.created"},
			webhooks.Rule{ID: "r", Topic: "ban.deleted"})},
			webhooks.ConfigError{Endpoint: `"crm"`, Rule: `"r"`, Topic: "ban.deleted"},
			`rule "r" on topic "ban.deleted": rule id given twice`},
		{"unknown policy", []webhooks.Endpoint{{Name: "crm", URL: url, Policy: "maybe"}},
			webhooks.ConfigError{Endpoint: `"crm"`}, `policy "maybe" is neither "include" nor "exclude"`},
		{"no name", []webhooks.Endpoint{ep(), {URL: url}},
			webhooks.ConfigError{Endpoint: "#1"}, `webhooks: endpoint #1: no name`},
		{"name twice", []webhooks.Endpoint{ep(), ep()},
			webhooks.ConfigError{Endpoint: `"crm"`}, `webhooks: endpoint "crm": name given twice`},
		{"not http", []webhooks.Endpoint{{Name: "crm", URL: "ftp://example.com/x"}},
			webhooks.ConfigError{Endpoint: `"crm"`}, `URL "ftp://example.com/x" is not an absolute http or https URL`},
		{"relative URL", []webhooks.Endpoint{{Name: "crm", URL: "/hook"}},
			webhooks.ConfigError{Endpoint: `"crm"`}, `is not an absolute http or https URL`},
		{"negative queue", []webhooks.Endpoint{{Name: "crm", URL: url, QueueSize: -1}},
			webhooks.ConfigError{Endpoint: `"crm"`}, `negative QueueSize or Timeout`},
		{"loopback", []webhooks.Endpoint{{Name: "crm", URL: "http://127.0.0.1:8080/"}},
			webhooks.ConfigError{Endpoint: `"crm"`}, `127.0.0.1 is a loopback address (Config.AllowLoopback is off)`},
		{"loopback v6", []webhooks.Endpoint{{Name: "crm", URL: "http://[::1]/"}},
			webhooks.ConfigError{Endpoint: `"crm"`}, `::1 is a loopback address`},
		{"localhost", []webhooks.Endpoint{{Name: "crm", URL: "http://localhost:9000/"}},
			webhooks.ConfigError{Endpoint: `"crm"`}, `is a loopback address`},
		{"private", []webhooks.Endpoint{{Name: "crm", URL: "http://10.1.2.3/"}},
			webhooks.ConfigError{Endpoint: `"crm"`}, `10.1.2.3 is a private, link-local, multicast or unspecified address (Config.AllowPrivate is off)`},
		{"metadata service", []webhooks.Endpoint{{Name: "crm", URL: "http://169.254.169.254/latest"}},
			webhooks.ConfigError{Endpoint: `"crm"`}, `169.254.169.254 is a private, link-local`},
		{"user information", []webhooks.Endpoint{{Name: "crm", URL: "https://u:p@crm.example.com/"}},
			webhooks.ConfigError{Endpoint: `"crm"`}, `URL has user information`},
		{"short secret", []webhooks.Endpoint{{Name: "crm", URL: url, Secret: []byte("short")}},
			webhooks.ConfigError{Endpoint: `"crm"`}, `Secret has 5 bytes; it needs at least 16`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := range tc.endpoints {
				if tc.endpoints[i].Secret == nil {
					tc.endpoints[i].Secret = testSecret
				}
			}
			app := fx.New(fx.NopLogger, bus.Module, webhooks.Module,
				fx.Supply(webhooks.Config{Endpoints: tc.endpoints}))
			err := app.Err()
			require.Error(t, err)
			assert.ErrorContains(t, err, tc.msg)
			var ce *webhooks.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.want.Endpoint, ce.Endpoint)
			assert.Equal(t, tc.want.Rule, ce.Rule)
			assert.Equal(t, tc.want.Topic, ce.Topic)
			assert.ErrorIs(t, app.Start(ctx), err, "Start reports it too")
		})
	}
}

// A duplicate rule id is the bus's own error, underneath.
func TestConfigDuplicateRuleIsARuleError(t *testing.T) {
	_, err := webhooks.New(webhooks.Params{Config: webhooks.Config{Endpoints: []webhooks.Endpoint{{
		Name: "crm", URL: "https://crm.example.com/", Secret: testSecret, Rules: []webhooks.Rule{{ID: "x", Topic: "ban.created"}, {ID: "x", Topic: "ban.created"}},
	}}}})
	assert.ErrorIs(t, err, rules.ErrDuplicateRule)
}

// sample is a payload for the field tests.
type sample struct {
	Name    string
	N       int64
	U       uint16
	F       float64
	OK      bool
	State   topics.ThreadState
	Small   level // an 8-bit type with names
	At      time.Time
	Addr    netip.Addr
	Thread  *topics.Thread
	PtrName *string
	Inner
	*Deep
}

type Inner struct{ Tag string }
type Deep struct{ Depth int }

type level int8

func (l level) String() string { return fmt.Sprintf("level%d", int(l)) }

func TestFieldPredicates(t *testing.T) {
	name := "ptr"
	paris := time.FixedZone("CET", 3600)
	e := &sample{
		Name: "ada", N: -3, U: 7, F: 1.5, OK: true, State: topics.ThreadStateChatting, Small: -2,
		At:      time.Date(2025, 1, 1, 13, 0, 0, 0, paris),
		Addr:    netip.MustParseAddr("192.0.2.1"),
		Thread:  &topics.Thread{ID: 42, UserID: "u1", State: topics.ThreadStateClosed},
		PtrName: &name, Inner: Inner{Tag: "t"},
	}
	for _, tc := range []struct {
		field, equals string
		want          bool
	}{
		{"Name", "ada", true},
		{"Name", "Ada", false},
		{"N", "-3", true},
		{"N", "3", false},
		{"U", "7", true},
		{"U", "0x7", true},
		{"F", "1.5", true},
		{"OK", "true", true},
		{"OK", "false", false},
		{"State", "chatting", true}, // by its name
		{"State", "2", true},        // or its number
		{"State", "closed", false},
		{"Small", "level-2", true},
		{"At", "2025-01-01T12:00:00Z", true}, // the same instant, in another zone
		{"At", "2025-01-01T13:00:00Z", false},
		{"Addr", "192.0.2.1", true},
		{"Addr", "192.0.2.2", false},
		{"Thread.ID", "42", true},
		{"Thread.UserID", "u1", true},
		{"Thread.State", "closed", true},
		{"PtrName", "ptr", true},
		{"Tag", "t", true},         // promoted from an embedded struct
		{"Inner.Tag", "t", true},   // or named through it
		{"Depth", "0", false},      // behind a nil embedded pointer
		{"Deep.Depth", "0", false}, // the same, named
	} {
		p, err := webhooks.Predicate[sample](webhooks.Field{Name: tc.field, Equals: tc.equals})
		require.NoError(t, err, "%s = %s", tc.field, tc.equals)
		assert.Equal(t, tc.want, p(e), "%s = %s", tc.field, tc.equals)
	}

	// A nil pointer on the way fails the condition.
	p, err := webhooks.Predicate[sample](webhooks.Field{Name: "Thread.UserID", Equals: ""})
	require.NoError(t, err)
	assert.False(t, p(&sample{}))
	assert.True(t, p(&sample{Thread: &topics.Thread{}}))

	for _, f := range []webhooks.Field{
		{Name: "", Equals: "x"},
		{Name: "Name.", Equals: "x"},
		{Name: "OK", Equals: "yes"},
		{Name: "F", Equals: "one"},
		{Name: "U", Equals: "70000"}, // out of range for a uint16
		{Name: "Small", Equals: "level9000"},
		{Name: "At", Equals: "yesterday"},
		{Name: "inner", Equals: "x"},
	} {
		_, err := webhooks.Predicate[sample](f)
		assert.Error(t, err, "%+v", f)
	}
}

// Every topic of the catalogue has a route, and every route is a topic of
// the catalogue; every payload encodes to JSON.
func TestEveryTopicHasARoute(t *testing.T) {
	routed, samples, before := webhooks.Catalogue()
	all := topics.All()
	assert.Equal(t, len(all), len(routed))
	assert.ElementsMatch(t, all, routed)
	for i, s := range samples {
		_, err := json.Marshal(s)
		assert.NoError(t, err, "payload of %s", routed[i].Name())
		assert.Equal(t, routed[i].Name()[max(0, len(routed[i].Name())-len(".before")):] == ".before", before[i],
			"%s: before stage", routed[i].Name())
	}
}

// The payloads that carry an HTTP request or handler encode without them.
func TestPayloadsWithRequestsEncode(t *testing.T) {
	r := httptest.NewRequest("GET", "/x", nil)
	for _, p := range []any{
		&topics.PageAssets{Request: r},
		&topics.PluginOptions{Request: r},
		&topics.Authentication{Request: r},
		&topics.ResourceRequest{Request: r},
		&topics.FunctionCall{Request: r},
		&topics.RouteCollection{Routes: []topics.Route{{Name: "x", Handler: http.NotFoundHandler()}}},
		&topics.WidgetReply{Request: r, RouteURL: func(string, map[string]string) (string, error) { return "", nil },
			AssetURL: func(string) string { return "" }},
	} {
		_, err := json.Marshal(p)
		assert.NoError(t, err, "%T", p)
	}
}
