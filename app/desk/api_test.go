package desk_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/fxbus/fxbus/app/desk"
)

// fixture is a desk whose API is served by an httptest recorder, not a
// server, with the fake modules and some state: visitors alice and bob,
// a thread of alice's, an operator and a user logged in, a ticket and a
// document.
type fixture struct {
	h   http.Handler
	svc *desk.Service

	thread, ticket, document int64
	opToken, userToken       string
}

func newFixture(t *testing.T, opts ...fx.Option) *fixture {
	t.Helper()
	var (
		api *desk.API
		svc *desk.Service
	)
	fxtest.New(t, desk.Module, logTo(t), fakeModules(), fx.Options(opts...), fx.Populate(&api, &svc), fx.NopLogger)
	h, err := api.Handler(context.Background())
	require.NoError(t, err)
	f := &fixture{h: h, svc: svc}

	var v desk.VisitorJSON
	f.must(t, "POST", "/visitors", "", `{"user_id":"alice","name":"Alice","ip":"203.0.113.10"}`, &v)
	f.must(t, "POST", "/visitors", "", `{"user_id":"bob","name":"Bob","ip":"203.0.113.20"}`, &v)
	var login desk.LoginJSON
	f.must(t, "POST", "/operators/login", "", "", &login, ssoHeaders("olivia", desk.DemoSSOSecret))
	f.opToken = login.Token
	var th desk.ThreadJSON
	f.must(t, "POST", "/threads", "", `{"user_id":"alice"}`, &th)
	f.thread = th.ID
	f.must(t, "POST", "/users/register", "", `{"login":"carol","password":"pw"}`, nil)
	f.must(t, "POST", "/users/login", "", `{"login":"carol","password":"pw"}`, &login)
	f.userToken = login.Token
	var rec map[string]any
	f.must(t, "POST", "/tickets", "", `{"class":"UserRequest","title":"Late order","caller":"alice"}`, &rec)
	f.ticket = int64(rec["id"].(float64))
	data := base64.StdEncoding.EncodeToString([]byte("hello"))
	f.must(t, "POST", "/documents", "", `{"name":"Greeting","file_name":"hello.txt","mime_type":"text/plain","data":"`+data+`"}`, &rec)
	f.document = int64(rec["id"].(float64))
	return f
}

func ssoHeaders(login string, secret []byte) http.Header {
	return http.Header{desk.HeaderSSOLogin: {login}, desk.HeaderSSOSignature: {desk.SignSSO(secret, login)}}
}

