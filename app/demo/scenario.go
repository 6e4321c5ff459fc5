package demo

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fxbus/fxbus/app/desk"
	"github.com/fxbus/fxbus/app/desk/httpapi"
	"github.com/fxbus/fxbus/app/telemetry"
)

// The scenario's cast: two visitors, one of whom turns abusive; an
// operator who signs in through single sign-on; a registered user.
const (
	ScenarioVisitor  = "alice"
	ScenarioAbuser   = "bob"
	ScenarioOperator = "olivia"
	ScenarioUser     = "carol"
)

// The headers of the single sign-on the sso module reads: the operator's
// login, the time of signing in Unix seconds, and the signature, the
// lower-case hex HMAC-SHA256 of "<timestamp>.<login>" with the shared
// secret.
const (
	HeaderSSOLogin     = "X-SSO-Login"
	HeaderSSOTimestamp = "X-SSO-Timestamp"
	HeaderSSOSignature = "X-SSO-Signature"
)

// SignSSO returns the signature of login at time at for
// [HeaderSSOSignature].
func SignSSO(secret []byte, login string, at time.Time) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(at.Unix(), 10) + "." + login))
	return hex.EncodeToString(m.Sum(nil))
}

// SSOHeaders returns the three headers of a single sign-on of login, now.
func SSOHeaders(secret []byte, login string, now time.Time) http.Header {
	h := http.Header{}
	h.Set(HeaderSSOLogin, login)
	h.Set(HeaderSSOTimestamp, strconv.FormatInt(now.Unix(), 10))
	h.Set(HeaderSSOSignature, SignSSO(secret, login, now))
	return h
}

// NewSSOSecret returns a new random secret of 32 bytes, for a demo or a
// test: a real deployment shares one with its single sign-on front end.
func NewSSOSecret() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

// Step is one step of the scenario: a request and what came back. It is
// [telemetry.Step], which the summary of the traces links to the
// trace of each request.
type Step = telemetry.Step

// Report is what the scenario did and saw.
type Report struct {
	// Steps are the steps, in order.
	Steps []Step
	// Operator is the login of the operator signed in; "" when the single
	// sign-on was refused.
	Operator string
	// AbusiveBodies are the abusive visitor's two messages as the desk
	// stored them; "" for a message refused.
	AbusiveBodies []string
	// Banned is set when the abusive visitor is among the bans.
	Banned bool
	// Echo is the results of the call of the function echo; nil when it
	// failed.
	Echo map[string]any
	// Assets are the chat page's CSS then JavaScript assets.
	Assets []string
}

// Step returns the step named name.
func (r *Report) Step(name string) (Step, bool) {
	for _, s := range r.Steps {
		if s.Name == name {
			return s, true
		}
	}
	return Step{}, false
}

// RunScenario drives the desk's HTTP API at baseURL through the reference
// scenario, writing a line per step to out:
//
//   - the chat page's assets (assets, widget modules);
//   - two visitors arrive;
//   - an operator signs in through single sign-on, first with a forged
//     signature (refused), then signed with secret (sso module), then
//     the same signed headers are replayed (refused);
//   - both visitors start chats, each with its own token; the operator
//     joins the first; the second visitor cannot read the first's;
//   - messages are posted; the second visitor's abusive message is
//     rewritten, and at the second one they are banned (moderation
//     module): their next message and their new chat are refused; the bans
//     are listed;
//   - a user request and an incident are opened and updated (tickets
//     module); a document is stored and downloaded;
//   - the API functions echo and now are called, and one that does not
//     exist (functions module);
//   - a user registers and logs in, and publishes to a channel with the
//     token the login issued;
//   - cron runs (stats module); the first chat is closed.
//
// Every step goes through the real API with an [http.Client], with the
// bearer token of whoever acts, as real clients would: each visitor the
// one its arrival returned, the operator the one its sign-in returned.
// What the modules do, the report shows; without them the desk still
// answers, and RunScenario does not fail. It returns an error only when
// the desk cannot be reached, answers with a server error, or says
// something that is not JSON, or when ctx is done.
func RunScenario(ctx context.Context, baseURL string, ssoSecret []byte, out io.Writer) (*Report, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()
	s := &scenario{ctx: ctx, base: strings.TrimSuffix(baseURL, "/"), out: out, rep: &Report{}, secret: ssoSecret,
		tokens: map[string]string{}, hc: &http.Client{Transport: tr, Timeout: 10 * time.Second},
		from: map[string]*http.Client{}}
	// The abusive visitor connects from an address of its own, so that its
	// ban by address is its own: on loopback, from 127.0.0.2, where the
	// system has it (Linux does); else from the same address as the rest.
	btr := tr.Clone()
	defer btr.CloseIdleConnections()
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}
	btr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if c, err := (&net.Dialer{LocalAddr: local}).DialContext(ctx, network, addr); err == nil {
			return c, nil
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	s.from[ScenarioAbuser] = &http.Client{Transport: btr, Timeout: 10 * time.Second}
	s.play()
	return s.rep, s.err
}

