package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"net/netip"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/busdebug"
	"github.com/fxbus/fxbus/topics"

	"github.com/fxbus/fxbus/app/desk"
	"github.com/fxbus/fxbus/app/telemetry"
)

// Access says who may call a route. The HTTP API checks it before the
// route's handler runs: an anonymous caller gets a 401, a caller without
// the role a 403. Ownership (a visitor's own threads) the [desk.Service]
// checks.
type Access int

// The accesses of the routes.
const (
	// Public routes need no token.
	Public Access = iota
	// SignedIn routes need a token, of any role.
	SignedIn
	// VisitorOnly routes need a visitor's token.
	VisitorOnly
	// OwnerOrOperator routes need an operator's token, or the token of
	// the visitor whose thread it is.
	OwnerOrOperator
	// OperatorOnly routes need an operator's token.
	OperatorOnly
)

// String says who may call, as the API's documentation does.
func (a Access) String() string {
	switch a {
	case Public:
		return "anyone"
	case SignedIn:
		return "any caller signed in"
	case VisitorOnly:
		return "a visitor"
	case OwnerOrOperator:
		return "an operator, or the thread's visitor"
	case OperatorOnly:
		return "an operator"
	}
	return "nobody"
}

// allows returns nil if a caller with roles may call a route of access
// a; else an [desk.ErrUnauthenticated] or [desk.ErrForbidden] error.
func (a Access) allows(c topics.Caller, signedIn bool) error {
	if a == Public {
		return nil
	}
	if !signedIn {
		return fmt.Errorf("%w: %s only: send a bearer token", desk.ErrUnauthenticated, a)
	}
	ok := true
	switch a {
	case VisitorOnly:
		ok = c.HasRole(desk.RoleVisitor)
	case OwnerOrOperator:
		ok = c.HasRole(desk.RoleVisitor) || c.HasRole(desk.RoleOperator)
	case OperatorOnly:
		ok = c.HasRole(desk.RoleOperator)
	}
	if !ok {
		return fmt.Errorf("%w: %s only", desk.ErrForbidden, a)
	}
	return nil
}

// API is the desk's JSON HTTP API over a [desk.Service]. Its routes are in
// [API.Routes]; [API.Handler] serves them as the listeners of
// [topics.RoutingAlter] leave them.
type API struct {
	svc    *desk.Service
	bus    *bus.Bus
	log    *slog.Logger
	cfg    desk.Config
	limits desk.Limits
	debug  http.Handler // the bus's debug page, at DebugPath

	sessions *debugSessions  // the debug page's browser sessions
	logins   *attemptLimiter // the debug page's login attempts
}

// NewAPI returns the API of svc; b is the bus on which it publishes
// [topics.RoutingAlter] and [topics.ResourceNotFound]; debug is the bus's
// debug page, served to operators at [DebugPath] (see [NewDebug]).
func NewAPI(svc *desk.Service, b *bus.Bus, log *slog.Logger, cfg desk.Config, debug *busdebug.Handler) *API {
	return &API{svc: svc, bus: b, log: log, cfg: cfg, limits: svc.Limits(), debug: debug,
		sessions: newDebugSessions(time.Now), logins: newAttemptLimiter(time.Now)}
}

// handlerFunc is a handler that returns its error, for [API.serve] to
// write.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// RouteDoc documents a route of the desk: who may call it, what it does,
// and the Go types of its request and response bodies, from which the
// OpenAPI document is made.
type RouteDoc struct {
	// Name is the route's name, as in [topics.Route].
	Name string
	// Pattern is the route's ServeMux pattern, such as "GET /threads/{id}".
	Pattern string
	// Access says who may call it.
	Access Access
	// Summary says what it does.
	Summary string
	// Request is a value of the request body's type; nil for none.
	Request any
	// Response is a value of the success body's type; nil for none.
	Response any
	// Status is the success status.
	Status int
	// Query names the query parameters.
	Query []string

	h handlerFunc
}

