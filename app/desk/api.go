package desk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"path"
	"strconv"
	"strings"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/topics"
)

// maxBody is the largest request body the API reads.
const maxBody = 1 << 20

// API is the desk's JSON HTTP API over a [Service]. Its routes are in
// [API.Routes]; [API.Handler] serves them as the listeners of
// [topics.RoutingAlter] leave them.
type API struct {
	svc *Service
	bus *bus.Bus
	log *slog.Logger
}

// NewAPI returns the API of svc; b is the bus on which it publishes
// [topics.RoutingAlter] and [topics.ResourceNotFound].
func NewAPI(svc *Service, b *bus.Bus, log *slog.Logger) *API {
	return &API{svc: svc, bus: b, log: log}
}

// handlerFunc is a handler that returns its error, for [API.serve] to
// write.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// Routes returns the desk's own routes, a new slice at each call.
func (a *API) Routes() []topics.Route {
	route := func(name, pattern string, h handlerFunc) topics.Route {
		return topics.Route{Name: name, Pattern: pattern, Handler: a.serve(h)}
	}
	return []topics.Route{
		route("health", "GET /healthz", a.health),
		route("visitor.track", "POST /visitors", a.trackVisitor),
		route("visitor.list", "GET /visitors", a.listVisitors),
		route("thread.start", "POST /threads", a.startChat),
		route("thread.list", "GET /threads", a.listThreads),
		route("thread.get", "GET /threads/{id}", a.getThread),
		route("thread.join", "POST /threads/{id}/join", a.joinThread),
		route("thread.close", "POST /threads/{id}/close", a.closeThread),
		route("thread.message.post", "POST /threads/{id}/messages", a.postMessage),
		route("thread.message.list", "GET /threads/{id}/messages", a.listMessages),
		route("thread.function.call", "POST /threads/{id}/functions/{name}", a.callFunction),
		route("operator.login", "POST /operators/login", a.signInOperator),
		route("operator.list", "GET /operators", a.listOperators),
		route("ban.list", "GET /bans", a.listBans),
		route("ban.request", "POST /bans", a.requestBan),
		route("ticket.create", "POST /tickets", a.createTicket),
		route("ticket.list", "GET /tickets", a.listTickets),
		route("ticket.get", "GET /tickets/{id}", a.getTicket),
		route("ticket.update", "PATCH /tickets/{id}", a.updateTicket),
		route("document.create", "POST /documents", a.createDocument),
		route("document.get", "GET /documents/{id}", a.getDocument),
		route("document.download", "GET /documents/{id}/download", a.downloadDocument),
		route("page.assets", "GET /page/assets", a.pageAssets),
		route("page.chat", "GET /chat", a.chatPage),
		route("cron.run", "POST /cron", a.runCron),
		route("user.register", "POST /users/register", a.register),
		route("user.login", "POST /users/login", a.login),
		route("messaging.publish", "POST /channels/{channel}/messages", a.publishMessage),
	}
}

// Handler returns the handler of the API: it publishes the desk's routes
// on [topics.RoutingAlter], whose listeners may add, replace or remove
// routes, and serves them as they leave them, each behind the middleware
// that puts the caller of a bearer token into the request's context
// ([topics.WithCaller]). A request that no route matches publishes
// [topics.ResourceNotFound], whose listeners may answer it; otherwise it
// gets a JSON 404.
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
	for _, rt := range rc.Routes {
		if rt.Handler == nil || rt.Pattern == "" {
			return nil, fmt.Errorf("desk: route %q has no pattern or handler", rt.Name)
		}
		if seen[rt.Pattern] {
			return nil, fmt.Errorf("desk: route %q: pattern %q is served twice", rt.Name, rt.Pattern)
		}
		seen[rt.Pattern] = true
		mux.Handle(rt.Pattern, a.authenticate(rt.Handler))
	}
	if !seen["/"] {
		mux.Handle("/", a.authenticate(http.HandlerFunc(a.notFound)))
	}
	return a.cleanPaths(mux), nil
}

// cleanPaths refuses, with a JSON 400, a path that is not clean (a "." or
// ".." segment, an empty one): ServeMux would answer it with a bare
// redirect, which a client may follow with a GET instead of its POST.
func (a *API) cleanPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p != cleanPath(p) {
			a.writeError(w, r, fmt.Errorf("%w: path %q is not clean (it has a \".\", \"..\" or empty segment)", ErrInvalid, p))
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
			next.ServeHTTP(w, r)
			return
		}
		scheme, token, _ := strings.Cut(auth, " ")
		c, known := a.svc.Caller(token)
		if !strings.EqualFold(scheme, "Bearer") || !known {
			a.writeError(w, r, fmt.Errorf("%w: unknown bearer token", ErrUnauthenticated))
			return
		}
		next.ServeHTTP(w, r.WithContext(topics.WithCaller(r.Context(), c)))
	})
}