// do serves a request; body is JSON text, "" for none.
func (f *fixture) do(method, path, token, body string, hdr ...http.Header) *httptest.ResponseRecorder {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	req.RemoteAddr = "192.0.2.1:1234"
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
		{name: "visitor without user_id", method: "POST", path: "/visitors", body: `{"name":"x"}`, status: 400, contains: []string{"user_id is required"}},
		{name: "visitor, bad ip", method: "POST", path: "/visitors", body: `{"user_id":"x","ip":"nope"}`, status: 400, contains: []string{"ip:"}},
		{name: "new visitor, address of the client", method: "POST", path: "/visitors", body: `{"user_id":"dave"}`, status: 201, contains: []string{`"new":true`, `"ip":"192.0.2.1"`}},
		{name: "known visitor", method: "POST", path: "/visitors", body: `{"user_id":"alice"}`, status: 200, contains: []string{`"user_id":"alice"`, `"chats":1`}},
		{name: "visitors", method: "GET", path: "/visitors", status: 200, contains: []string{`"user_id":"alice"`, `"user_id":"bob"`}},

		{name: "chat of an unknown visitor", method: "POST", path: "/threads", body: `{"user_id":"zed"}`, status: 404, contains: []string{`visitor \"zed\": not found`}},
		{name: "chat", method: "POST", path: "/threads", body: `{"user_id":"bob","locale":"fr"}`, status: 201, contains: []string{`"state":"queue"`, `"locale":"fr"`, `"user_ready":true`}},
		{name: "thread, bad id", method: "GET", path: "/threads/abc", status: 400, contains: []string{`id \"abc\" is not an id`}},
		{name: "thread, no such", method: "GET", path: "/threads/999", status: 404, contains: []string{"thread 999: not found"}},
		{name: "thread", method: "GET", path: th("/threads/{thread}"), status: 200, contains: []string{`"user_id":"alice"`}},
		{name: "threads", method: "GET", path: "/threads", status: 200, contains: []string{`"user_id":"alice"`}},

		{name: "join, anonymous", method: "POST", path: th("/threads/{thread}/join"), status: 401, contains: []string{"operators only: sign in first"}},
		{name: "join, as a user", method: "POST", path: th("/threads/{thread}/join"), token: f.user, status: 403, contains: []string{"forbidden: operators only"}},
		{name: "join, unknown token", method: "POST", path: th("/threads/{thread}/join"), token: func() string { return "forged" }, status: 401, contains: []string{"unknown bearer token"}},
		{name: "join", method: "POST", path: th("/threads/{thread}/join"), token: f.op, status: 200, contains: []string{`"state":"chatting"`, `"agent_name":"Olivia"`}},
		{name: "join, no such thread", method: "POST", path: "/threads/999/join", token: f.op, status: 404},

		{name: "message without body", method: "POST", path: th("/threads/{thread}/messages"), body: `{"body":""}`, status: 400, contains: []string{"body is required"}},
		{name: "message, rewritten", method: "POST", path: th("/threads/{thread}/messages"), body: `{"body":"darn it"}`, status: 201, contains: []string{`"body":"**** it"`, `"kind":"user"`, `"from":"Alice"`}},
		{name: "message of the operator", method: "POST", path: th("/threads/{thread}/messages"), token: f.op, body: `{"body":"Hello"}`, status: 201, contains: []string{`"kind":"agent"`, `"from":"Olivia"`}},
		{name: "messages", method: "GET", path: th("/threads/{thread}/messages"), status: 200, contains: []string{`"kind":"info"`, desk.Greeting}},

		{name: "function echo", method: "POST", path: th("/threads/{thread}/functions/echo"), body: `{"arguments":{"text":"hi"}}`, status: 200, contains: []string{`{"text":"hi"}`}},
		{name: "function without arguments", method: "POST", path: th("/threads/{thread}/functions/now"), status: 200, contains: []string{`"time":`}},
		{name: "function unknown", method: "POST", path: th("/threads/{thread}/functions/teleport"), body: `{}`, status: 404, contains: []string{`function \"teleport\": not found`}},
		{name: "function, no such thread", method: "POST", path: "/threads/999/functions/echo", status: 404},

		{name: "operator login without SSO", method: "POST", path: "/operators/login", status: 401, contains: []string{"no listener of operator.authenticate recognised the operator"}},
		{name: "operator login, forged", method: "POST", path: "/operators/login", header: ssoHeaders("olivia", []byte("guess")), status: 401, contains: []string{"forged signature"}},
		{name: "operators", method: "GET", path: "/operators", status: 200, contains: []string{`"login":"olivia"`, `"online":true`}},

		{name: "bans", method: "GET", path: "/bans", status: 200, contains: []string{`[]`}},
		{name: "ban, as a user", method: "POST", path: "/bans", token: f.user, body: `{"user_id":"bob"}`, status: 403},
		{name: "ban, nobody", method: "POST", path: "/bans", token: f.op, body: `{"reason":"x"}`, status: 400, contains: []string{"user_id or address is required"}},
		{name: "ban, bad address", method: "POST", path: "/bans", token: f.op, body: `{"address":"x"}`, status: 422},

		{name: "ticket, bad class", method: "POST", path: "/tickets", body: `{"class":"Problem","title":"x"}`, status: 400, contains: []string{`not \"Problem\"`}},
		{name: "ticket without title", method: "POST", path: "/tickets", body: `{"class":"Incident"}`, status: 400, contains: []string{"title is required"}},
		{name: "ticket, not an object", method: "POST", path: "/tickets", body: `[1]`, status: 400},
		{name: "incident", method: "POST", path: "/tickets", body: `{"class":"Incident","title":"Down","impact":1,"urgency":2}`, status: 201, contains: []string{`"ref":"I-000002"`, `"impact":1`, `"status":"new"`}},
		{name: "incident, bad impact", method: "POST", path: "/tickets", body: `{"class":"Incident","title":"x","impact":9}`, status: 400, contains: []string{"impact must be from 1 to 5"}},
		{name: "ticket", method: "GET", path: "/tickets/" + itoa(f.ticket), status: 200, contains: []string{`"class":"UserRequest"`, `"ref":"R-000001"`}},
		{name: "tickets", method: "GET", path: "/tickets", status: 200, contains: []string{`"ref":"R-000001"`}},
		{name: "ticket, no such", method: "GET", path: "/tickets/999", status: 404},
		{name: "ticket update", method: "PATCH", path: "/tickets/" + itoa(f.ticket), body: `{"status":"assigned","service":"delivery"}`, status: 200, contains: []string{`"status":"assigned"`, `"service":"delivery"`}},
		{name: "ticket update, bad status", method: "PATCH", path: "/tickets/" + itoa(f.ticket), body: `{"status":"lost"}`, status: 400},
		{name: "ticket update, unknown field", method: "PATCH", path: "/tickets/" + itoa(f.ticket), body: `{"impact":1}`, status: 400, contains: []string{`a UserRequest has no field \"impact\"`}},
		{name: "ticket update, no such", method: "PATCH", path: "/tickets/999", body: `{"status":"closed"}`, status: 404},

		{name: "document", method: "GET", path: "/documents/" + itoa(f.document), status: 200, contains: []string{`"file_name":"hello.txt"`, `"size":5`}},
		{name: "document, bad data", method: "POST", path: "/documents", body: `{"name":"x","file_name":"x","data":"%%"}`, status: 400, contains: []string{"base64"}},
		{name: "download", method: "GET", path: "/documents/" + itoa(f.document) + "/download", status: 200, contains: []string{"hello"}},
		{name: "download, bad disposition", method: "GET", path: "/documents/" + itoa(f.document) + "/download?disposition=x", status: 400},
		{name: "download, no such", method: "GET", path: "/documents/999/download", status: 404},

		{name: "page assets", method: "GET", path: "/page/assets", status: 200, contains: []string{
			`"css":[{"kind":"relative_url","content":"/static/desk.css","weight":0},{"kind":"relative_url","content":"/static/widget-theme.css","weight":0}]`,
			`"js":[{"kind":"relative_url","content":"/static/desk.js","weight":0}]`}},
		{name: "chat page", method: "GET", path: "/chat", status: 200, contains: []string{`<link rel="stylesheet" href="/static/desk.css">`, `<script src="/static/desk.js"></script>`}},
		{name: "cron", method: "POST", path: "/cron", status: 200, contains: []string{`"visitors":`, `"operators_online":1`}},

		{name: "register, login taken", method: "POST", path: "/users/register", body: `{"login":"carol","password":"x"}`, status: 409, contains: []string{`login \"carol\" is taken`}},
		{name: "register without password", method: "POST", path: "/users/register", body: `{"login":"erin"}`, status: 400},
		{name: "login, wrong password", method: "POST", path: "/users/login", body: `{"login":"carol","password":"x"}`, status: 401, contains: []string{"wrong login or password"}},
		{name: "login, no such user", method: "POST", path: "/users/login", body: `{"login":"nobody","password":"x"}`, status: 401},

		{name: "publish, unknown channel", method: "POST", path: "/channels/nowhere/messages", body: `{"message":"x"}`, status: 404, contains: []string{`channel \"nowhere\": not found`}},
		{name: "publish, empty", method: "POST", path: "/channels/operators/messages", body: `{"message":""}`, status: 400},
		{name: "publish", method: "POST", path: "/channels/operators/messages", token: f.user, body: `{"message":"hi"}`, status: 201, contains: []string{`"message_id":"operators-1"`, `"delivered":1`}},
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
			if w.Code >= 400 {
				assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
				var e desk.ErrorJSON
				require.NoError(t, json.Unmarshal(w.Body.Bytes(), &e), "an error is JSON")
				assert.NotEmpty(t, e.Error)
			}
			if w.Code == http.StatusUnauthorized {
				assert.Equal(t, "Bearer", w.Header().Get("WWW-Authenticate"))
			}
			for _, s := range tt.contains {
				assert.Contains(t, w.Body.String(), s)
			}
		})
	}
}

func (f *fixture) op() string   { return f.opToken }
func (f *fixture) user() string { return f.userToken }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestAPIDownloadHeaders(t *testing.T) {
	f := newFixture(t)
	w := f.do("GET", "/documents/"+itoa(f.document)+"/download?disposition=inline", "", "")
	require.Equal(t, 200, w.Code)
	assert.Equal(t, "hello", w.Body.String())
	assert.Equal(t, "text/plain", w.Header().Get("Content-Type"))
	assert.Equal(t, `inline; filename=hello.txt`, w.Header().Get("Content-Disposition"))
	assert.Equal(t, "5", w.Header().Get("Content-Length"))
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
		assert.Equal(t, tt.status, desk.StatusOf(tt.err), "%v", tt.err)
		assert.Equal(t, tt.status, desk.StatusOf(fmt.Errorf("context: %w", tt.err)), "wrapped %v", tt.err)
	}
}