// Docs returns the documentation of the desk's own routes, in the order of
// [API.Routes].
func (a *API) Docs() []RouteDoc {
	type rec = map[string]any
	list := []string{"after", "limit"}
	return []RouteDoc{
		{"health", "GET /healthz", Public, "the desk is up", nil, rec{}, 200, nil, a.health},
		{"openapi", "GET /openapi.json", Public, "this API's OpenAPI 3.1 document", nil, rec{}, 200, nil, a.openAPI},
		{"visitor.track", "POST /visitors", Public, "a visitor arrives: 201 and its token when new; a known visitor sends its token: 200", TrackVisitorJSON{}, VisitorJSON{}, 201, nil, a.trackVisitor},
		{"visitor.list", "GET /visitors", OperatorOnly, "a page of the visitors", nil, ListJSON[VisitorJSON]{}, 200, list, a.listVisitors},
		{"thread.start", "POST /threads", VisitorOnly, "the visitor starts a chat; 403 when banned", StartChatJSON{}, ThreadJSON{}, 201, nil, a.startChat},
		{"thread.list", "GET /threads", OperatorOnly, "a page of the threads", nil, ListJSON[ThreadJSON]{}, 200, list, a.listThreads},
		{"thread.get", "GET /threads/{id}", OwnerOrOperator, "a thread", nil, ThreadJSON{}, 200, nil, a.getThread},
		{"thread.join", "POST /threads/{id}/join", OperatorOnly, "the operator joins the thread", nil, ThreadJSON{}, 200, nil, a.joinThread},
		{"thread.close", "POST /threads/{id}/close", OwnerOrOperator, "the thread is closed", nil, ThreadJSON{}, 200, nil, a.closeThread},
		{"thread.message.post", "POST /threads/{id}/messages", OwnerOrOperator, "a message is posted: 201 as stored; 403 banned, 422 refused", PostMessageJSON{}, MessageJSON{}, 201, nil, a.postMessage},
		{"thread.message.list", "GET /threads/{id}/messages", OwnerOrOperator, "a page of the thread's messages, oldest first", nil, ListJSON[MessageJSON]{}, 200, list, a.listMessages},
		{"thread.function.call", "POST /threads/{id}/functions/{name}", OwnerOrOperator, "an API function is called: 200 its results; 404 when no listener implements it", CallFunctionJSON{}, rec{}, 200, nil, a.callFunction},
		{"operator.login", "POST /operators/login", Public, "single sign-on (X-SSO-Login, X-SSO-Timestamp, X-SSO-Signature): 200 the operator and a token, 401", nil, LoginJSON{}, 200, nil, a.signInOperator},
		{"operator.list", "GET /operators", OperatorOnly, "a page of the operators", nil, ListJSON[OperatorJSON]{}, 200, list, a.listOperators},
		{"ban.list", "GET /bans", OperatorOnly, "a page of the bans", nil, ListJSON[BanJSON]{}, 200, list, a.listBans},
		{"ban.request", "POST /bans", OperatorOnly, "a ban is asked for", BanRequestJSON{}, BanJSON{}, 201, nil, a.requestBan},
		{"ticket.create", "POST /tickets", OperatorOnly, "a ticket is opened from a record", rec{}, rec{}, 201, nil, a.createTicket},
		{"ticket.list", "GET /tickets", OperatorOnly, "a page of the tickets' records", nil, ListJSON[rec]{}, 200, list, a.listTickets},
		{"ticket.get", "GET /tickets/{id}", OperatorOnly, "a ticket's record", nil, rec{}, 200, nil, a.getTicket},
		{"ticket.update", "PATCH /tickets/{id}", OperatorOnly, "a ticket's fields are written", rec{}, rec{}, 200, nil, a.updateTicket},
		{"document.create", "POST /documents", OperatorOnly, "a document is stored from a record (data in base64)", rec{}, rec{}, 201, nil, a.createDocument},
		{"document.get", "GET /documents/{id}", OperatorOnly, "a document's record, without its content", nil, rec{}, 200, nil, a.getDocument},
		{"document.download", "GET /documents/{id}/download", OperatorOnly, "the document's file, as an attachment (inline only for the types of InlineTypes)", nil, nil, 200, []string{"disposition"}, a.downloadDocument},
		{"page.assets", "GET /page/assets", Public, "the chat page's CSS and JS", nil, PageAssetsJSON{}, 200, nil, a.pageAssets},
		{"page.chat", "GET /chat", Public, "the chat page, in HTML", nil, nil, 200, nil, a.chatPage},
		{"cron.run", "POST /cron", OperatorOnly, "the periodic tasks run", nil, CronJSON{}, 200, nil, a.runCron},
		{"user.register", "POST /users/register", Public, "a user registers", RegisterJSON{}, AccountJSON{}, 201, nil, a.register},
		{"user.login", "POST /users/login", Public, "a user logs in: 200 a token, 401", UserLoginJSON{}, LoginJSON{}, 200, nil, a.login},
		{"messaging.publish", "POST /channels/{channel}/messages", SignedIn, "a message is published to a channel (announcements: operators only)", PublishJSON{}, PublishedJSON{}, 201, nil, a.publishMessage},
		{"debug.bus", "GET " + DebugPath + "/", OperatorOnly, "the bus's live debug page, in HTML: catalogue, graph, monitor (server-sent events at events) and statistics; a browser may send the session cookie of debug.login instead of a bearer token, and gets the login form when refused", nil, nil, 200, nil, a.debugPage},
		{"debug.login.form", "GET " + DebugPath + "/login", Public, "the debug page's login form, in HTML", nil, nil, 200, []string{"next"}, a.debugLoginForm},
		{"debug.login", "POST " + DebugPath + "/login", Public, "a form from the login page (same Origin) exchanges an operator's bearer token (field token) for the debug page's session cookie: 303 to field next; 401 unknown token, 403 not an operator's or another origin, 429 too many attempts", nil, nil, 303, nil, a.debugLogin},
		{"debug.logout", "POST " + DebugPath + "/logout", Public, "the debug page's session ends, its cookie is cleared: 303 to the login form", nil, nil, 303, nil, a.debugLogout},
	}
}

