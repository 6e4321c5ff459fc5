package desk_test

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/app/desk"
	"github.com/fxbus/fxbus/app/desk/httpapi"
)

// logWatch is a desk's log that fails the test on a line holding the
// secret it is told, and counts the lines holding want.
type logWatch struct {
	t      *testing.T
	secret atomic.Pointer[string]
	want   string
	seen   atomic.Int32
}

func (l *logWatch) Write(p []byte) (int, error) {
	if s := l.secret.Load(); s != nil && bytes.Contains(p, []byte(*s)) {
		l.t.Errorf("the log holds a secret: %s", p)
	}
	if bytes.Contains(p, []byte(l.want)) {
		l.seen.Add(1)
	}
	return len(p), nil
}

// browserHeaders are what a browser sends with a navigation, or with a
// form from the desk's own page (httptest's requests are for example.com).
func browserHeaders(cookie string) http.Header {
	h := http.Header{"Accept": {"text/html,application/xhtml+xml,*/*;q=0.8"}}
	if cookie != "" {
		h.Set("Cookie", cookie)
	}
	return h
}

func formHeaders(origin, cookie string) http.Header {
	h := browserHeaders(cookie)
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		h.Set("Origin", origin)
	}
	return h
}

const origin = "http://example.com"

func loginForm(token, next string) string {
	return url.Values{"token": {token}, "next": {next}}.Encode()
}

// sessionCookie returns the debug page's cookie that w sets.
func sessionCookie(t *testing.T, w *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	for _, c := range w.Result().Cookies() {
		if c.Name == "fxbus_debug" {
			return c
		}
	}
	t.Fatalf("no session cookie in %v", w.Header()["Set-Cookie"])
	return nil
}

// An operator opens the debug page in a browser: anonymous, the login
// form; the form exchanges the operator's token for a session cookie
// (HttpOnly, SameSite=Strict, the page's path only, bounded), with which
// the pages are served; logout ends it. Nothing of the token reaches the
// browser or the log.
func TestDebugLoginInABrowser(t *testing.T) {
	log := &logWatch{t: t, want: "debug page session started"}
	f := newDesk(t, desk.Config{LogOutput: log}, true)
	op := f.op()
	log.secret.Store(&op)

	// Anonymous, a browser gets the login form, which comes back to the
	// page it asked for; a client that is no browser gets the JSON 401.
	w := f.do("GET", httpapi.DebugPath+"/monitor", "", "", browserHeaders(""))
	require.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Equal(t, "text/html; charset=utf-8", w.Header().Get("Content-Type"))
	assert.Contains(t, w.Header().Get("Content-Security-Policy"), "form-action 'self'")
	assert.Equal(t, "DENY", w.Header().Get("X-Frame-Options"))
	in := w.Body.String()
	assert.Contains(t, in, `<form method="post" action="/debug/fxbus/login">`)
	assert.Contains(t, in, `<input type="hidden" name="next" value="/debug/fxbus/monitor">`)
	assert.NotContains(t, in, "fxbus debug</p>", "nothing of the page")
	// Its one stylesheet is inline, and the policy admits exactly it, by
	// hash: a browser refuses a style whose hash it does not list.
	css, ok := strings.CutPrefix(in[strings.Index(in, "<style>"):], "<style>")
	require.True(t, ok)
	css, _, ok = strings.Cut(css, "</style>")
	require.True(t, ok)
	require.NotEmpty(t, css)
	sum := sha256.Sum256([]byte(css))
	assert.Contains(t, w.Header().Get("Content-Security-Policy"), "style-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	assert.NotContains(t, w.Header().Get("Content-Security-Policy"), "unsafe-inline")
	w = f.do("GET", httpapi.DebugPath+"/monitor", "", "")
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
	w = f.do("GET", httpapi.DebugPath+"/login?next=/debug/fxbus/graph", "", "", browserHeaders(""))
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), `value="/debug/fxbus/graph"`)

	// Login.
	w = f.do("POST", httpapi.DebugPath+"/login", "", loginForm(op, "/debug/fxbus/monitor"), formHeaders(origin, ""))
	require.Equal(t, http.StatusSeeOther, w.Code, w.Body.String())
	assert.Equal(t, "/debug/fxbus/monitor", w.Header().Get("Location"))
	c := sessionCookie(t, w)
	assert.True(t, c.HttpOnly)
	assert.Equal(t, http.SameSiteStrictMode, c.SameSite)
	assert.Equal(t, httpapi.DebugPath, c.Path)
	assert.Equal(t, int(httpapi.DebugSessionTTL.Seconds()), c.MaxAge)
	assert.False(t, c.Secure, "plain HTTP: a Secure cookie would never come back")
	assert.GreaterOrEqual(t, len(c.Value), 26, "a random id")
	assert.NotContains(t, c.Value, op)
	assert.NotContains(t, w.Header().Get("Set-Cookie")+w.Body.String(), op, "the token stays on the server")
	cookie := c.Name + "=" + c.Value

	// With the cookie, every page; the cookie is nobody's bearer token
	// elsewhere, and not a header a POST may use.
	for _, p := range []string{"/", "/graph", "/monitor", "/stats", "/static/monitor.js"} {
		w = f.do("GET", httpapi.DebugPath+p, "", "", browserHeaders(cookie))
		assert.Equal(t, http.StatusOK, w.Code, p)
	}
	w = f.do("GET", httpapi.DebugPath+"/", "", "", browserHeaders(cookie))
	assert.Contains(t, w.Body.String(), `action="/debug/fxbus/logout"`, "a Log out button")
	w = f.do("GET", "/threads", "", "", browserHeaders(cookie))
	assert.Equal(t, http.StatusUnauthorized, w.Code, "the cookie opens the debug page only")

	// Logout ends the session, and clears the cookie.
	w = f.do("POST", httpapi.DebugPath+"/logout", "", "", formHeaders(origin, cookie))
	require.Equal(t, http.StatusSeeOther, w.Code)
	assert.Equal(t, "/debug/fxbus/login", w.Header().Get("Location"))
	assert.Negative(t, sessionCookie(t, w).MaxAge, "the cookie is cleared")
	w = f.do("GET", httpapi.DebugPath+"/", "", "", browserHeaders(cookie))
	assert.Equal(t, http.StatusUnauthorized, w.Code, "the session has ended")
	// The operator's own token is still good for the API.
	assert.Equal(t, http.StatusOK, f.do("GET", "/threads", op, "").Code)

	assert.EqualValues(t, 1, log.seen.Load(), "the login is logged, without the token")
}