type scenario struct {
	ctx    context.Context
	base   string
	secret []byte
	hc     *http.Client
	out    io.Writer
	rep    *Report
	err    error
	tokens map[string]string       // the visitors' tokens, by user id
	from   map[string]*http.Client // the clients of visitors who connect from elsewhere
}

// req is a request of the scenario.
type req struct {
	as           string // the visitor whose client sends it; "" for the default client
	method, path string
	token        string // bearer token, if any
	header       http.Header
	body         any // sent as JSON when not nil
}

// answer is the status of an answer and its error message, if it is one.
type answer struct {
	Status  int
	Err     string
	TraceID string
}

func (a answer) ok() bool { return a.Status >= 200 && a.Status < 300 }

// run sends r, decodes a successful JSON answer into into, and writes the
// step's line, with what result says of the answer. After a failure of
// the scenario itself, it does nothing.
func (s *scenario) run(name string, r req, into any, result func(answer) string) answer {
	if s.err != nil {
		return answer{}
	}
	a, err := s.send(r, into)
	if err != nil {
		s.err = fmt.Errorf("desk scenario: %s: %s %s: %w", name, r.method, r.path, err)
		return answer{}
	}
	var res string
	switch {
	case a.Status >= 500:
		res = a.Err
		s.err = fmt.Errorf("desk scenario: %s: %s %s: %d %s", name, r.method, r.path, a.Status, a.Err)
	case a.ok():
		res = result(a)
	default:
		res = a.Err
	}
	s.record(Step{Name: name, Request: r.method + " " + r.path, Status: a.Status, Result: res, TraceID: a.TraceID})
	return a
}

// skip records a step that cannot be taken, and why.
func (s *scenario) skip(name, why string) {
	if s.err == nil {
		s.record(Step{Name: name, Result: why, Skipped: true})
	}
}

func (s *scenario) record(st Step) {
	s.rep.Steps = append(s.rep.Steps, st)
	n := len(s.rep.Steps)
	if st.Skipped {
		fmt.Fprintf(s.out, "%2d %-30s skipped: %s\n", n, st.Name, st.Result)
		return
	}
	fmt.Fprintf(s.out, "%2d %-32s %-38s → %d %s\n", n, st.Name, st.Request, st.Status, st.Result)
}

// send makes the request and reads the answer.
func (s *scenario) send(r req, into any) (answer, error) {
	var body io.Reader
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return answer{}, err
		}
		body = bytes.NewReader(b)
	}
	hr, err := http.NewRequestWithContext(s.ctx, r.method, s.base+r.path, body)
	if err != nil {
		return answer{}, err
	}
	for k, vs := range r.header {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	if r.body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	hc := s.hc
	as := r.as
	for id, tok := range s.tokens { // a visitor's token, from its own client
		if tok != "" && tok == r.token {
			as = id
		}
	}
	if c, ok := s.from[strings.TrimRight(as, "0123456789")]; ok {
		hc = c
	}
	res, err := hc.Do(hr)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, desk.DefaultLimits.MaxBodyBytes))
	if err != nil {
		return answer{}, err
	}
	a := answer{Status: res.StatusCode, TraceID: telemetry.TraceIDOf(res.Header)}
	if !a.ok() {
		var e httpapi.ErrorJSON
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			return a, fmt.Errorf("%d with a body that is not a JSON error: %.80q", res.StatusCode, b)
		}
		a.Err = e.Error
		return a, nil
	}
	switch into := into.(type) {
	case nil:
	case *[]byte:
		*into = b
	default:
		if err := json.Unmarshal(b, into); err != nil {
			return a, fmt.Errorf("%d with a body that is not the JSON expected: %w", res.StatusCode, err)
		}
	}
	return a, nil
}