// Routes returns the desk's own routes, a new slice at each call. Each
// handler checks its route's [Access] first.
func (a *API) Routes() []topics.Route {
	docs := a.Docs()
	out := make([]topics.Route, len(docs))
	for i, d := range docs {
		h := a.guard(d.Access, d.h)
		if d.Name == "debug.bus" { // a browser refused gets the login form
			h = a.loginOnRefusal(h)
		}
		out[i] = topics.Route{Name: d.Name, Pattern: d.Pattern, Handler: a.serve(h)}
	}
	return out
}

// guard checks the caller against access before h runs.
func (a *API) guard(access Access, h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, signedIn := topics.CallerFrom(r.Context())
		if err := access.allows(c, signedIn && !c.Anonymous()); err != nil {
			return err
		}
		if access == OwnerOrOperator && r.PathValue("id") != "" {
			// Whose thread it is, before the body is read: a caller who
			// may not act on it learns nothing from the answer to its body.
			id, err := pathID(r, "id")
			if err != nil {
				return err
			}
			if _, err := a.svc.Thread(r.Context(), topics.ThreadID(id)); err != nil {
				return err
			}
		}
		return h(w, r)
	}
}

// Handler returns the handler of the API: it publishes the desk's routes
// on [topics.RoutingAlter], whose listeners may add, replace or remove
// routes, and serves them as they leave them, each behind the middleware
// that puts the caller of a bearer token into the request's context
// ([topics.WithCaller]). A request whose path a route serves, but with
// another method, gets a 405 with the Allow header. A request that no
// route matches publishes [topics.ResourceNotFound], whose listeners may
// answer it; otherwise it gets a JSON 404. Every answer has
// X-Content-Type-Options: nosniff, and a request body beyond
// [desk.Limits.MaxBodyBytes] is refused with a 413.
func (a *API) Handler(ctx context.Context) (h http.Handler, err error) {
	rc := &topics.RouteCollection{Routes: a.Routes()}
	if err := topics.RoutingAlter.Publish(ctx, a.bus, rc); err != nil {
		return nil, fmt.Errorf("desk: routes: %w", err)
	}
	mux := http.NewServeMux()
	defer func() { // ServeMux panics on a bad or conflicting pattern
		if p := recover(); p != nil {
			h, err = nil, fmt.Errorf("desk: routes: %v", p)
		}
	}()
	seen := map[string]bool{}
	methods := map[string]bool{}
	for _, rt := range rc.Routes {
		if rt.Handler == nil || rt.Pattern == "" {
			return nil, fmt.Errorf("desk: route %q has no pattern or handler", rt.Name)
		}
		if seen[rt.Pattern] {
			return nil, fmt.Errorf("desk: route %q: pattern %q is served twice", rt.Name, rt.Pattern)
		}
		seen[rt.Pattern] = true
		if m, _, ok := strings.Cut(rt.Pattern, " "); ok {
			methods[m] = true
		}
		mux.Handle(rt.Pattern, telemetry.WithRoute(rt.Pattern, a.authenticate(rt.Handler)))
	}
	if !seen["/"] {
		nf := &notFound{api: a, mux: mux, methods: slices.Sorted(maps.Keys(methods))}
		mux.Handle("/", a.authenticate(nf))
	}
	return a.secure(a.cleanPaths(mux)), nil
}

