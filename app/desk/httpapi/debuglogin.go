package httpapi

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fxbus/fxbus/app/desk"
	"github.com/fxbus/fxbus/topics"
)

// An operator opens the debug page in a browser, which sends no bearer
// header, through a login form: POST DebugPath/login with the operator's
// bearer token gives a session cookie that the debug page's GET routes,
// and only they, accept in place of the header.
const (
	// debugCookie names the debug page's session cookie.
	debugCookie = "fxbus_debug"
	// DebugSessionTTL is how long a session of the debug page lasts from
	// its login; it ends sooner at logout, or when the operator's token
	// ends.
	DebugSessionTTL = 8 * time.Hour
	// maxDebugSessions bounds the sessions kept: past it, the one nearest
	// its end is dropped.
	maxDebugSessions = 1024
	// loginAttempts login attempts per client address in loginWindow;
	// more get a 429.
	loginAttempts = 10
	loginWindow   = time.Minute
	// maxLimited bounds the addresses the limiter counts.
	maxLimited = 10_000
	// maxLoginForm bounds the login form's body.
	maxLoginForm = 4 << 10
)

// ErrTooManyRequests is a client that tried to log in too often (429).
var ErrTooManyRequests = errors.New("too many requests")

// debugSessions are the debug page's browser sessions, by the random id
// their cookie holds: each keeps the operator's bearer token, which never
// reaches the browser again.
type debugSessions struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[string]debugSession
}

type debugSession struct {
	token   string
	expires time.Time
}

func newDebugSessions(now func() time.Time) *debugSessions {
	return &debugSessions{now: now, m: map[string]debugSession{}}
}

// add starts a session for token and returns its id and end.
func (s *debugSessions) add(token string) (id string, expires time.Time) {
	id = rand.Text()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if len(s.m) >= maxDebugSessions {
		var first string
		for k, v := range s.m {
			if !now.Before(v.expires) {
				delete(s.m, k)
			} else if first == "" || v.expires.Before(s.m[first].expires) {
				first = k
			}
		}
		if len(s.m) >= maxDebugSessions {
			delete(s.m, first)
		}
	}
	expires = now.Add(DebugSessionTTL)
	s.m[id] = debugSession{token: token, expires: expires}
	return id, expires
}

// token returns the bearer token of session id, unless it has ended.
func (s *debugSessions) token(id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[id]
	if ok && !s.now().Before(v.expires) {
		delete(s.m, id)
		return "", false
	}
	return v.token, ok
}

// remove ends session id.
func (s *debugSessions) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
}

// attemptLimiter counts attempts per client address in fixed windows.
type attemptLimiter struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[netip.Addr]*attemptWindow
}

type attemptWindow struct {
	start time.Time
	n     int
}

func newAttemptLimiter(now func() time.Time) *attemptLimiter {
	return &attemptLimiter{now: now, m: map[netip.Addr]*attemptWindow{}}
}

// allow counts an attempt from addr, and reports whether it is within
// the limit; if not, when to try again. IPv6 addresses count by their
// /64, the block one host usually has: else a single host could try
// 10 tokens a minute from each of its 2⁶⁴ addresses, and fill the
// limiter, which then refuses everybody, in a second.
func (l *attemptLimiter) allow(addr netip.Addr) (bool, time.Duration) {
	if addr = addr.Unmap(); addr.Is6() {
		p, _ := addr.Prefix(64)
		addr = p.Addr()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	w := l.m[addr]
	if w == nil || now.Sub(w.start) >= loginWindow {
		if w == nil && len(l.m) >= maxLimited {
			for k, v := range l.m {
				if now.Sub(v.start) >= loginWindow {
					delete(l.m, k)
				}
			}
			if len(l.m) >= maxLimited { // fail closed rather than grow
				return false, loginWindow
			}
		}
		w = &attemptWindow{start: now}
		l.m[addr] = w
	}
	w.n++
	if w.n > loginAttempts {
		return false, loginWindow - now.Sub(w.start)
	}
	return true, 0
}

// debugCaller returns the caller of the debug page's session cookie of a
// GET or HEAD of the debug page; false for any other request, or a
// session that has ended.
func (a *API) debugCaller(r *http.Request) (topics.Caller, bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead || !strings.HasPrefix(r.URL.Path, DebugPath+"/") {
		return topics.Caller{}, false
	}
	ck, err := r.Cookie(debugCookie)
	if err != nil {
		return topics.Caller{}, false
	}
	token, ok := a.sessions.token(ck.Value)
	if !ok {
		return topics.Caller{}, false
	}
	return a.svc.Caller(token)
}

// sameOrigin reports whether r, a POST from a browser, comes from a page
// of this server: the browser says so with Sec-Fetch-Site (sent whatever
// the page's Referrer-Policy; with "no-referrer", Origin is "null"), or,
// for a browser that does not send it, the Origin header is the server's
// own origin. A request with neither is refused.
func (a *API) sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin":
		return true
	case "":
	default:
		return false
	}
	scheme := "http"
	if a.overTLS(r) {
		scheme = "https"
	}
	o := r.Header.Get("Origin")
	return o != "" && strings.EqualFold(o, scheme+"://"+r.Host)
}