// play is the scenario.
func (s *scenario) play() {
	if err := s.ctx.Err(); err != nil {
		s.err = err
		return
	}
	s.page()
	alice, bob := s.visitors()
	opToken := s.operatorSignsIn()
	aliceThread, bobThread := s.chats(alice, bob)
	s.conversation(aliceThread, bobThread, opToken)
	if opToken == "" {
		for _, step := range []string{"user request opened", "incident opened", "document stored", "cron runs"} {
			s.skip(step, "no operator signed in")
		}
	} else {
		s.tickets(aliceThread, opToken)
		s.document(opToken)
	}
	s.functions(aliceThread)
	userToken := s.users()
	s.messaging(userToken, opToken)
	if opToken != "" {
		s.cron(opToken)
	}
	if aliceThread != 0 {
		s.run("chat closed", req{method: "POST", path: fmt.Sprintf("/threads/%d/close", aliceThread), token: s.tokens[alice]}, nil,
			func(answer) string { return "thread " + fmt.Sprint(aliceThread) + " closed" })
	}
	if s.err == nil {
		s.err = s.ctx.Err()
	}
}

func (s *scenario) page() {
	var assets httpapi.PageAssetsJSON
	s.run("chat page assets", req{method: "GET", path: "/page/assets"}, &assets, func(answer) string {
		for _, a := range slices.Concat(assets.CSS, assets.JS) {
			s.rep.Assets = append(s.rep.Assets, a.Content)
		}
		return fmt.Sprintf("css %s, js %s", listOf(assets.CSS), listOf(assets.JS))
	})
}

func listOf(as []httpapi.AssetJSON) string {
	if len(as) == 0 {
		return "[]"
	}
	names := make([]string, len(as))
	for i, a := range as {
		names[i] = a.Content
		if a.Kind == "inline" {
			names[i] = "(inline)"
		}
	}
	return "[" + strings.Join(names, " ") + "]"
}

func (s *scenario) visitors() (alice, bob string) {
	for _, v := range []struct{ id, name string }{
		{ScenarioVisitor, "Alice"},
		{ScenarioAbuser, "Bob"},
	} {
		var got httpapi.VisitorJSON
		s.run("visitor "+v.id+" arrives", req{as: v.id, method: "POST", path: "/visitors", body: map[string]string{
			"user_id": v.id, "name": v.name, "user_agent": "fxbus-scenario/1",
		}}, &got, func(answer) string {
			s.tokens[v.id] = got.Token
			return fmt.Sprintf("visitor %d from %s, new: %t, token issued", got.ID, got.IP, got.New)
		})
	}
	return ScenarioVisitor, ScenarioAbuser
}

func (s *scenario) operatorSignsIn() string {
	now := time.Now()
	forged := SSOHeaders(s.secret, ScenarioOperator, now)
	forged.Set(HeaderSSOSignature, strings.Repeat("0", 64))
	var forgedLogin httpapi.LoginJSON
	s.run("operator SSO, forged", req{method: "POST", path: "/operators/login", header: forged}, &forgedLogin,
		func(answer) string { return fmt.Sprintf("operator %q signed in", forgedLogin.Operator.Login) })

	signed := SSOHeaders(s.secret, ScenarioOperator, now)
	var login httpapi.LoginJSON
	a := s.run("operator signs in (SSO)", req{method: "POST", path: "/operators/login", header: signed}, &login,
		func(answer) string {
			return fmt.Sprintf("operator %d %q, token issued", login.Operator.ID, login.Operator.Login)
		})
	var replayed httpapi.LoginJSON
	s.run("operator SSO, replayed", req{method: "POST", path: "/operators/login", header: signed}, &replayed,
		func(answer) string { return fmt.Sprintf("operator %q signed in again", replayed.Operator.Login) })
	if !a.ok() || login.Operator == nil {
		return ""
	}
	s.rep.Operator = login.Operator.Login
	return login.Token
}

func (s *scenario) chats(alice, bob string) (aliceThread, bobThread int64) {
	for _, v := range []struct {
		user string
		id   *int64
	}{{alice, &aliceThread}, {bob, &bobThread}} {
		var t httpapi.ThreadJSON
		s.run("chat "+v.user+" starts", req{method: "POST", path: "/threads", token: s.tokens[v.user], body: map[string]any{
			"referer": "https://shop.example/orders",
		}}, &t, func(answer) string {
			*v.id = t.ID
			return fmt.Sprintf("thread %d, %s, user ready: %t", t.ID, t.State, t.UserReady != nil && *t.UserReady)
		})
	}
	return aliceThread, bobThread
}