// secure sets the headers every answer has, and bounds the request's
// body.
func (a *API) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		r.Body = http.MaxBytesReader(w, r.Body, a.limits.MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// ClientAddr returns the address of the client of r: the connection's
// peer, or, when that peer is one of [desk.Config.TrustedProxies], the
// right-most address of [desk.Config.ClientAddrHeader] that is not a trusted
// proxy. Never an address from the request's body.
func (a *API) ClientAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	peer := ap.Addr().Unmap()
	if a.cfg.ClientAddrHeader == "" || !a.trusted(peer) {
		return peer
	}
	var hops []string
	for _, v := range r.Header.Values(a.cfg.ClientAddrHeader) {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		addr, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return peer // a hop the proxy did not write: stop trusting
		}
		if addr = addr.Unmap(); !a.trusted(addr) {
			return addr
		}
	}
	return peer
}

func (a *API) trusted(addr netip.Addr) bool {
	for _, p := range a.cfg.TrustedProxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// cleanPaths refuses, with a JSON 400, a path that is not clean (a "." or
// ".." segment, an empty one): ServeMux would answer it with a bare
// redirect, which a client may follow with a GET instead of its POST.
func (a *API) cleanPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p != cleanPath(p) {
			a.writeError(w, r, fmt.Errorf("%w: path %q is not clean (it has a \".\", \"..\" or empty segment)", desk.ErrInvalid, p))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// cleanPath is p as ServeMux serves it: path.Clean, keeping a trailing
// slash.
func cleanPath(p string) string {
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}

// authenticate is the middleware that puts the caller of the request's
// bearer token into its context, with [topics.WithCaller]: from there it
// reaches the service and every listener. A request without a token is
// anonymous; one with a token the desk does not know gets a 401.
func (a *API) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		if auth == "" {
			if c, ok := a.debugCaller(r); ok { // a browser on the debug page
				r = r.WithContext(topics.WithCaller(r.Context(), c))
			}
			next.ServeHTTP(w, r)
			return
		}
		scheme, token, _ := strings.Cut(auth, " ")
		c, known := a.svc.Caller(token)
		if !strings.EqualFold(scheme, "Bearer") || !known {
			a.writeError(w, r, fmt.Errorf("%w: unknown bearer token", desk.ErrUnauthenticated))
			return
		}
		next.ServeHTTP(w, r.WithContext(topics.WithCaller(r.Context(), c)))
	})
}

// notFound answers a request no route matches: with a 405 and the
// methods allowed when routes serve its path with other methods; else
// with the response a listener of [topics.ResourceNotFound] sets, or a
// JSON 404.
type notFound struct {
	api     *API
	mux     *http.ServeMux
	methods []string // of every pattern
}

func (n *notFound) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a := n.api
	var allow []string
	for _, m := range n.methods {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := n.mux.Handler(probe); pattern != "/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		if slices.Contains(allow, http.MethodGet) {
			allow = append(allow, http.MethodHead)
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		a.writeError(w, r, fmt.Errorf("%w: %s %s: allowed: %s", ErrMethod, r.Method, r.URL.Path, strings.Join(allow, ", ")))
		return
	}
	rr := &topics.ResourceRequest{Request: r}
	if err := topics.ResourceNotFound.Publish(r.Context(), a.bus, rr); err != nil {
		a.log.WarnContext(r.Context(), "desk: listeners failed", "err", err)
	}
	if res := rr.Response; res != nil {
		for k, vs := range res.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(res.Status)
		_, _ = w.Write(res.Body)
		return
	}
	a.writeError(w, r, fmt.Errorf("no route for %s %s: %w", r.Method, r.URL.Path, desk.ErrNotFound))
}

// serve turns a handlerFunc into a handler that writes its error.
func (a *API) serve(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.writeError(w, r, err)
		}
	})
}

// ErrorJSON is the body of every error response.
type ErrorJSON struct {
	Error string `json:"error"`
}

// ErrMethod is a request with a method its path does not serve (405);
// ErrTooLarge a request whose body is beyond [desk.Limits.MaxBodyBytes] (413).
var (
	ErrMethod   = errors.New("method not allowed")
	ErrTooLarge = errors.New("request body too large")
)

