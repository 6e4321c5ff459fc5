package desk_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/fxbus/fxbus/app/desk"
	"github.com/fxbus/fxbus/topics"
)

// newFuzzDesk is newFixture for any testing.TB, and fresh for each input
// of a fuzz target, so that an input's outcome depends on nothing else: a
// desk with the fake modules, logging to log; visitors alice and bob, a
// thread of alice's, an operator signed in, a ticket and a document; and,
// withUser, a user carol (password "pw") logged in, which costs two
// password hashes.
func newFuzzDesk(tb testing.TB, log io.Writer, withUser bool) *fixture {
	tb.Helper()
	var (
		api *desk.API
		svc *desk.Service
	)
	fxtest.New(tb, desk.Module, desk.WithConfig(desk.Config{LogOutput: log}), fakeModules(),
		fx.Populate(&api, &svc), fx.NopLogger)
	h, err := api.Handler(context.Background())
	require.NoError(tb, err)
	f := &fixture{h: h, svc: svc}
	must := func(method, path, token, body string, into any, hdr ...http.Header) {
		tb.Helper()
		w := f.do(method, path, token, body, hdr...)
		require.Less(tb, w.Code, 300, "%s %s: %s", method, path, w.Body)
		if into != nil {
			require.NoError(tb, json.Unmarshal(w.Body.Bytes(), into))
		}
	}
	var v desk.VisitorJSON
	must("POST", "/visitors", "", `{"user_id":"alice","name":"Alice","ip":"203.0.113.10"}`, &v)
	must("POST", "/visitors", "", `{"user_id":"bob","name":"Bob","ip":"203.0.113.20"}`, &v)
	var login desk.LoginJSON
	must("POST", "/operators/login", "", "", &login, ssoHeaders("olivia", desk.DemoSSOSecret))
	f.opToken = login.Token
	var th desk.ThreadJSON
	must("POST", "/threads", "", `{"user_id":"alice"}`, &th)
	f.thread = th.ID
	var rec map[string]any
	must("POST", "/tickets", "", `{"class":"UserRequest","title":"Late order","caller":"alice"}`, &rec)
	f.ticket = int64(rec["id"].(float64))
	data := base64.StdEncoding.EncodeToString([]byte("hello"))
	must("POST", "/documents", "", `{"name":"Greeting","file_name":"hello.txt","mime_type":"text/plain","data":"`+data+`"}`, &rec)
	f.document = int64(rec["id"].(float64))
	if withUser {
		must("POST", "/users/register", "", `{"login":"carol","password":"pw"}`, nil)
		must("POST", "/users/login", "", `{"login":"carol","password":"pw"}`, &login)
		f.userToken = login.Token
	}
	return f
}

// fuzzRoute is an endpoint of the API whose request body FuzzAPI writes.
type fuzzRoute struct {
	method, pattern string // {id} is the fuzzed path value, or the fixture's
	// created says what a 2xx answer must have added to the store's
	// counts, by status.
	created map[int]map[string]int
}

var fuzzRoutes = []fuzzRoute{
	{"POST", "/visitors", map[int]map[string]int{201: {"visitors": 1}, 200: {}}},
	{"POST", "/threads", map[int]map[string]int{201: {"threads": 1, "messages": 1}}}, // and the greeting
	{"POST", "/threads/{thread}/messages", map[int]map[string]int{201: {"messages": 1}}},
	{"POST", "/tickets", map[int]map[string]int{201: {"tickets": 1}}},
	{"PATCH", "/tickets/{ticket}", map[int]map[string]int{200: {}}},
	{"POST", "/users/register", map[int]map[string]int{201: {}}},
	{"POST", "/users/login", map[int]map[string]int{200: {}}},
	{"POST", "/documents", map[int]map[string]int{201: {"documents": 1}}},
	{"POST", "/bans", map[int]map[string]int{201: {"bans": 1}}},
	{"POST", "/channels/{channel}/messages", map[int]map[string]int{201: {}}},
	{"POST", "/threads/{thread}/functions/{function}", map[int]map[string]int{200: {}}},
}

// snapshot is what the store holds, as the API shows it.
type snapshot struct {
	Counts                     map[string]int
	Visitors, Threads, Tickets []byte
	Messages                   []byte // of every thread
	Operators, Announcements   []string
	AccountOfBody              bool // whether the login in the body has an account
}

