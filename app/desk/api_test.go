package desk_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/fxbus/fxbus/app/demo"
	"github.com/fxbus/fxbus/app/desk"
	"github.com/fxbus/fxbus/app/desk/httpapi"
	"github.com/fxbus/fxbus/app/telemetry"
	"github.com/fxbus/fxbus/bus"
)

// fixture is a desk whose API is served by an httptest recorder, not a
// server, with the fake modules and some state: visitors alice and bob,
// each with its token, a thread of alice's, an operator and a user logged
// in, a ticket and a document.
type fixture struct {
	h   http.Handler
	svc *desk.Service
	api *httpapi.API

	thread, ticket, document int64
	opToken, userToken       string
	aliceToken, bobToken     string
}

func newFixture(t *testing.T, opts ...fx.Option) *fixture {
	t.Helper()
	return newDesk(t, desk.Config{LogOutput: testWriter{t}}, true, opts...)
}

// newDesk is newFixture for any testing.TB, logging to log; withUser
// adds the user carol (password "pw"), logged in, which costs two
// password hashes.
func newDesk(tb testing.TB, cfg desk.Config, withUser bool, opts ...fx.Option) *fixture {
	tb.Helper()
	var (
		api *httpapi.API
		svc *desk.Service
	)
	cfg.SSOSecret = testSecret
	fxtest.New(tb, bus.Module, telemetry.Module, desk.Module, httpapi.Module, desk.WithConfig(cfg), fakeModules(),
		fx.Options(opts...), fx.Populate(&api, &svc), fx.NopLogger)
	h, err := api.Handler(context.Background())
	require.NoError(tb, err)
	f := &fixture{h: h, svc: svc, api: api}
	must := func(method, path, token, body string, into any, hdr ...http.Header) {
		tb.Helper()
		w := f.do(method, path, token, body, hdr...)
		require.Less(tb, w.Code, 300, "%s %s: %s", method, path, w.Body)
		if into != nil {
			require.NoError(tb, json.Unmarshal(w.Body.Bytes(), into))
		}
	}
	var v httpapi.VisitorJSON
	must("POST", "/visitors", "", `{"user_id":"alice","name":"Alice"}`, &v)
	f.aliceToken = v.Token
	w := f.doFrom(bobAddr, "POST", "/visitors", "", `{"user_id":"bob","name":"Bob"}`)
	require.Equal(tb, 201, w.Code, w.Body.String())
	require.NoError(tb, json.Unmarshal(w.Body.Bytes(), &v))
	f.bobToken = v.Token
	var login httpapi.LoginJSON
	must("POST", "/operators/login", "", "", &login, ssoHeaders("olivia"))
	f.opToken = login.Token
	var th httpapi.ThreadJSON
	must("POST", "/threads", f.aliceToken, `{}`, &th)
	f.thread = th.ID
	var rec map[string]any
	must("POST", "/tickets", f.opToken, `{"class":"UserRequest","title":"Late order","caller":"alice"}`, &rec)
	f.ticket = int64(rec["id"].(float64))
	data := base64.StdEncoding.EncodeToString([]byte("hello"))
	must("POST", "/documents", f.opToken, `{"name":"Greeting","file_name":"hello.txt","mime_type":"text/plain","data":"`+data+`"}`, &rec)
	f.document = int64(rec["id"].(float64))
	if withUser {
		must("POST", "/users/register", "", `{"login":"carol","password":"pw"}`, nil)
		must("POST", "/users/login", "", `{"login":"carol","password":"pw"}`, &login)
		f.userToken = login.Token
	}
	return f
}

// ssoHeaders are the single sign-on headers of login, signed now with
// testSecret.
func ssoHeaders(login string) http.Header {
	return demo.SSOHeaders(testSecret, login, time.Now())
}

// The addresses the fixture's clients connect from: bob's, and everyone
// else's.
const (
	bobAddr     = "203.0.113.20:1234"
	defaultAddr = "192.0.2.1:1234"
)

// do serves a request; body is JSON text, "" for none. It comes from
// bob's address with bob's token, else from defaultAddr.
func (f *fixture) do(method, path, token, body string, hdr ...http.Header) *httptest.ResponseRecorder {
	from := defaultAddr
	if token != "" && token == f.bobToken {
		from = bobAddr
	}
	return f.doFrom(from, method, path, token, body, hdr...)
}