// StatusOf returns the HTTP status of an error of the service.
func StatusOf(err error) int {
	switch {
	case errors.Is(err, desk.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, desk.ErrUnauthenticated):
		return http.StatusUnauthorized
	case errors.Is(err, desk.ErrForbidden), errors.Is(err, desk.ErrBanned):
		return http.StatusForbidden
	case errors.Is(err, desk.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrMethod):
		return http.StatusMethodNotAllowed
	case errors.Is(err, desk.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, desk.ErrRejected):
		return http.StatusUnprocessableEntity
	case errors.Is(err, desk.ErrFull):
		return http.StatusInsufficientStorage
	case errors.Is(err, ErrTooManyRequests):
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// writeError writes err as a JSON error with its status. The message of
// a server error is logged, not sent.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := StatusOf(err)
	msg := err.Error()
	if status == http.StatusInternalServerError {
		a.log.ErrorContext(r.Context(), "desk: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		msg = http.StatusText(status)
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	writeJSON(w, status, ErrorJSON{Error: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// bodyError is the error of reading a body: [ErrTooLarge] beyond the
// limit, else [desk.ErrInvalid].
func bodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return fmt.Errorf("%w: more than %d bytes", ErrTooLarge, mbe.Limit)
	}
	return fmt.Errorf("%w: body: %v", desk.ErrInvalid, err)
}

// body returns a decoder of the request's body, which must be valid
// UTF-8: encoding/json would replace what is not with U+FFFD, silently.
func body(r *http.Request) (*json.Decoder, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, bodyError(err)
	}
	if !utf8.Valid(b) {
		return nil, fmt.Errorf("%w: the body is not valid UTF-8", desk.ErrInvalid)
	}
	return json.NewDecoder(bytes.NewReader(b)), nil
}

// decode reads the request's JSON body into v, rejecting unknown fields
// and anything after the JSON value.
func decode(r *http.Request, v any) error {
	dec, err := body(r)
	if err != nil {
		return err
	}
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: a JSON body is required", desk.ErrInvalid)
		}
		return bodyError(err)
	}
	return atEnd(dec)
}

// atEnd returns an error unless dec has nothing left to read but white
// space: a body is one JSON value.
func atEnd(dec *json.Decoder) error {
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return bodyError(err)
		}
		return fmt.Errorf("%w: body: data after the JSON value", desk.ErrInvalid)
	}
	return nil
}

// decodeRecord reads the request's JSON object into a record, with its
// numbers as json.Number, rejecting anything after it.
func decodeRecord(r *http.Request) (map[string]any, error) {
	dec, err := body(r)
	if err != nil {
		return nil, err
	}
	dec.UseNumber()
	var rec map[string]any
	if err := dec.Decode(&rec); err != nil || rec == nil {
		if err == nil || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: a JSON object is required", desk.ErrInvalid)
		}
		return nil, bodyError(err)
	}
	if err := atEnd(dec); err != nil {
		return nil, err
	}
	return rec, nil
}

// pathID returns the path value name as an id.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: %s %q is not an id", desk.ErrInvalid, name, r.PathValue(name))
	}
	return id, nil
}

// readPage reads a listing's page from the query: after (a cursor) and limit.
func readPage(r *http.Request) (desk.Page, error) {
	q := r.URL.Query()
	pg := desk.Page{After: q.Get("after")}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n <= 0 {
			return desk.Page{}, fmt.Errorf("%w: limit %q is not a positive number", desk.ErrInvalid, l)
		}
		pg.Limit = n
	}
	return pg, nil
}