func (s *scenario) conversation(aliceThread, bobThread int64, opToken string) {
	post := func(name string, thread int64, token, body string) (httpapi.MessageJSON, answer) {
		var m httpapi.MessageJSON
		a := s.run(name, req{method: "POST", path: fmt.Sprintf("/threads/%d/messages", thread), token: token,
			body: map[string]string{"body": body}}, &m, func(answer) string {
			return fmt.Sprintf("stored as %s: %q", m.Kind, m.Body)
		})
		return m, a
	}
	if aliceThread != 0 {
		if opToken == "" {
			s.skip("operator joins "+ScenarioVisitor, "no operator signed in")
		} else {
			var t httpapi.ThreadJSON
			s.run("operator joins "+ScenarioVisitor, req{method: "POST", path: fmt.Sprintf("/threads/%d/join", aliceThread), token: opToken},
				&t, func(answer) string { return fmt.Sprintf("thread %d %s with %s", t.ID, t.State, t.AgentName) })
		}
		post(ScenarioVisitor+" writes", aliceThread, s.tokens[ScenarioVisitor], "Hi! My order #1234 has not arrived.")
		s.run(ScenarioAbuser+" reads "+ScenarioVisitor+"'s chat", req{method: "GET", path: fmt.Sprintf("/threads/%d/messages", aliceThread),
			token: s.tokens[ScenarioAbuser]}, nil, func(answer) string { return "read" })
		if opToken == "" {
			s.skip("operator answers", "no operator signed in")
		} else {
			post("operator answers", aliceThread, opToken, "Sorry about that, I am on it.")
		}
	}
	if bobThread == 0 {
		return
	}
	for i, body := range []string{"This darn widget is useless.", "What the heck is going on?"} {
		m, a := post(fmt.Sprintf("%s abuses (%d)", ScenarioAbuser, i+1), bobThread, s.tokens[ScenarioAbuser], body)
		stored := ""
		if a.ok() {
			stored = m.Body
		}
		s.rep.AbusiveBodies = append(s.rep.AbusiveBodies, stored)
	}
	post(ScenarioAbuser+" writes again", bobThread, s.tokens[ScenarioAbuser], "Hello?")
	var again httpapi.ThreadJSON
	s.run(ScenarioAbuser+" starts another chat", req{method: "POST", path: "/threads", token: s.tokens[ScenarioAbuser], body: map[string]any{}}, &again,
		func(answer) string { return fmt.Sprintf("thread %d, %s", again.ID, again.State) })
	var fresh httpapi.VisitorJSON
	s.run(ScenarioAbuser+" comes back as bob2", req{as: ScenarioAbuser, method: "POST", path: "/visitors", body: map[string]any{"user_id": ScenarioAbuser + "2"}}, &fresh,
		func(answer) string {
			s.tokens[ScenarioAbuser+"2"] = fresh.Token
			return fmt.Sprintf("visitor %d, token issued", fresh.ID)
		})
	s.run("bob2 starts a chat", req{method: "POST", path: "/threads", token: s.tokens[ScenarioAbuser+"2"], body: map[string]any{}}, &again,
		func(answer) string { return fmt.Sprintf("thread %d, %s", again.ID, again.State) })

	if opToken == "" {
		s.skip("bans listed", "no operator signed in")
		return
	}
	var bans httpapi.ListJSON[httpapi.BanJSON]
	s.run("bans listed", req{method: "GET", path: "/bans", token: opToken}, &bans, func(answer) string {
		var who []string
		for _, b := range bans.Items {
			who = append(who, fmt.Sprintf("%s (%s) %q", b.UserID, b.Address, b.Comment))
			if b.UserID == ScenarioAbuser {
				s.rep.Banned = true
			}
		}
		return strings.TrimSpace(fmt.Sprintf("%d ban(s) %s", len(bans.Items), strings.Join(who, ", ")))
	})
}

func (s *scenario) tickets(thread int64, opToken string) {
	type ticket = map[string]any
	open := func(name string, rec ticket) int64 {
		var t ticket
		s.run(name, req{method: "POST", path: "/tickets", token: opToken, body: rec}, &t, func(answer) string {
			return fmt.Sprintf("%v %s %q, %v", t["class"], t["ref"], t["title"], t["status"])
		})
		id, _ := t["id"].(float64)
		return int64(id)
	}
	update := func(name string, id int64, changes ticket) {
		if id == 0 {
			s.skip(name, "no ticket")
			return
		}
		var t ticket
		s.run(name, req{method: "PATCH", path: fmt.Sprintf("/tickets/%d", id), token: opToken, body: changes}, &t,
			func(answer) string { return fmt.Sprintf("%s %v", t["ref"], t["status"]) })
	}
	request := open("user request opened", ticket{
		"class": desk.ClassUserRequest, "title": "Order #1234 not delivered", "service": "delivery",
		"caller": ScenarioVisitor, "thread_id": thread,
	})
	incident := open("incident opened", ticket{
		"class": desk.ClassIncident, "title": "Chat widget fails to load", "impact": 2, "urgency": 1,
	})
	update("user request assigned", request, ticket{"status": "assigned", "description": "Carrier contacted."})
	update("incident resolved", incident, ticket{"status": "resolved"})
}