// overTLS reports whether the browser reached the desk over TLS: the
// connection is TLS, or the peer is one of desk.Config.TrustedProxies and
// its X-Forwarded-Proto says https.
func (a *API) overTLS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil || !a.trusted(ap.Addr().Unmap()) {
		return false
	}
	// The nearest proxy's: the last value of the last line, as
	// ClientAddr reads its header (a proxy may add a line of its own
	// after a client's).
	vs := r.Header.Values("X-Forwarded-Proto")
	if len(vs) == 0 {
		return false
	}
	protos := strings.Split(vs[len(vs)-1], ",")
	return strings.EqualFold(strings.TrimSpace(protos[len(protos)-1]), "https")
}

// wantsHTML reports whether r is a browser's navigation: it accepts HTML.
func wantsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// debugNext returns next if it is a path of the debug page, else the
// page's catalogue: a login never redirects elsewhere. A path with a
// percent sign is refused too: a browser reads "%2e%2e" in a Location as
// "..", which would lead off the page; and so is one with a control
// character, a space or a byte outside ASCII, which a browser strips or
// reads otherwise than cleanPath does.
func debugNext(next string) string {
	if strings.HasPrefix(next, DebugPath+"/") && cleanPath(next) == next &&
		!strings.ContainsAny(next, "\\?#%") && !strings.HasPrefix(next, DebugPath+"/login") &&
		!strings.ContainsFunc(next, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
		return next
	}
	return DebugPath + "/"
}