// ListJSON is a page of a listing: its items, and the cursor to pass as
// ?after= for the next page, "" after the last.
type ListJSON[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

func list[T, J any](items []T, next string, conv func(T) J) ListJSON[J] {
	out := ListJSON[J]{Items: make([]J, len(items)), Next: next}
	for i, it := range items {
		out.Items[i] = conv(it)
	}
	return out
}

func (a *API) health(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// TrackVisitorJSON is the body of POST /visitors. The visitor's address
// is the client's, from the connection, never from the body.
type TrackVisitorJSON struct {
	UserID    string `json:"user_id"`
	Name      string `json:"name,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
}

// trackVisitor: POST /visitors. 201 and a token for a new visitor, 200
// for a known one, who must send its token.
func (a *API) trackVisitor(w http.ResponseWriter, r *http.Request) error {
	var in TrackVisitorJSON
	if err := decode(r, &in); err != nil {
		return err
	}
	tr, err := a.svc.TrackVisitor(r.Context(), desk.Arrival{
		UserID: topics.UserID(in.UserID), Name: in.Name, UserAgent: in.UserAgent, IP: a.ClientAddr(r),
	})
	if err != nil {
		return err
	}
	status, j := http.StatusOK, visitorJSON(tr.Visitor)
	if tr.New {
		status, j.New, j.Token = http.StatusCreated, true, tr.Token
	}
	writeJSON(w, status, j)
	return nil
}

func (a *API) listVisitors(w http.ResponseWriter, r *http.Request) error {
	pg, err := readPage(r)
	if err != nil {
		return err
	}
	vs, next, err := a.svc.Visitors(r.Context(), pg)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(vs, next, visitorJSON))
	return nil
}

// StartChatJSON is the body of POST /threads.
type StartChatJSON struct {
	// UserID, if given, must be the caller's visitor.
	UserID  string `json:"user_id,omitempty"`
	Name    string `json:"name,omitempty"`
	Locale  string `json:"locale,omitempty"`
	GroupID int64  `json:"group_id,omitempty"`
	Referer string `json:"referer,omitempty"`
}

// startChat: POST /threads → 201.
func (a *API) startChat(w http.ResponseWriter, r *http.Request) error {
	var in StartChatJSON
	if err := decode(r, &in); err != nil {
		return err
	}
	t, ready, err := a.svc.StartChat(r.Context(), desk.ChatRequest{
		UserID: topics.UserID(in.UserID), From: a.ClientAddr(r), Name: in.Name, Locale: in.Locale,
		Group: topics.GroupID(in.GroupID), Referer: in.Referer,
	})
	if err != nil {
		return err
	}
	j := threadJSON(t)
	j.UserReady = &ready
	writeJSON(w, http.StatusCreated, j)
	return nil
}

func (a *API) listThreads(w http.ResponseWriter, r *http.Request) error {
	pg, err := readPage(r)
	if err != nil {
		return err
	}
	ts, next, err := a.svc.Threads(r.Context(), pg)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(ts, next, threadJSON))
	return nil
}

func (a *API) getThread(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	t, err := a.svc.Thread(r.Context(), topics.ThreadID(id))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, threadJSON(t))
	return nil
}

// joinThread: POST /threads/{id}/join, as an operator.
func (a *API) joinThread(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	t, err := a.svc.JoinThread(r.Context(), topics.ThreadID(id))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, threadJSON(t))
	return nil
}

func (a *API) closeThread(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	t, err := a.svc.CloseThread(r.Context(), topics.ThreadID(id))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, threadJSON(t))
	return nil
}

// PostMessageJSON is the body of POST /threads/{id}/messages.
type PostMessageJSON struct {
	Body string `json:"body"`
}

// postMessage: POST /threads/{id}/messages → 201 with the message as
// stored.
func (a *API) postMessage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in PostMessageJSON
	if err := decode(r, &in); err != nil {
		return err
	}
	m, err := a.svc.PostMessage(r.Context(), topics.ThreadID(id), desk.Post{Body: in.Body, From: a.ClientAddr(r)})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, messageJSON(m))
	return nil
}

func (a *API) listMessages(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	pg, err := readPage(r)
	if err != nil {
		return err
	}
	ms, next, err := a.svc.Messages(r.Context(), topics.ThreadID(id), pg)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(ms, next, messageJSON))
	return nil
}

// CallFunctionJSON is the body of POST /threads/{id}/functions/{name};
// optional.
type CallFunctionJSON struct {
	Arguments map[string]any `json:"arguments,omitempty"`
}

// callFunction: POST /threads/{id}/functions/{name} → 200 with the
// results.
func (a *API) callFunction(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in CallFunctionJSON
	if r.ContentLength != 0 {
		if err := decode(r, &in); err != nil {
			return err
		}
	}
	res, err := a.svc.CallFunction(r.Context(), topics.ThreadID(id), r.PathValue("name"), in.Arguments)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// LoginJSON is the answer to a login: who logged in, and the bearer token
// of their next requests.
type LoginJSON struct {
	Operator *OperatorJSON `json:"operator,omitempty"`
	UserID   string        `json:"user_id,omitempty"`
	Roles    []string      `json:"roles"`
	Token    string        `json:"token"`
}

// signInOperator: POST /operators/login; the listeners of
// operator.authenticate read the request's headers (single sign-on
// headers, say).
func (a *API) signInOperator(w http.ResponseWriter, r *http.Request) error {
	op, token, err := a.svc.SignInOperator(r.Context(), desk.Credentials{Header: r.Header, From: a.ClientAddr(r)})
	if err != nil {
		return err
	}
	j := operatorJSON(op, true)
	writeJSON(w, http.StatusOK, LoginJSON{Operator: &j, Roles: []string{desk.RoleOperator}, Token: token})
	return nil
}

func (a *API) listOperators(w http.ResponseWriter, r *http.Request) error {
	pg, err := readPage(r)
	if err != nil {
		return err
	}
	ops, online, next, err := a.svc.Operators(r.Context(), pg)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(ops, next, func(op topics.Operator) OperatorJSON { return operatorJSON(op, online[op.ID]) }))
	return nil
}

func (a *API) listBans(w http.ResponseWriter, r *http.Request) error {
	pg, err := readPage(r)
	if err != nil {
		return err
	}
	bans, next, err := a.svc.Bans(r.Context(), pg)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(bans, next, func(b desk.BanRecord) BanJSON { return banJSON(b.Ban, b.UserID) }))
	return nil
}

// BanRequestJSON is the body of POST /bans.
type BanRequestJSON struct {
	UserID  string `json:"user_id,omitempty"`
	Address string `json:"address,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// requestBan: POST /bans, as an operator → 201.
func (a *API) requestBan(w http.ResponseWriter, r *http.Request) error {
	var in BanRequestJSON
	if err := decode(r, &in); err != nil {
		return err
	}
	b, err := a.svc.RequestBan(r.Context(), topics.BanRequest{UserID: topics.UserID(in.UserID), Address: in.Address, Reason: in.Reason})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, banJSON(b, topics.UserID(in.UserID)))
	return nil
}

// createTicket: POST /tickets with a ticket record → 201.
func (a *API) createTicket(w http.ResponseWriter, r *http.Request) error {
	rec, err := decodeRecord(r)
	if err != nil {
		return err
	}
	out, err := a.svc.CreateTicket(r.Context(), rec)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (a *API) listTickets(w http.ResponseWriter, r *http.Request) error {
	pg, err := readPage(r)
	if err != nil {
		return err
	}
	ts, next, err := a.svc.Tickets(r.Context(), pg)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ListJSON[map[string]any]{Items: ts, Next: next})
	return nil
}

func (a *API) getTicket(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	t, err := a.svc.Ticket(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// updateTicket: PATCH /tickets/{id} with the fields to write → 200.
func (a *API) updateTicket(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	rec, err := decodeRecord(r)
	if err != nil {
		return err
	}
	out, err := a.svc.UpdateTicket(r.Context(), id, rec)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// createDocument: POST /documents with a document record → 201.
func (a *API) createDocument(w http.ResponseWriter, r *http.Request) error {
	rec, err := decodeRecord(r)
	if err != nil {
		return err
	}
	out, err := a.svc.CreateDocument(r.Context(), rec)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (a *API) getDocument(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := a.svc.Document(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// InlineTypes are the media types a download may be served inline as:
// they cannot run script in the desk's origin. Any other type is served
// as an attachment only.
var InlineTypes = []string{"text/plain", "image/png", "image/jpeg", "image/gif", "application/pdf"}

// DownloadCSP is the Content-Security-Policy of a download: nothing it
// holds may load, run or be framed.
const DownloadCSP = "default-src 'none'; sandbox; frame-ancestors 'none'"

// downloadDocument: GET /documents/{id}/download[?disposition=inline] →
// the file, as an attachment unless inline is asked for a type of
// [InlineTypes] (400 for another), with nosniff and [DownloadCSP].
func (a *API) downloadDocument(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	disp := topics.Disposition(r.URL.Query().Get("disposition"))
	f, err := a.svc.DownloadDocument(r.Context(), id, disp)
	if err != nil {
		return err
	}
	mt, _, _ := mime.ParseMediaType(f.MIMEType)
	if disp == topics.DispositionInline && !slices.Contains(InlineTypes, mt) {
		return fmt.Errorf("%w: a %s document is downloaded as an attachment only; inline are %s",
			desk.ErrInvalid, mt, strings.Join(InlineTypes, ", "))
	}
	if disp == "" {
		disp = topics.DispositionAttachment
	}
	w.Header().Set("Content-Type", f.MIMEType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType(string(disp), map[string]string{"filename": f.Name}))
	w.Header().Set("Content-Security-Policy", DownloadCSP)
	w.Header().Set("Content-Length", strconv.Itoa(len(f.Data)))
	_, _ = w.Write(f.Data)
	return nil
}

// PageAssetsJSON is the answer of GET /page/assets.
type PageAssetsJSON struct {
	CSS []AssetJSON `json:"css"`
	JS  []AssetJSON `json:"js"`
}

func (a *API) pageAssets(w http.ResponseWriter, r *http.Request) error {
	css, js, err := a.svc.PageAssets(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, PageAssetsJSON{CSS: assetsJSON(css), JS: assetsJSON(js)})
	return nil
}

var chatPage = template.Must(template.New("chat").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>fxbus desk</title>
{{range .CSS}}{{if .Inline}}<style>{{.Inline}}</style>{{else}}<link rel="stylesheet" href="{{.URL}}">{{end}}
{{end}}</head>
<body><h1>fxbus desk</h1>
{{range .JS}}{{if .Inline}}<script>{{.Inline}}</script>{{else}}<script src="{{.URL}}"></script>{{end}}
{{end}}</body></html>
`))

// chatPage: GET /chat, a tiny HTML page with the page's assets. Inline
// code comes from listeners, which are the desk's own code: it is trusted.
func (a *API) chatPage(w http.ResponseWriter, r *http.Request) error {
	css, js, err := a.svc.PageAssets(r.Context())
	if err != nil {
		return err
	}
	type tag struct {
		URL    string
		Inline any
	}
	var page struct{ CSS, JS []tag }
	for _, a := range css {
		if a.Kind == topics.AssetKindInline {
			page.CSS = append(page.CSS, tag{Inline: template.CSS(a.Content)})
		} else {
			page.CSS = append(page.CSS, tag{URL: a.Content})
		}
	}
	for _, a := range js {
		if a.Kind == topics.AssetKindInline {
			page.JS = append(page.JS, tag{Inline: template.JS(a.Content)})
		} else {
			page.JS = append(page.JS, tag{URL: a.Content})
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Frame-Options", "DENY")
	return chatPage.Execute(w, page)
}

// CronJSON is the answer of POST /cron.
type CronJSON struct {
	RanAt  string         `json:"ran_at"`
	Counts map[string]int `json:"counts"`
	Errors []string       `json:"errors,omitempty"`
}

func (a *API) runCron(w http.ResponseWriter, r *http.Request) error {
	res, err := a.svc.RunCron(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, CronJSON{RanAt: res.Time.UTC().Format("2006-01-02T15:04:05.000Z"), Counts: res.Counts, Errors: res.Errors})
	return nil
}

// RegisterJSON is the body of POST /users/register.
type RegisterJSON struct {
	Login    string `json:"login"`
	Email    string `json:"email,omitempty"`
	Password string `json:"password"`
}

// AccountJSON is a user account in the HTTP API.
type AccountJSON struct {
	UserID string   `json:"user_id"`
	Login  string   `json:"login"`
	Email  string   `json:"email,omitempty"`
	Roles  []string `json:"roles"`
}

// register: POST /users/register → 201.
func (a *API) register(w http.ResponseWriter, r *http.Request) error {
	var in RegisterJSON
	if err := decode(r, &in); err != nil {
		return err
	}
	acc, err := a.svc.Register(r.Context(), topics.RegisterRequest{Login: in.Login, Email: in.Email, Password: in.Password})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, AccountJSON{UserID: acc.UserID, Login: acc.Login, Email: acc.Email, Roles: acc.Roles})
	return nil
}

// UserLoginJSON is the body of POST /users/login.
type UserLoginJSON struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

// login: POST /users/login → 200 with a bearer token.
func (a *API) login(w http.ResponseWriter, r *http.Request) error {
	var in UserLoginJSON
	if err := decode(r, &in); err != nil {
		return err
	}
	sess, err := a.svc.Login(r.Context(), topics.LoginRequest{Login: in.Login, Password: in.Password})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, LoginJSON{UserID: sess.UserID, Roles: sess.Roles, Token: sess.Token})
	return nil
}

// PublishJSON is the body of POST /channels/{channel}/messages.
type PublishJSON struct {
	Message string            `json:"message"`
	Headers map[string]string `json:"headers,omitempty"`
}

// PublishedJSON is the answer of POST /channels/{channel}/messages.
type PublishedJSON struct {
	MessageID string `json:"message_id"`
	Delivered int    `json:"delivered"`
}

// publishMessage: POST /channels/{channel}/messages → 201.
func (a *API) publishMessage(w http.ResponseWriter, r *http.Request) error {
	var in PublishJSON
	if err := decode(r, &in); err != nil {
		return err
	}
	st, err := a.svc.PublishMessage(r.Context(), topics.PublishRequest{
		Channel: topics.Channel(r.PathValue("channel")), Message: in.Message, Headers: in.Headers,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, PublishedJSON{MessageID: st.MessageID, Delivered: st.Delivered})
	return nil
}
