package desk_test

import (
	"bytes"
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

	"github.com/fxbus/fxbus/app/desk"
	"github.com/fxbus/fxbus/app/desk/httpapi"
	"github.com/fxbus/fxbus/topics"
)

// newFuzzDesk is newDesk, fresh for each input of a fuzz target, so that
// an input's outcome depends on nothing else.
func newFuzzDesk(tb testing.TB, log io.Writer, withUser bool) *fixture {
	tb.Helper()
	return newDesk(tb, desk.Config{LogOutput: log}, withUser)
}

// fuzzRoute is an endpoint of the API whose request body FuzzAPI writes.
type fuzzRoute struct {
	access          httpapi.Access
	method, pattern string // {id} is the fuzzed path value, or the fixture's
	// created says what a 2xx answer must have added to the store's
	// counts, by status.
	created map[int]map[string]int
}

var fuzzRoutes = []fuzzRoute{
	{httpapi.Public, "POST", "/visitors", map[int]map[string]int{201: {"visitors": 1}, 200: {}}},
	{httpapi.VisitorOnly, "POST", "/threads", map[int]map[string]int{201: {"threads": 1, "messages": 1}}}, // and the greeting
	{httpapi.OwnerOrOperator, "POST", "/threads/{thread}/messages", map[int]map[string]int{201: {"messages": 1}}},
	{httpapi.OperatorOnly, "POST", "/tickets", map[int]map[string]int{201: {"tickets": 1}}},
	{httpapi.OperatorOnly, "PATCH", "/tickets/{ticket}", map[int]map[string]int{200: {}}},
	{httpapi.Public, "POST", "/users/register", map[int]map[string]int{201: {}}},
	{httpapi.Public, "POST", "/users/login", map[int]map[string]int{200: {}}},
	{httpapi.OperatorOnly, "POST", "/documents", map[int]map[string]int{201: {"documents": 1}}},
	{httpapi.OperatorOnly, "POST", "/bans", map[int]map[string]int{201: {"bans": 1}}},
	{httpapi.SignedIn, "POST", "/channels/{channel}/messages", map[int]map[string]int{201: {}}},
	{httpapi.OwnerOrOperator, "POST", "/threads/{thread}/functions/{function}", map[int]map[string]int{200: {}}},
	{httpapi.OwnerOrOperator, "POST", "/threads/{thread}/close", map[int]map[string]int{200: {}}},
	{httpapi.OperatorOnly, "POST", "/threads/{thread}/join", map[int]map[string]int{200: {"messages": 1}}},
	{httpapi.OperatorOnly, "POST", "/cron", map[int]map[string]int{200: {}}},
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
	const all = 1 << 20
	threads, _ := st.Threads(0, all)
	var msgs [][]topics.Message
	for _, th := range threads {
		ms, _ := st.Messages(th.ID, 0, all)
		msgs = append(msgs, ms)
	}
	visitors, _ := st.Visitors(0, all)
	tickets, _ := st.Tickets(0, all)
	_, _, _, hasAccount := st.Account(login)
	return snapshot{
		Counts:        st.Counts(),
		Visitors:      enc(visitors),
		Threads:       enc(threads),
		Tickets:       enc(tickets),
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
// messages, function calls, thread close and join, cron), anonymously, as
// the operator, as a user, as the visitor whose thread it is, as another
// visitor, or with a forged token, to a fresh desk, that the handler
// never panics and:
//
//   - never answers 5xx;
//   - answers 401 to an anonymous or forged caller on every route but the
//     public ones, and never 2xx to a role the route's Access refuses;
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
		{1, 4, "", `{"locale":"fr"}`},
		{1, 5, "", `{"user_id":"alice"}`},
		{2, 4, "", `{"body":"darn it"}`},
		{2, 5, "", `{"body":"hi"}`},
		{2, 4, "", "{\"body\":\"a\u202eb\"}"},
		{10, 4, "echo", `{"arguments":{"text":"hi"}}`},
		{10, 5, "echo", `{}`},
		{11, 4, "", ``},
		{11, 5, "", ``},
		{12, 1, "", ``},
		{13, 1, "", ``},
		{13, 4, "", ``},
		{0, 4, "", `{"user_id":"alice"}`},
		{0, 5, "", `{"user_id":"alice"}`},
	} {
		f.Add(s.route, s.auth, s.seg, s.body)
	}
	f.Fuzz(func(t *testing.T, route, auth uint8, seg, body string) {
		rt := fuzzRoutes[int(route)%len(fuzzRoutes)]
		var in struct{ Login string }
		_ = json.Unmarshal([]byte(body), &in)
		auth %= 6
		var log bytes.Buffer
		d := newFuzzDesk(t, &log, auth == 2 || strings.HasPrefix(rt.pattern, "/users/login"))
		token := map[uint8]string{1: d.opToken, 2: d.userToken, 3: "forged", 4: d.aliceToken, 5: d.bobToken}[auth]

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
		u, _ := url.Parse(target)
		clean := u != nil && isClean(u.Path)
		if (auth == 0 || auth == 3) && rt.access != httpapi.Public && clean {
			assert.Equal(t, http.StatusUnauthorized, w.Code, msg)
		}
		if w.Code < 300 {
			switch rt.access {
			case httpapi.OperatorOnly:
				assert.Equal(t, uint8(1), auth, "only an operator: %s", msg)
			case httpapi.VisitorOnly:
				assert.Contains(t, []uint8{4, 5}, auth, "only a visitor: %s", msg)
			case httpapi.OwnerOrOperator:
				assert.Contains(t, []uint8{1, 4}, auth, "only an operator or the thread's visitor: %s", msg)
			}
		}
		if u, err := url.Parse(target); err == nil && !isClean(u.Path) {
			assert.Equal(t, http.StatusBadRequest, w.Code, msg)
		}
		assert.Equal(t, "application/json", res.Header.Get("Content-Type"), msg)

		if w.Code >= 300 {
			dec := json.NewDecoder(w.Body)
			dec.DisallowUnknownFields()
			var e httpapi.ErrorJSON
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

		readsNoBody := strings.HasSuffix(rt.pattern, "/close") || strings.HasSuffix(rt.pattern, "/join") || rt.pattern == "/cron"
		assert.True(t, json.Valid([]byte(body)) || readsNoBody || (body == "" && strings.Contains(rt.pattern, "{function}")),
			"a success needs a JSON body: %s", msg)
		var out any
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &out), msg)
		added, ok := rt.created[w.Code]
		require.True(t, ok, "unexpected success status: %s", msg)
		for k, n := range before.Counts {
			if k != "bytes" {
				assert.Equal(t, n+added[k], after.Counts[k], "%s after a success: %s", k, msg)
			}
		}
		switch rt.pattern {
		case "/users/register":
			assert.False(t, before.AccountOfBody, msg)
			assert.True(t, after.AccountOfBody, msg)
		case "/users/login":
			var l httpapi.LoginJSON
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