// Only an operator's token, in a form from the desk's own page, gets a
// session.
func TestDebugLoginRefusals(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		name   string
		token  string
		origin string
		code   int
		says   string
	}{
		{"unknown token", "forged", origin, http.StatusUnauthorized, "Unknown token."},
		{"no token", "", origin, http.StatusUnauthorized, "Unknown token."},
		{"a visitor", f.alice(), origin, http.StatusForbidden, "not an operator"},
		{"a user", f.user(), origin, http.StatusForbidden, "not an operator"},
		{"another origin", f.op(), "http://evil.example", http.StatusForbidden, "another origin"},
		{"no origin", f.op(), "", http.StatusForbidden, "without an Origin"},
		{"cross-site fetch", f.op(), origin + "|cross-site", http.StatusForbidden, "another origin"},
		{"same-origin fetch, null origin", f.op(), "null|same-origin", http.StatusSeeOther, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			o, site, _ := strings.Cut(c.origin, "|")
			h := formHeaders(o, "")
			if site != "" {
				h.Set("Sec-Fetch-Site", site)
			}
			w := f.do("POST", httpapi.DebugPath+"/login", "", loginForm(c.token, ""), h)
			assert.Equal(t, c.code, w.Code)
			assert.Contains(t, w.Body.String(), c.says)
			if c.code != http.StatusSeeOther {
				assert.Empty(t, w.Result().Cookies(), "no session")
			}
		})
	}
	// A logout from another origin ends nothing.
	w := f.do("POST", httpapi.DebugPath+"/login", "", loginForm(f.op(), ""), formHeaders(origin, ""))
	require.Equal(t, http.StatusSeeOther, w.Code)
	assert.Equal(t, "/debug/fxbus/", w.Header().Get("Location"), "no next: the catalogue")
	cookie := "fxbus_debug=" + sessionCookie(t, w).Value
	w = f.do("POST", httpapi.DebugPath+"/logout", "", "", formHeaders("http://evil.example", cookie))
	assert.Equal(t, http.StatusForbidden, w.Code)
	assert.Equal(t, http.StatusOK, f.do("GET", httpapi.DebugPath+"/", "", "", browserHeaders(cookie)).Code)
	// A login never redirects off the debug page.
	for _, next := range []string{"https://evil.example/", "//evil.example/debug/fxbus/", "/threads", "/debug/fxbus/../threads",
		"/debug/fxbus/%2e%2e/threads", "/debug/fxbus/.%2E/%2e./threads", "/debug/fxbus/\tx", "/debug/fxbus/\u202egraph"} {
		w = f.doFrom("198.51.100.20:1", "POST", httpapi.DebugPath+"/login", "", loginForm(f.op(), next), formHeaders(origin, ""))
		assert.Equal(t, "/debug/fxbus/", w.Header().Get("Location"), next)
	}
	// A visitor who opens the page with its bearer token in a browser
	// gets a 403 page, not the page.
	w = f.do("GET", httpapi.DebugPath+"/", f.alice(), "", browserHeaders(""))
	assert.Equal(t, http.StatusForbidden, w.Code)
	assert.Contains(t, w.Body.String(), "who is not an operator")
	assert.NotContains(t, w.Body.String(), "Catalogue")
}