func (s *scenario) document(opToken string) {
	const transcript = "alice: Hi! My order #1234 has not arrived.\nolivia: Sorry about that, I am on it.\n"
	var doc map[string]any
	s.run("document stored", req{method: "POST", path: "/documents", token: opToken, body: map[string]any{
		"name": "Chat transcript", "file_name": "transcript.txt", "mime_type": "text/plain",
		"data": base64.StdEncoding.EncodeToString([]byte(transcript)),
	}}, &doc, func(answer) string { return fmt.Sprintf("document %v, %v bytes", doc["id"], doc["size"]) })
	id, _ := doc["id"].(float64)
	if id == 0 {
		s.skip("document downloaded", "no document")
		return
	}
	var data []byte
	s.run("document downloaded", req{method: "GET", path: fmt.Sprintf("/documents/%d/download", int64(id)), token: opToken}, &data,
		func(answer) string {
			return fmt.Sprintf("%d bytes, same as stored: %t", len(data), string(data) == transcript)
		})
}

func (s *scenario) functions(thread int64) {
	if thread == 0 {
		s.skip("function echo", "no thread")
		return
	}
	call := func(name, fn string, args map[string]any) map[string]any {
		var res map[string]any
		s.run(name, req{method: "POST", path: fmt.Sprintf("/threads/%d/functions/%s", thread, fn), token: s.tokens[ScenarioVisitor],
			body: map[string]any{"arguments": args}}, &res, func(answer) string {
			b, _ := json.Marshal(res)
			return string(b)
		})
		return res
	}
	s.rep.Echo = call("function echo", "echo", map[string]any{"text": "ping"})
	call("function now", "now", nil)
	call("function unknown", "teleport", nil)
}

func (s *scenario) users() string {
	s.run(ScenarioUser+" registers", req{method: "POST", path: "/users/register", body: map[string]string{
		"login": ScenarioUser, "email": "carol@example.com", "password": "correct horse battery staple",
	}}, nil, func(answer) string { return "account created" })
	s.run(ScenarioUser+" logs in, wrong password", req{method: "POST", path: "/users/login", body: map[string]string{
		"login": ScenarioUser, "password": "hunter2",
	}}, nil, func(answer) string { return "token issued" })
	var login httpapi.LoginJSON
	a := s.run(ScenarioUser+" logs in", req{method: "POST", path: "/users/login", body: map[string]string{
		"login": ScenarioUser, "password": "correct horse battery staple",
	}}, &login, func(answer) string { return fmt.Sprintf("user %s, roles %v, token issued", login.UserID, login.Roles) })
	if !a.ok() {
		return ""
	}
	return login.Token
}

func (s *scenario) messaging(userToken, opToken string) {
	var st httpapi.PublishedJSON
	published := func(answer) string { return fmt.Sprintf("message %s, delivered to %d", st.MessageID, st.Delivered) }
	if userToken == "" {
		s.skip(ScenarioUser+" writes to the operators", "no user logged in")
	} else {
		s.run(ScenarioUser+" writes to the operators", req{method: "POST", path: "/channels/operators/messages", token: userToken,
			body: map[string]any{"message": "Is the desk open on Sunday?"}}, &st, published)
		s.run(ScenarioUser+" announces", req{method: "POST", path: "/channels/announcements/messages", token: userToken,
			body: map[string]any{"message": "Free shipping!"}}, &st, published)
	}
	if opToken == "" {
		s.skip("announcement published", "no operator signed in")
		return
	}
	s.run("announcement published", req{method: "POST", path: "/channels/announcements/messages", token: opToken,
		body: map[string]any{"message": "The desk closes at 18:00 today."}}, &st, published)
}

func (s *scenario) cron(opToken string) {
	var res httpapi.CronJSON
	s.run("cron runs", req{method: "POST", path: "/cron", token: opToken}, &res, func(answer) string {
		keys := slices.Sorted(maps.Keys(res.Counts))
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s=%d", k, res.Counts[k])
		}
		if len(res.Errors) > 0 {
			return strings.Join(parts, " ") + ", errors: " + strings.Join(res.Errors, "; ")
		}
		return strings.Join(parts, " ")
	})
}