// doFrom is do from the address from.
func (f *fixture) doFrom(from, method, path, token, body string, hdr ...http.Header) *httptest.ResponseRecorder {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	req.RemoteAddr = from
	for _, h := range hdr {
		for k, vs := range h {
			for _, v := range vs {
				req.Header.Add(k, v)
			}
		}
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, req)
	return w
}

// must serves a request that must succeed, and decodes its answer into
// into, unless nil.
func (f *fixture) must(t *testing.T, method, path, token, body string, into any, hdr ...http.Header) {
	t.Helper()
	w := f.do(method, path, token, body, hdr...)
	require.Less(t, w.Code, 300, "%s %s: %s", method, path, w.Body)
	if into != nil {
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), into))
	}
}

func TestAPI(t *testing.T) {
	f := newFixture(t)
	th := func(format string) string { return strings.Replace(format, "{thread}", itoa(f.thread), 1) }
	tests := []struct {
		name         string
		method, path string
		token        func() string
		header       http.Header
		body         string
		status       int
		contains     []string // in the body
	}{
		{name: "health", method: "GET", path: "/healthz", status: 200, contains: []string{`"status":"ok"`}},
		{name: "unknown route", method: "GET", path: "/nowhere", status: 404, contains: []string{`"error":"no route for GET /nowhere: not found"`}},

		{name: "visitor without body", method: "POST", path: "/visitors", status: 400, contains: []string{"a JSON body is required"}},
		{name: "visitor, bad JSON", method: "POST", path: "/visitors", body: `{"user_id":`, status: 400, contains: []string{"invalid request: body"}},
		{name: "visitor, unknown field", method: "POST", path: "/visitors", body: `{"user_id":"x","shoe":9}`, status: 400, contains: []string{`unknown field \"shoe\"`}},
		{name: "visitor, an address in the body", method: "POST", path: "/visitors", body: `{"user_id":"x","ip":"127.0.0.1"}`, status: 400, contains: []string{`unknown field \"ip\"`}},
		{name: "visitor without user_id", method: "POST", path: "/visitors", body: `{"name":"x"}`, status: 400, contains: []string{"user_id is required"}},
		{name: "visitor id with NUL", method: "POST", path: "/visitors", body: `{"user_id":"a\u0000b"}`, status: 400, contains: []string{"user_id has the character U+0000"}},
		{name: "visitor id with a bidi override", method: "POST", path: "/visitors", body: `{"user_id":"a\u202eb"}`, status: 400, contains: []string{"U+202E"}},
		{name: "visitor id not UTF-8", method: "POST", path: "/visitors", body: "{\"user_id\":\"a\xffb\"}", status: 400, contains: []string{"not valid UTF-8"}},
		{name: "new visitor, address of the connection", method: "POST", path: "/visitors", body: `{"user_id":"dave"}`, status: 201, contains: []string{`"new":true`, `"ip":"192.0.2.1"`, `"token":"`}},
		{name: "known visitor, anonymous", method: "POST", path: "/visitors", body: `{"user_id":"alice"}`, status: 401, contains: []string{`visitor \"alice\": send the token`}},
		{name: "known visitor, another's token", method: "POST", path: "/visitors", token: f.bob, body: `{"user_id":"alice"}`, status: 403},
		{name: "known visitor", method: "POST", path: "/visitors", token: f.alice, body: `{"user_id":"alice"}`, status: 200, contains: []string{`"user_id":"alice"`, `"chats":1`}},
		{name: "visitors", method: "GET", path: "/visitors", token: f.op, status: 200, contains: []string{`"user_id":"alice"`, `"user_id":"bob"`}},

		{name: "chat as an operator", method: "POST", path: "/threads", token: f.op, body: `{}`, status: 403, contains: []string{"a visitor only"}},
		{name: "chat for another visitor", method: "POST", path: "/threads", token: f.bob, body: `{"user_id":"alice"}`, status: 403, contains: []string{`visitor \"alice\" is another client's`}},
		{name: "chat", method: "POST", path: "/threads", token: f.bob, body: `{"locale":"fr"}`, status: 201, contains: []string{`"state":"queue"`, `"locale":"fr"`, `"user_ready":true`, `"user_id":"bob"`}},
		{name: "thread, bad id", method: "GET", path: "/threads/abc", token: f.op, status: 400, contains: []string{`id \"abc\" is not an id`}},
		{name: "thread, no such", method: "GET", path: "/threads/999", token: f.op, status: 404, contains: []string{"thread 999: not found"}},
		{name: "thread", method: "GET", path: th("/threads/{thread}"), token: f.alice, status: 200, contains: []string{`"user_id":"alice"`}},
		{name: "thread, another visitor's", method: "GET", path: th("/threads/{thread}"), token: f.bob, status: 403, contains: []string{"is another visitor's"}},
		{name: "threads", method: "GET", path: "/threads", token: f.op, status: 200, contains: []string{`"user_id":"alice"`}},

		{name: "join, anonymous", method: "POST", path: th("/threads/{thread}/join"), status: 401, contains: []string{"an operator only: send a bearer token"}},
		{name: "join, as a user", method: "POST", path: th("/threads/{thread}/join"), token: f.user, status: 403, contains: []string{"forbidden: an operator only"}},
		{name: "join, unknown token", method: "POST", path: th("/threads/{thread}/join"), token: func() string { return "forged" }, status: 401, contains: []string{"unknown bearer token"}},
		{name: "join", method: "POST", path: th("/threads/{thread}/join"), token: f.op, status: 200, contains: []string{`"state":"chatting"`, `"agent_name":"Olivia"`}},
		{name: "join, no such thread", method: "POST", path: "/threads/999/join", token: f.op, status: 404},

		{name: "message without body", method: "POST", path: th("/threads/{thread}/messages"), token: f.alice, body: `{"body":""}`, status: 400, contains: []string{"body is required"}},
		{name: "message too long", method: "POST", path: th("/threads/{thread}/messages"), token: f.alice, body: `{"body":"` + strings.Repeat("x", 4097) + `"}`, status: 400, contains: []string{"body is longer than 4096 bytes"}},
		{name: "message, rewritten", method: "POST", path: th("/threads/{thread}/messages"), token: f.alice, body: `{"body":"darn it"}`, status: 201, contains: []string{`"body":"**** it"`, `"kind":"user"`, `"from":"Alice"`}},
		{name: "message into another's thread", method: "POST", path: th("/threads/{thread}/messages"), token: f.bob, body: `{"body":"hi"}`, status: 403},
		{name: "message, anonymous", method: "POST", path: th("/threads/{thread}/messages"), body: `{"body":"hi"}`, status: 401},
		{name: "message of the operator", method: "POST", path: th("/threads/{thread}/messages"), token: f.op, body: `{"body":"Hello"}`, status: 201, contains: []string{`"kind":"agent"`, `"from":"Olivia"`}},
		{name: "messages", method: "GET", path: th("/threads/{thread}/messages"), token: f.alice, status: 200, contains: []string{`"kind":"info"`, desk.Greeting}},
		{name: "messages of another's thread", method: "GET", path: th("/threads/{thread}/messages"), token: f.bob, status: 403},

		{name: "function echo", method: "POST", path: th("/threads/{thread}/functions/echo"), token: f.alice, body: `{"arguments":{"text":"hi"}}`, status: 200, contains: []string{`{"text":"hi"}`}},
		{name: "function without arguments", method: "POST", path: th("/threads/{thread}/functions/now"), token: f.op, status: 200, contains: []string{`"time":`}},
		{name: "function unknown", method: "POST", path: th("/threads/{thread}/functions/teleport"), token: f.alice, body: `{}`, status: 404, contains: []string{`function \"teleport\": not found`}},
		{name: "function, no such thread", method: "POST", path: "/threads/999/functions/echo", token: f.op, status: 404},
		{name: "function of another's thread", method: "POST", path: th("/threads/{thread}/functions/echo"), token: f.bob, status: 403},

		{name: "operator login without SSO", method: "POST", path: "/operators/login", status: 401, contains: []string{"no listener of operator.authenticate recognised the operator"}},
		{name: "operator login, forged", method: "POST", path: "/operators/login", header: demo.SSOHeaders([]byte("guess"), "olivia", time.Now()), status: 401, contains: []string{"forged signature"}},
		{name: "operators", method: "GET", path: "/operators", token: f.op, status: 200, contains: []string{`"login":"olivia"`, `"online":true`}},

		{name: "bans", method: "GET", path: "/bans", token: f.op, status: 200, contains: []string{`{"items":[]}`}},
		{name: "ban, as a user", method: "POST", path: "/bans", token: f.user, body: `{"user_id":"bob"}`, status: 403},
		{name: "ban, nobody", method: "POST", path: "/bans", token: f.op, body: `{"reason":"x"}`, status: 400, contains: []string{"user_id or address is required"}},
		{name: "ban, bad address", method: "POST", path: "/bans", token: f.op, body: `{"address":"x"}`, status: 422},

		{name: "ticket, bad class", method: "POST", path: "/tickets", token: f.op, body: `{"class":"Problem","title":"x"}`, status: 400, contains: []string{`not \"Problem\"`}},
		{name: "ticket without title", method: "POST", path: "/tickets", token: f.op, body: `{"class":"Incident"}`, status: 400, contains: []string{"title is required"}},
		{name: "ticket, not an object", method: "POST", path: "/tickets", token: f.op, body: `[1]`, status: 400},
		{name: "incident", method: "POST", path: "/tickets", token: f.op, body: `{"class":"Incident","title":"Down","impact":1,"urgency":2}`, status: 201, contains: []string{`"ref":"I-000002"`, `"impact":1`, `"status":"new"`}},
		{name: "incident, bad impact", method: "POST", path: "/tickets", token: f.op, body: `{"class":"Incident","title":"x","impact":9}`, status: 400, contains: []string{"impact must be from 1 to 5"}},
		{name: "ticket", method: "GET", path: "/tickets/" + itoa(f.ticket), token: f.op, status: 200, contains: []string{`"class":"UserRequest"`, `"ref":"R-000001"`}},
		{name: "tickets", method: "GET", path: "/tickets", token: f.op, status: 200, contains: []string{`"ref":"R-000001"`}},
		{name: "ticket, no such", method: "GET", path: "/tickets/999", token: f.op, status: 404},
		{name: "ticket update", method: "PATCH", path: "/tickets/" + itoa(f.ticket), token: f.op, body: `{"status":"assigned","service":"delivery"}`, status: 200, contains: []string{`"status":"assigned"`, `"service":"delivery"`}},
		{name: "ticket update, bad status", method: "PATCH", path: "/tickets/" + itoa(f.ticket), token: f.op, body: `{"status":"lost"}`, status: 400},
		{name: "ticket update, unknown field", method: "PATCH", path: "/tickets/" + itoa(f.ticket), token: f.op, body: `{"impact":1}`, status: 400, contains: []string{`a UserRequest has no field \"impact\"`}},
		{name: "ticket update, no such", method: "PATCH", path: "/tickets/999", token: f.op, body: `{"status":"closed"}`, status: 404},

		{name: "document", method: "GET", path: "/documents/" + itoa(f.document), token: f.op, status: 200, contains: []string{`"file_name":"hello.txt"`, `"size":5`}},
		{name: "document, bad data", method: "POST", path: "/documents", token: f.op, body: `{"name":"x","file_name":"x","data":"%%"}`, status: 400, contains: []string{"base64"}},
		{name: "document, bad type", method: "POST", path: "/documents", token: f.op, body: `{"name":"x","file_name":"x","mime_type":"text/html; script=1"}`, status: 400, contains: []string{"is not a media type"}},
		{name: "document, file name with NUL", method: "POST", path: "/documents", token: f.op, body: `{"name":"x","file_name":"x\u0000.txt"}`, status: 400, contains: []string{"file_name has the character U+0000"}},
		{name: "download", method: "GET", path: "/documents/" + itoa(f.document) + "/download", token: f.op, status: 200, contains: []string{"hello"}},
		{name: "download, bad disposition", method: "GET", path: "/documents/" + itoa(f.document) + "/download?disposition=x", token: f.op, status: 400},
		{name: "download, no such", method: "GET", path: "/documents/999/download", token: f.op, status: 404},

		{name: "page assets", method: "GET", path: "/page/assets", status: 200, contains: []string{
			`"css":[{"kind":"relative_url","content":"/static/desk.css","weight":0},{"kind":"relative_url","content":"/static/widget-theme.css","weight":0}]`,
			`"js":[{"kind":"relative_url","content":"/static/desk.js","weight":0}]`}},
		{name: "chat page", method: "GET", path: "/chat", status: 200, contains: []string{`<link rel="stylesheet" href="/static/desk.css">`, `<script src="/static/desk.js"></script>`}},
		{name: "cron", method: "POST", path: "/cron", token: f.op, status: 200, contains: []string{`"visitors":`, `"operators_online":1`}},

		{name: "register, login taken", method: "POST", path: "/users/register", body: `{"login":"carol","password":"x"}`, status: 409, contains: []string{`login \"carol\" is taken`}},
		{name: "register without password", method: "POST", path: "/users/register", body: `{"login":"erin"}`, status: 400},
		{name: "register, login with a bidi override", method: "POST", path: "/users/register", body: `{"login":"eri\u202en","password":"x"}`, status: 400},
		{name: "login, wrong password", method: "POST", path: "/users/login", body: `{"login":"carol","password":"x"}`, status: 401, contains: []string{"wrong login or password"}},
		{name: "login, no such user", method: "POST", path: "/users/login", body: `{"login":"nobody","password":"x"}`, status: 401},

		{name: "publish, unknown channel", method: "POST", path: "/channels/nowhere/messages", token: f.user, body: `{"message":"x"}`, status: 404, contains: []string{`channel \"nowhere\": not found`}},
		{name: "publish, empty", method: "POST", path: "/channels/operators/messages", token: f.user, body: `{"message":""}`, status: 400},
		{name: "publish, anonymous", method: "POST", path: "/channels/operators/messages", body: `{"message":"hi"}`, status: 401},
		{name: "announce, as a user", method: "POST", path: "/channels/announcements/messages", token: f.user, body: `{"message":"hi"}`, status: 403},
		{name: "announce", method: "POST", path: "/channels/announcements/messages", token: f.op, body: `{"message":"hi"}`, status: 201},
		{name: "publish", method: "POST", path: "/channels/operators/messages", token: f.user, body: `{"message":"hi"}`, status: 201, contains: []string{`"message_id":"operators-1"`, `"delivered":1`}},

		{name: "wrong method", method: "DELETE", path: "/threads", status: 405, contains: []string{"method not allowed: DELETE /threads: allowed: GET, POST, HEAD"}},
		{name: "wrong method on a path with a value", method: "PUT", path: "/tickets/1", status: 405, contains: []string{"allowed: GET, PATCH, HEAD"}},
		{name: "thread close, another's", method: "POST", path: th("/threads/{thread}/close"), token: f.bob, status: 403},
		{name: "thread close", method: "POST", path: th("/threads/{thread}/close"), token: f.alice, status: 200, contains: []string{`"state":"closed"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := ""
			if tt.token != nil {
				token = tt.token()
			}
			var hdr []http.Header
			if tt.header != nil {
				hdr = append(hdr, tt.header)
			}
			w := f.do(tt.method, tt.path, token, tt.body, hdr...)
			assert.Equal(t, tt.status, w.Code, "body: %s", w.Body)
			assert.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"))
			if w.Code >= 400 {
				assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
				var e httpapi.ErrorJSON
				require.NoError(t, json.Unmarshal(w.Body.Bytes(), &e), "an error is JSON")
				assert.NotEmpty(t, e.Error)
			}
			if w.Code == http.StatusUnauthorized {
				assert.Equal(t, "Bearer", w.Header().Get("WWW-Authenticate"))
			}
			if w.Code == http.StatusMethodNotAllowed {
				assert.NotEmpty(t, w.Header().Get("Allow"))
			}
			for _, s := range tt.contains {
				assert.Contains(t, w.Body.String(), s)
			}
		})
	}
}

func (f *fixture) op() string    { return f.opToken }
func (f *fixture) user() string  { return f.userToken }
func (f *fixture) alice() string { return f.aliceToken }
func (f *fixture) bob() string   { return f.bobToken }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestAPIDownloadHeaders(t *testing.T) {
	f := newFixture(t)
	w := f.do("GET", "/documents/"+itoa(f.document)+"/download?disposition=inline", f.opToken, "")
	require.Equal(t, 200, w.Code)
	assert.Equal(t, "hello", w.Body.String())
	assert.Equal(t, "text/plain", w.Header().Get("Content-Type"))
	assert.Equal(t, `inline; filename=hello.txt`, w.Header().Get("Content-Disposition"))
	assert.Equal(t, "5", w.Header().Get("Content-Length"))
	assert.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"))
	assert.Equal(t, httpapi.DownloadCSP, w.Header().Get("Content-Security-Policy"))
}

func TestStatusOf(t *testing.T) {
	tests := []struct {
		err    error
		status int
	}{
		{desk.ErrInvalid, 400},
		{desk.ErrUnauthenticated, 401},
		{desk.ErrForbidden, 403},
		{desk.ErrBanned, 403},
		{desk.ErrNotFound, 404},
		{desk.ErrConflict, 409},
		{desk.ErrRejected, 422},
		{io.EOF, 500},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.status, httpapi.StatusOf(tt.err), "%v", tt.err)
		assert.Equal(t, tt.status, httpapi.StatusOf(fmt.Errorf("context: %w", tt.err)), "wrapped %v", tt.err)
	}
}

// Every route, for every role: an anonymous caller or a forged token gets
// a 401, a caller whose role the route does not admit a 403, and both
// get nothing but {"error": "..."}; a visitor gets a 403 on another
// visitor's thread. A caller the route admits gets neither.
func TestAccessPerRouteAndRole(t *testing.T) {
	f := newFixture(t)
	type role struct {
		name  string
		token string
	}
	roles := []role{
		{"anonymous", ""}, {"forged", "forged"}, {"user", f.userToken},
		{"owner visitor", f.aliceToken}, {"other visitor", f.bobToken}, {"operator", f.opToken},
	}
	// want returns 401, 403, or 0 for "admitted".
	want := func(access httpapi.Access, r role) int {
		switch {
		case r.name == "forged":
			return 401
		case access == httpapi.Public:
			return 0
		case r.name == "anonymous":
			return 401
		}
		admitted := map[httpapi.Access][]string{
			httpapi.SignedIn:        {"user", "owner visitor", "other visitor", "operator"},
			httpapi.VisitorOnly:     {"owner visitor", "other visitor"},
			httpapi.OwnerOrOperator: {"owner visitor", "operator"},
			httpapi.OperatorOnly:    {"operator"},
		}[access]
		if slices.Contains(admitted, r.name) {
			return 0
		}
		return 403
	}
	docs := f.api.Docs()
	require.Len(t, docs, len(f.api.Routes()))
	for _, d := range docs {
		method, path, _ := strings.Cut(d.Pattern, " ")
		id := f.thread
		switch {
		case strings.HasPrefix(path, "/tickets/"):
			id = f.ticket
		case strings.HasPrefix(path, "/documents/"):
			id = f.document
		}
		path = strings.NewReplacer("{id}", itoa(id), "{name}", "echo", "{channel}", "operators").Replace(path)
		for _, r := range roles {
			t.Run(d.Name+"/"+r.name, func(t *testing.T) {
				w := f.do(method, path, r.token, "")
				switch code := want(d.Access, r); code {
				case 0:
					if d.Name == "operator.login" { // admitted, and 401 for want of credentials
						assert.Contains(t, w.Body.String(), "no listener of operator.authenticate recognised the operator")
						return
					}
					if d.Name == "debug.login" || d.Name == "debug.logout" { // admitted, and 403 for want of a same-origin form
						assert.Contains(t, w.Body.String(), "without an Origin header")
						return
					}
					assert.NotContains(t, []int{401, 403}, w.Code, "%s is admitted: %s", r.name, w.Body)
				default:
					assert.Equal(t, code, w.Code, w.Body.String())
					dec := json.NewDecoder(w.Body)
					dec.DisallowUnknownFields()
					var e httpapi.ErrorJSON
					require.NoError(t, dec.Decode(&e), "nothing but an error")
					assert.NotContains(t, e.Error, "alice", "no data of another")
				}
			})
		}
	}
}

// The client's address is the connection's, whatever the body or the
// headers claim; a trusted proxy's header is believed, and only then.
func TestClientAddress(t *testing.T) {
	f := newFixture(t)
	var v httpapi.VisitorJSON
	w := f.doFrom("198.51.100.7:4000", "POST", "/visitors", "", `{"user_id":"eve"}`, http.Header{"X-Forwarded-For": {"127.0.0.1"}})
	require.Equal(t, 201, w.Code, w.Body.String())
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v))
	assert.Equal(t, "198.51.100.7", v.IP, "no proxy is trusted: the header is ignored")

	w = f.doFrom("198.51.100.7:4000", "POST", "/visitors", "", `{"user_id":"eve2","ip":"127.0.0.1"}`)
	assert.Equal(t, 400, w.Code, "an address in the body is refused")

	p := newDesk(t, desk.Config{
		LogOutput: testWriter{t}, ClientAddrHeader: "X-Forwarded-For",
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
	}, false)
	for _, tc := range []struct{ remote, xff, want string }{
		{"10.0.0.1:1", "203.0.113.5", "203.0.113.5"},
		{"10.0.0.1:1", "127.0.0.1, 203.0.113.5, 10.0.0.2", "203.0.113.5"}, // the right-most untrusted hop
		{"198.51.100.7:1", "203.0.113.5", "198.51.100.7"},                 // not from the proxy
		{"10.0.0.1:1", "garbage", "10.0.0.1"},
		{"10.0.0.1:1", "", "10.0.0.1"},
	} {
		var hdr []http.Header
		if tc.xff != "" {
			hdr = append(hdr, http.Header{"X-Forwarded-For": {tc.xff}})
		}
		w := p.doFrom(tc.remote, "POST", "/visitors", "", `{"user_id":"v-`+tc.remote+tc.xff+`"}`, hdr...)
		require.Equal(t, 201, w.Code, w.Body.String())
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v))
		assert.Equal(t, tc.want, v.IP, "%s via %q", tc.remote, tc.xff)
	}
}

// Listings come in pages, with a cursor to the next, and refuse a bad
// cursor or limit.
func TestListingsPaginated(t *testing.T) {
	f := newFixture(t)
	path := "/threads/" + itoa(f.thread) + "/messages"
	for i := range 5 {
		f.must(t, "POST", path, f.aliceToken, `{"body":"m`+strconv.Itoa(i)+`"}`, nil)
	}
	var bodies []string
	after, pages := "", 0
	for {
		var page httpapi.ListJSON[httpapi.MessageJSON]
		f.must(t, "GET", path+"?limit=2&after="+after, f.aliceToken, "", &page)
		pages++
		for _, m := range page.Items {
			bodies = append(bodies, m.Body)
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	assert.Equal(t, []string{desk.Greeting, "m0", "m1", "m2", "m3", "m4"}, bodies)
	assert.Equal(t, 3, pages)
	assert.Equal(t, 400, f.do("GET", path+"?limit=0", f.aliceToken, "").Code)
	assert.Equal(t, 400, f.do("GET", path+"?limit=101", f.aliceToken, "").Code)
	assert.Equal(t, 400, f.do("GET", path+"?after=x", f.aliceToken, "").Code)

	var visitors httpapi.ListJSON[httpapi.VisitorJSON]
	f.must(t, "GET", "/visitors?limit=1", f.opToken, "", &visitors)
	require.Len(t, visitors.Items, 1)
	assert.Equal(t, "alice", visitors.Items[0].UserID)
	var last httpapi.ListJSON[httpapi.VisitorJSON]
	f.must(t, "GET", "/visitors?limit=1&after="+visitors.Next, f.opToken, "", &last)
	assert.Equal(t, "bob", last.Items[0].UserID)
	assert.Empty(t, last.Next)
}

// A body beyond the limit is refused with a 413; a full store with a 507.
func TestBodyAndStoreLimits(t *testing.T) {
	f := newDesk(t, desk.Config{LogOutput: testWriter{t},
		Limits: desk.Limits{MaxBodyBytes: 200, MaxMessageBytes: 40, MaxStoreBytes: 100}}, false)
	path := "/threads/" + itoa(f.thread) + "/messages"
	w := f.do("POST", path, f.aliceToken, `{"body":"`+strings.Repeat("x", 300)+`"}`)
	assert.Equal(t, 413, w.Code, w.Body.String())
	assert.Contains(t, w.Body.String(), "request body too large: more than 200 bytes")
	for w.Code != 507 {
		w = f.do("POST", path, f.aliceToken, `{"body":"`+strings.Repeat("y", 30)+`"}`)
		require.Contains(t, []int{201, 507}, w.Code, w.Body.String())
	}
	assert.Contains(t, w.Body.String(), "store full")
}

// A document that could run script is never served inline, and no
// download is sniffed or runs anything.
func TestDownloadsCannotRunScript(t *testing.T) {
	f := newFixture(t)
	html := base64.StdEncoding.EncodeToString([]byte("<script>alert(1)</script>"))
	var rec map[string]any
	f.must(t, "POST", "/documents", f.opToken, `{"name":"x","file_name":"x.html","mime_type":"text/html","data":"`+html+`"}`, &rec)
	id := itoa(int64(rec["id"].(float64)))

	w := f.do("GET", "/documents/"+id+"/download?disposition=inline", f.opToken, "")
	assert.Equal(t, 400, w.Code)
	assert.Contains(t, w.Body.String(), "a text/html document is downloaded as an attachment only")

	w = f.do("GET", "/documents/"+id+"/download", f.opToken, "")
	require.Equal(t, 200, w.Code)
	assert.Equal(t, "attachment; filename=x.html", w.Header().Get("Content-Disposition"))
	assert.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"))
	assert.Equal(t, httpapi.DownloadCSP, w.Header().Get("Content-Security-Policy"))
	assert.Contains(t, w.Header().Get("Content-Security-Policy"), "sandbox")
}

// The OpenAPI document the desk serves has every route, and nothing else,
// each with who may call it, and the bearer requirement and the 401 and
// 403 answers exactly on the routes that need a token.
func TestOpenAPIMatchesTheRoutes(t *testing.T) {
	f := newFixture(t)
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			OperationID string           `json:"operationId"`
			Access      string           `json:"x-access"`
			Security    []map[string]any `json:"security"`
			Responses   map[string]any   `json:"responses"`
			RequestBody *struct{}        `json:"requestBody"`
			Parameters  []struct {
				Name, In string
			} `json:"parameters"`
		} `json:"paths"`
	}
	f.must(t, "GET", "/openapi.json", "", "", &doc)
	assert.Equal(t, "3.1.0", doc.OpenAPI)

	documented := map[string]string{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			documented[strings.ToUpper(method)+" "+path] = op.OperationID
		}
	}
	served := map[string]string{}
	for _, r := range f.api.Routes() {
		served[r.Pattern] = r.Name
	}
	assert.Equal(t, served, documented, "the document's operations are the routes served")

	for _, d := range f.api.Docs() {
		method, path, _ := strings.Cut(d.Pattern, " ")
		op := doc.Paths[path][strings.ToLower(method)]
		assert.Equal(t, d.Access.String(), op.Access, d.Pattern)
		_, has401 := op.Responses["401"]
		_, has403 := op.Responses["403"]
		assert.Equal(t, d.Access != httpapi.Public, len(op.Security) == 1 && has401 && has403, "%s: bearer, 401 and 403 iff not public", d.Pattern)
		assert.Contains(t, op.Responses, strconv.Itoa(d.Status), d.Pattern)
		assert.Equal(t, d.Request != nil, op.RequestBody != nil, "%s: a request body iff it reads one", d.Pattern)
		for _, name := range []string{"id", "name", "channel"} {
			if strings.Contains(path, "{"+name+"}") {
				assert.Contains(t, op.Parameters, struct{ Name, In string }{name, "path"}, d.Pattern)
			}
		}
	}
	// The schema of a body is its Go type's JSON.
	var raw map[string]any
	f.must(t, "GET", "/openapi.json", "", "", &raw)
	post := raw["paths"].(map[string]any)["/threads/{id}/messages"].(map[string]any)["post"].(map[string]any)
	schema := post["requestBody"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["schema"]
	assert.Equal(t, map[string]any{"type": "object", "properties": map[string]any{"body": map[string]any{"type": "string"}},
		"required": []any{"body"}}, schema)
}