// notFound answers a request no route matches: with the response a
// listener of [topics.ResourceNotFound] sets, or a JSON 404.
func (a *API) notFound(w http.ResponseWriter, r *http.Request) {
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
	a.writeError(w, r, fmt.Errorf("no route for %s %s: %w", r.Method, r.URL.Path, ErrNotFound))
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

// StatusOf returns the HTTP status of an error of the service.
func StatusOf(err error) int {
	switch {
	case errors.Is(err, ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, ErrUnauthenticated):
		return http.StatusUnauthorized
	case errors.Is(err, ErrForbidden), errors.Is(err, ErrBanned):
		return http.StatusForbidden
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrConflict):
		return http.StatusConflict
	case errors.Is(err, ErrRejected):
		return http.StatusUnprocessableEntity
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

// decode reads the request's JSON body into v, rejecting unknown fields
// and anything after the JSON value.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: a JSON body is required", ErrInvalid)
		}
		return fmt.Errorf("%w: body: %v", ErrInvalid, err)
	}
	return atEnd(dec)
}

// atEnd returns an error unless dec has nothing left to read but white
// space: a body is one JSON value.
func atEnd(dec *json.Decoder) error {
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: body: data after the JSON value", ErrInvalid)
	}
	return nil
}

// decodeRecord reads the request's JSON object into a record, with its
// numbers as json.Number, rejecting anything after it.
func decodeRecord(r *http.Request) (map[string]any, error) {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.UseNumber()
	var rec map[string]any
	if err := dec.Decode(&rec); err != nil || rec == nil {
		if err == nil || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: a JSON object is required", ErrInvalid)
		}
		return nil, fmt.Errorf("%w: body: %v", ErrInvalid, err)
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
		return 0, fmt.Errorf("%w: %s %q is not an id", ErrInvalid, name, r.PathValue(name))
	}
	return id, nil
}