// loginView is what the login page reads.
type loginView struct {
	Path    string // DebugPath
	Next    string
	Message string
	Caller  string // who is signed in, on a 403
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · fxbus debug</title>
<style>{{.Style}}</style>
</head>
<body>
<main>
<h1>fxbus debug: operators only</h1>
{{if .Message}}<p role="alert">{{.Message}}</p>{{end}}
{{if .Caller}}<p>You are signed in as <code>{{.Caller}}</code>, who is not an operator.</p>
<form method="post" action="{{.Path}}/logout"><button type="submit">Log out</button></form>
{{else}}<form method="post" action="{{.Path}}/login">
<p><label for="token">Operator token</label><br>
<input id="token" name="token" type="password" autocomplete="off" required size="40"></p>
<input type="hidden" name="next" value="{{.Next}}">
<p><button type="submit">Sign in</button></p>
</form>
<p>The token is the one <code>POST /operators/login</code> gives an operator through single
sign-on. It stays on the server: the browser gets a session cookie for this page only, for at most {{.TTL}}.</p>
{{end}}
</main>
</body>
</html>
`))

// loginStyle is the login page's inline stylesheet: the debug page's own
// sits behind the login. loginCSP admits it by its hash, and nothing else.
const loginStyle = `body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a202c;margin:0}` +
	`main{max-width:36em;margin:4em auto;padding:0 1.5em}h1{font-size:1.4em}` +
	`input,button{font:inherit;padding:.3em .5em}button{cursor:pointer}` +
	`input:focus-visible,button:focus-visible{outline:3px solid #f6ad55;outline-offset:2px}` +
	`[role=alert]{color:#c53030;font-weight:600}code{font-family:ui-monospace,Menlo,Consolas,monospace}`

// Style is the page's stylesheet, for the template: CSS, not HTML, so
// that html/template writes it into the style element as it is.
func (loginView) Style() template.CSS { return loginStyle }

// TTL is the session's lifetime, as the page says it.
func (loginView) TTL() string { return strings.TrimSuffix(DebugSessionTTL.String(), "0m0s") }

// loginCSP is the login page's Content-Security-Policy: no script, its
// own inline stylesheet only (by hash), forms to this server only, never
// in a frame.
var loginCSP = "default-src 'none'; style-src '" + styleHash(loginStyle) + "'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// styleHash is the CSP source expression of an inline stylesheet.
func styleHash(css string) string {
	sum := sha256.Sum256([]byte(css))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// renderLogin writes the login page with status.
func (a *API) renderLogin(w http.ResponseWriter, status int, v loginView) {
	v.Path = DebugPath
	var buf bytes.Buffer
	if err := loginPage.Execute(&buf, v); err != nil {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", loginCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin") // not no-referrer: older browsers would send Origin: null
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", "Bearer")
	}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// loginOnRefusal serves a browser that h refuses, anonymous or not an
// operator, the login page rather than a JSON error; other clients get
// the error.
func (a *API) loginOnRefusal(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		err := h(w, r)
		if err == nil || !wantsHTML(r) {
			return err
		}
		switch StatusOf(err) {
		case http.StatusUnauthorized:
			a.renderLogin(w, http.StatusUnauthorized, loginView{Next: debugNext(r.URL.Path)})
			return nil
		case http.StatusForbidden:
			c, _ := topics.CallerFrom(r.Context())
			a.renderLogin(w, http.StatusForbidden, loginView{Caller: c.UserID})
			return nil
		}
		return err
	}
}

// debugLoginForm: GET DebugPath/login, the login form.
func (a *API) debugLoginForm(w http.ResponseWriter, r *http.Request) error {
	a.renderLogin(w, http.StatusOK, loginView{Next: debugNext(r.URL.Query().Get("next"))})
	return nil
}

// debugLogin: POST DebugPath/login, a browser's form from this server's
// login page with an operator's bearer token (field token): a session
// cookie and a 303 to the debug page (field next). The token of a
// non-operator gets a 403, an unknown one a 401, a form from elsewhere a
// 403, a client that tries too often a 429.
func (a *API) debugLogin(w http.ResponseWriter, r *http.Request) error {
	if !a.sameOrigin(r) {
		return fmt.Errorf("%w: login form from another origin, or without an Origin header", desk.ErrForbidden)
	}
	if ok, retry := a.logins.allow(a.ClientAddr(r)); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(retry.Seconds()))))
		return fmt.Errorf("%w: more than %d login attempts a minute from this address", ErrTooManyRequests, loginAttempts)
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginForm)
	if err := r.ParseForm(); err != nil {
		return bodyError(err)
	}
	next := debugNext(r.PostForm.Get("next"))
	c, ok := a.svc.Caller(r.PostForm.Get("token"))
	switch {
	case !ok:
		a.renderLogin(w, http.StatusUnauthorized, loginView{Next: next, Message: "Unknown token."})
		return nil
	case !c.HasRole(desk.RoleOperator):
		a.renderLogin(w, http.StatusForbidden, loginView{Next: next, Message: "That token is not an operator's."})
		return nil
	}
	id, expires := a.sessions.add(c.Token)
	http.SetCookie(w, &http.Cookie{Name: debugCookie, Value: id, Path: DebugPath, Expires: expires,
		MaxAge: int(DebugSessionTTL.Seconds()), HttpOnly: true, Secure: a.overTLS(r), SameSite: http.SameSiteStrictMode})
	a.log.InfoContext(r.Context(), "desk: debug page session started", "user", c.UserID)
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// debugLogout: POST DebugPath/logout, from this server's pages: the
// session ends, its cookie is cleared, and a 303 leads to the login form.
// The operator's bearer token stays valid.
func (a *API) debugLogout(w http.ResponseWriter, r *http.Request) error {
	if !a.sameOrigin(r) {
		return fmt.Errorf("%w: logout form from another origin, or without an Origin header", desk.ErrForbidden)
	}
	if ck, err := r.Cookie(debugCookie); err == nil {
		a.sessions.remove(ck.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: debugCookie, Value: "", Path: DebugPath, MaxAge: -1,
		HttpOnly: true, Secure: a.overTLS(r), SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, DebugPath+"/login", http.StatusSeeOther)
	return nil
}