func takeSnapshot(t *testing.T, svc *desk.Service, login string) snapshot {
	t.Helper()
	st := svc.Store()
	enc := func(v any) []byte {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return b
	}
	var msgs [][]topics.Message
	for _, th := range st.Threads() {
		msgs = append(msgs, st.Messages(th.ID))
	}
	_, _, _, hasAccount := st.Account(login)
	return snapshot{
		Counts:        st.Counts(),
		Visitors:      enc(st.Visitors()),
		Threads:       enc(st.Threads()),
		Tickets:       enc(svc.Tickets()),
		Messages:      enc(msgs),
		Operators:     st.ChannelMessages(topics.ChannelOperators),
		Announcements: st.ChannelMessages(topics.ChannelAnnouncements),
		AccountOfBody: hasAccount,
	}
}

// FuzzAPI proves, for any request body (and any path value: a thread's or
// a ticket's id, a channel, a function's name) sent to the API's POST and
// PATCH endpoints that decode JSON (visitors, threads, messages, tickets,
// ticket updates, user registration and login, documents, bans, channel
// messages, function calls), anonymously, as the operator, as a user or
// with a forged token, to a fresh desk, that the handler never panics and:
//
//   - never answers 5xx;
//   - answers every error (3xx included; an unclean path such as one with
//     a "." or "./" path value is a 400, not ServeMux's redirect) with
//     Content-Type application/json and exactly {"error": "<message>"},
//     and a 401 with WWW-Authenticate: Bearer;
//   - answers 2xx only to a body that is valid JSON, with JSON;
//   - leaves the store exactly as it was after an error (no visitor,
//     thread, message, ticket, document, ban, account or channel message
//     created, none changed), and after a success has added exactly what
//     the endpoint creates, with a usable token after a login.
func FuzzAPI(f *testing.F) {
	for _, s := range []struct {
		route, auth uint8
		seg, body   string
	}{
		{0, 0, "", `{"user_id":"dave","name":"Dave","user_agent":"curl","ip":"2001:db8::1"}`},
		{0, 0, "", `{"user_id":"alice"}`},
		{0, 0, "", `{"user_id":"x","ip":"nope"}`},
		{0, 0, "", `{"user_id":"x","shoe":9}`},
		{0, 0, "", `{"user_id":`},
		{0, 0, "", `null`},
		{0, 0, "", ``},
		{1, 0, "", `{"user_id":"bob","locale":"fr","group_id":3,"referer":"https://example.com/"}`},
		{1, 0, "", `{"user_id":"zed"}`},
		{1, 0, "", `{"user_id":"bob","group_id":1e99}`},
		{2, 0, "", `{"body":"darn it"}`},
		{2, 1, "", `{"body":"Hello"}`},
		{2, 0, "", `{"body":""}`},
		{2, 0, "999", `{"body":"x"}`},
		{2, 0, "abc", `{"body":"x"}`},
		{2, 0, "..", `{"body":"x"}`},
		{2, 3, "", `{"body":"x"}`},
		{3, 0, "", `{"class":"Incident","title":"Down","impact":1,"urgency":2,"thread_id":1}`},
		{3, 0, "", `{"class":"UserRequest","title":"x","service":"delivery","agent_id":1.0}`},
		{3, 0, "", `{"class":"Incident","title":"x","impact":9}`},
		{3, 0, "", `{"class":"Problem","title":"x"}`},
		{3, 0, "", `[1]`},
		{4, 0, "", `{"status":"assigned","service":"delivery","description":"d"}`},
		{4, 0, "", `{"status":"lost"}`},
		{4, 0, "", `{"impact":1}`},
		{4, 0, "", `{"title":"x","status":3}`},
		{4, 0, "999", `{"status":"closed"}`},
		{4, 0, "-1", `{}`},
		{5, 0, "", `{"login":"erin","email":"erin@example.com","password":"secret"}`},
		{5, 0, "", `{"login":"erin"}`},
		{5, 0, "", `{"login":"carol","password":"x"}`},
		{6, 0, "", `{"login":"carol","password":"pw"}`},
		{6, 0, "", `{"login":"carol","password":"x"}`},
		{6, 2, "", `{"login":"nobody","password":""}`},
		{7, 0, "", `{"name":"x","file_name":"x.txt","data":"aGk="}`},
		{7, 0, "", `{"name":"x","file_name":"x","data":"%%"}`},
		{8, 1, "", `{"user_id":"bob","reason":"spam"}`},
		{8, 1, "", `{"address":"203.0.113.99"}`},
		{8, 1, "", `{"address":"x"}`},
		{8, 2, "", `{"user_id":"bob"}`},
		{9, 2, "", `{"message":"hi","headers":{"k":"v"}}`},
		{9, 0, "announcements", `{"message":"hi"}`},
		{9, 0, "nowhere", `{"message":"x"}`},
		{10, 0, "echo", `{"arguments":{"text":"hi","n":[1,{"a":null}]}}`},
		{10, 0, "now", ``},
		{10, 0, "teleport", `{}`},
	} {
		f.Add(s.route, s.auth, s.seg, s.body)
	}
	f.Fuzz(func(t *testing.T, route, auth uint8, seg, body string) {
		rt := fuzzRoutes[int(route)%len(fuzzRoutes)]
		var in struct{ Login string }
		_ = json.Unmarshal([]byte(body), &in)
		auth %= 4
		var log bytes.Buffer
		d := newFuzzDesk(t, &log, auth == 2 || strings.HasPrefix(rt.pattern, "/users/login"))
		token := map[uint8]string{1: d.opToken, 2: d.userToken, 3: "forged"}[auth]

		target := rt.pattern
		for name, def := range map[string]string{
			"{thread}": itoa(d.thread), "{ticket}": itoa(d.ticket), "{channel}": string(topics.ChannelOperators), "{function}": "echo",
		} {
			if seg != "" {
				def = url.PathEscape(seg)
			}
			target = strings.Replace(target, name, def, 1)
		}

		before := takeSnapshot(t, d.svc, in.Login)
		w := d.do(rt.method, target, token, body)
		after := takeSnapshot(t, d.svc, in.Login)
		res := w.Result()
		msg := fmt.Sprintf("%s %s with %q as %d: %d %s\nlog:\n%s", rt.method, target, body, auth, w.Code, w.Body, &log)

		require.Less(t, w.Code, 500, msg)
		if u, err := url.Parse(target); err == nil && !isClean(u.Path) {
			assert.Equal(t, http.StatusBadRequest, w.Code, msg)
		}
		assert.Equal(t, "application/json", res.Header.Get("Content-Type"), msg)

		if w.Code >= 300 {
			dec := json.NewDecoder(w.Body)
			dec.DisallowUnknownFields()
			var e desk.ErrorJSON
			require.NoError(t, dec.Decode(&e), msg)
			assert.NotEmpty(t, e.Error, msg)
			_, err := dec.Token()
			assert.ErrorIs(t, err, io.EOF, "one JSON value: %s", msg)
			if w.Code == http.StatusUnauthorized {
				assert.Equal(t, "Bearer", res.Header.Get("WWW-Authenticate"), msg)
			}
			assert.Equal(t, before, after, "an error changes nothing: %s", msg)
			return
		}

		assert.True(t, json.Valid([]byte(body)) || (body == "" && strings.Contains(rt.pattern, "{function}")),
			"a success needs a JSON body: %s", msg)
		var out any
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &out), msg)
		added, ok := rt.created[w.Code]
		require.True(t, ok, "unexpected success status: %s", msg)
		for k, n := range before.Counts {
			assert.Equal(t, n+added[k], after.Counts[k], "%s after a success: %s", k, msg)
		}
		switch rt.pattern {
		case "/users/register":
			assert.False(t, before.AccountOfBody, msg)
			assert.True(t, after.AccountOfBody, msg)
		case "/users/login":
			var l desk.LoginJSON
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &l), msg)
			_, known := d.svc.Caller(l.Token)
			assert.True(t, known, "the token of a login works: %s", msg)
		case "/channels/{channel}/messages":
			assert.Equal(t, len(before.Operators)+len(before.Announcements)+1, len(after.Operators)+len(after.Announcements), msg)
		}
	})
}

// isClean reports whether ServeMux serves p as it is, without redirecting
// to its clean form: no "." or ".." segment, no empty one.
func isClean(p string) bool {
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c == p
}