func (a *API) health(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// trackVisitor: POST /visitors {"user_id", "name", "user_agent", "ip"};
// the address defaults to the client's. 201 for a new visitor, 200 for a
// known one.
func (a *API) trackVisitor(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		UserID    string `json:"user_id"`
		Name      string `json:"name"`
		UserAgent string `json:"user_agent"`
		IP        string `json:"ip"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	ip, err := visitorIP(in.IP, r.RemoteAddr)
	if err != nil {
		return err
	}
	v, created, err := a.svc.TrackVisitor(r.Context(), Arrival{
		UserID: topics.UserID(in.UserID), Name: in.Name, UserAgent: in.UserAgent, IP: ip,
	})
	if err != nil {
		return err
	}
	status, j := http.StatusOK, visitorJSON(v)
	if created {
		status, j.New = http.StatusCreated, true
	}
	writeJSON(w, status, j)
	return nil
}

// visitorIP is the address a visitor reports, or else the client's.
func visitorIP(reported, remote string) (netip.Addr, error) {
	if reported != "" {
		ip, err := netip.ParseAddr(reported)
		if err != nil {
			return netip.Addr{}, fmt.Errorf("%w: ip: %v", ErrInvalid, err)
		}
		return ip, nil
	}
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return netip.Addr{}, nil
	}
	return ap.Addr(), nil
}

func (a *API) listVisitors(w http.ResponseWriter, _ *http.Request) error {
	vs := a.svc.Store().Visitors()
	out := make([]VisitorJSON, len(vs))
	for i, v := range vs {
		out[i] = visitorJSON(v)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// startChat: POST /threads {"user_id", "name", "locale", "group_id", "referer"} → 201.
func (a *API) startChat(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		UserID  string `json:"user_id"`
		Name    string `json:"name"`
		Locale  string `json:"locale"`
		GroupID int64  `json:"group_id"`
		Referer string `json:"referer"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	t, ready, err := a.svc.StartChat(r.Context(), ChatRequest{
		UserID: topics.UserID(in.UserID), Name: in.Name, Locale: in.Locale,
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

func (a *API) listThreads(w http.ResponseWriter, _ *http.Request) error {
	ts := a.svc.Store().Threads()
	out := make([]ThreadJSON, len(ts))
	for i, t := range ts {
		out[i] = threadJSON(t)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getThread(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	t, err := a.svc.thread(topics.ThreadID(id))
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

// postMessage: POST /threads/{id}/messages {"body"} → 201 with the
// message as stored.
func (a *API) postMessage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Body string `json:"body"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	m, err := a.svc.PostMessage(r.Context(), topics.ThreadID(id), in.Body)
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
	ms, err := a.svc.Messages(r.Context(), topics.ThreadID(id))
	if err != nil {
		return err
	}
	out := make([]MessageJSON, len(ms))
	for i, m := range ms {
		out[i] = messageJSON(m)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// callFunction: POST /threads/{id}/functions/{name} {"arguments": {...}}
// → 200 with the results.
func (a *API) callFunction(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Arguments map[string]any `json:"arguments"`
	}
	if r.ContentLength != 0 {
		if err := decode(r, &in); err != nil {
			return err
		}
	}
	res, err := a.svc.CallFunction(r.Context(), r, topics.ThreadID(id), r.PathValue("name"), in.Arguments)
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
// operator.authenticate read the request (single sign-on headers, say).
func (a *API) signInOperator(w http.ResponseWriter, r *http.Request) error {
	op, token, err := a.svc.SignInOperator(r.Context(), r)
	if err != nil {
		return err
	}
	j := operatorJSON(op, true)
	writeJSON(w, http.StatusOK, LoginJSON{Operator: &j, Roles: []string{RoleOperator}, Token: token})
	return nil
}

func (a *API) listOperators(w http.ResponseWriter, _ *http.Request) error {
	ops, online := a.svc.Store().Operators()
	out := make([]OperatorJSON, len(ops))
	for i, op := range ops {
		out[i] = operatorJSON(op, online[op.ID])
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) listBans(w http.ResponseWriter, _ *http.Request) error {
	bans := a.svc.Store().Bans()
	out := make([]BanJSON, len(bans))
	for i, b := range bans {
		out[i] = banJSON(b.Ban, b.UserID)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// requestBan: POST /bans {"user_id", "address", "reason"}, as an operator → 201.
func (a *API) requestBan(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		UserID  string `json:"user_id"`
		Address string `json:"address"`
		Reason  string `json:"reason"`
	}
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

func (a *API) listTickets(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, a.svc.Tickets())
	return nil
}

func (a *API) getTicket(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	t, err := a.svc.Ticket(id)
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
	d, err := a.svc.Document(id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// downloadDocument: GET /documents/{id}/download[?disposition=inline] →
// the file.
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
	if disp == "" {
		disp = topics.DispositionAttachment
	}
	w.Header().Set("Content-Type", f.MIMEType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType(string(disp), map[string]string{"filename": f.Name}))
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
	css, js, err := a.svc.PageAssets(r.Context(), r)
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
	css, js, err := a.svc.PageAssets(r.Context(), r)
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
	return chatPage.Execute(w, page)
}

// CronJSON is the answer of POST /cron.
type CronJSON struct {
	RanAt  string         `json:"ran_at"`
	Counts map[string]int `json:"counts"`
	Errors []string       `json:"errors,omitempty"`
}

func (a *API) runCron(w http.ResponseWriter, r *http.Request) error {
	res := a.svc.RunCron(r.Context())
	writeJSON(w, http.StatusOK, CronJSON{RanAt: res.Time.UTC().Format("2006-01-02T15:04:05.000Z"), Counts: res.Counts, Errors: res.Errors})
	return nil
}

// register: POST /users/register {"login", "email", "password"} → 201.
func (a *API) register(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Login    string `json:"login"`
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	acc, err := a.svc.Register(r.Context(), topics.RegisterRequest{Login: in.Login, Email: in.Email, Password: in.Password})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"user_id": acc.UserID, "login": acc.Login, "email": acc.Email, "roles": acc.Roles,
	})
	return nil
}

// login: POST /users/login {"login", "password"} → 200 with a bearer token.
func (a *API) login(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Login    string `json:"login"`
		Password string `json:"password"`
	}
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

// publishMessage: POST /channels/{channel}/messages {"message", "headers"} → 201.
func (a *API) publishMessage(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Message string            `json:"message"`
		Headers map[string]string `json:"headers"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	st, err := a.svc.PublishMessage(r.Context(), topics.PublishRequest{
		Channel: topics.Channel(r.PathValue("channel")), Message: in.Message, Headers: in.Headers,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"message_id": st.MessageID, "delivered": st.Delivered})
	return nil
}