// Over TLS the cookie is Secure.
func TestDebugLoginCookieSecureOverTLS(t *testing.T) {
	f := newFixture(t)
	req := httptest.NewRequest("POST", "https://example.com"+httpapi.DebugPath+"/login", strings.NewReader(loginForm(f.op(), "")))
	req.TLS = &tls.ConnectionState{}
	req.Header = formHeaders("https://example.com", "")
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, req)
	require.Equal(t, http.StatusSeeOther, w.Code, w.Body.String())
	assert.True(t, sessionCookie(t, w).Secure)

	// Behind a trusted proxy that terminates TLS, as it says; nobody
	// else is believed.
	p := newDesk(t, desk.Config{LogOutput: testWriter{t}, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, false)
	for _, c := range []struct {
		from, proto string
		secure      bool
	}{
		{"10.0.0.1:1", "https", true},
		{"10.0.0.1:1", "http", false},
		{"198.51.100.7:1", "https", false},
		{"10.0.0.1:1", "https, http", false},
		{"10.0.0.1:1", "https|http", false}, // the proxy added a line after the client's
		{"10.0.0.1:1", "http|https", true},
	} {
		h := formHeaders("", "")
		h.Set("Sec-Fetch-Site", "same-origin")
		h["X-Forwarded-Proto"] = strings.Split(c.proto, "|")
		w := p.doFrom(c.from, "POST", httpapi.DebugPath+"/login", "", loginForm(p.op(), ""), h)
		require.Equal(t, http.StatusSeeOther, w.Code, w.Body.String())
		assert.Equal(t, c.secure, sessionCookie(t, w).Secure, "%s, X-Forwarded-Proto %s", c.from, c.proto)
	}
}

// Login attempts are limited per client address: the eleventh in a
// minute gets a 429, another address is not held up.
func TestDebugLoginRateLimited(t *testing.T) {
	f := newFixture(t)
	const from = "198.51.100.9:4000"
	for i := range 10 {
		w := f.doFrom(from, "POST", httpapi.DebugPath+"/login", "", loginForm("wrong", ""), formHeaders(origin, ""))
		require.Equal(t, http.StatusUnauthorized, w.Code, "attempt %d", i+1)
	}
	w := f.doFrom(from, "POST", httpapi.DebugPath+"/login", "", loginForm(f.op(), ""), formHeaders(origin, ""))
	assert.Equal(t, http.StatusTooManyRequests, w.Code, "even with the right token")
	assert.NotEmpty(t, w.Header().Get("Retry-After"))
	assert.Empty(t, w.Result().Cookies())
	w = f.do("POST", httpapi.DebugPath+"/login", "", loginForm(f.op(), ""), formHeaders(origin, ""))
	assert.Equal(t, http.StatusSeeOther, w.Code, "another address")

	// An IPv6 host has a /64 of addresses: they count as one.
	for i := range 10 {
		w := f.doFrom(fmt.Sprintf("[2001:db8:1:2::%x]:4000", i+1), "POST", httpapi.DebugPath+"/login", "", loginForm("wrong", ""), formHeaders(origin, ""))
		require.Equal(t, http.StatusUnauthorized, w.Code, "attempt %d", i+1)
	}
	w = f.doFrom("[2001:db8:1:2:ffff::1]:4000", "POST", httpapi.DebugPath+"/login", "", loginForm(f.op(), ""), formHeaders(origin, ""))
	assert.Equal(t, http.StatusTooManyRequests, w.Code, "another address of the /64")
	w = f.doFrom("[2001:db8:1:3::1]:4000", "POST", httpapi.DebugPath+"/login", "", loginForm(f.op(), ""), formHeaders(origin, ""))
	assert.Equal(t, http.StatusSeeOther, w.Code, "another /64")
}

// The monitor's stream, through the desk's server, to a browser's
// session cookie.
func TestDebugStreamWithSessionCookie(t *testing.T) {
	_, srv, _ := startDeskWith(t, desk.Config{LogOutput: testWriter{t}}, fakeModules())
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequest(http.MethodPost, srv.URL()+httpapi.DebugPath+"/login", strings.NewReader(loginForm(signInOverHTTP(t, srv.URL()), "")))
	require.NoError(t, err)
	req.Header = formHeaders(srv.URL(), "")
	res, err := noRedirect.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Len(t, res.Cookies(), 1)
	sc := debugStream(t, srv.URL(), func(r *http.Request) { r.AddCookie(res.Cookies()[0]) })

	res, err = http.Post(srv.URL()+"/visitors", "application/json", strings.NewReader(`{"user_id":"zoe","name":"Zoe"}`))
	require.NoError(t, err)
	res.Body.Close()
	awaitPublish(t, sc, "visitor.created")
}
