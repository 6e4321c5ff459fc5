package desk

import (
	"cmp"
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"time"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/hook"
	"github.com/fxbus/fxbus/bus/unit"
	"github.com/fxbus/fxbus/topics"
)

// The errors of the service, which the HTTP API turns into status codes.
// The service wraps them with what was wrong: errors.Is finds them.
var (
	// ErrInvalid is a request that is malformed or misses a field (400).
	ErrInvalid = errors.New("invalid request")
	// ErrUnauthenticated is a caller the desk does not know (401).
	ErrUnauthenticated = errors.New("not authenticated")
	// ErrForbidden is a caller who may not do what they asked (403).
	ErrForbidden = errors.New("forbidden")
	// ErrBanned is a visitor under a ban (403).
	ErrBanned = errors.New("banned")
	// ErrNotFound is something that does not exist (404).
	ErrNotFound = errors.New("not found")
	// ErrConflict is a request at odds with the state of things, such as
	// a login already taken (409).
	ErrConflict = errors.New("conflict")
	// ErrRejected is a request that a listener refused: a message that
	// moderation would not let through, a function that failed (422).
	ErrRejected = errors.New("rejected")
)

// RoleOperator is the role of an operator's session; RoleVisitor that of
// a visitor's, issued when the visitor is first tracked; RoleUser that of
// a registered user's, unless the user.register hook gives others.
const (
	RoleOperator = "operator"
	RoleVisitor  = "visitor"
	RoleUser     = "user"
)

// passwordIterations is the PBKDF2 work factor of the demo's password
// hashes: enough to show the idea, small enough to keep the demo quick.
const passwordIterations = 4096

// Service is the desk's domain: every operation updates the [Store] and
// publishes the typed topics of package topics at the moments their
// documentation says. The caller's identity, where it matters, comes from
// ctx ([topics.CallerFrom]); the HTTP API puts it there.
//
// Events that report what has happened ("visitor.created", "ban.created")
// do not undo the operation when a listener fails: the failures are logged.
// Events whose listeners decide ("thread.message_posting",
// "operator.authenticate", "thread.function_call", the hooks) do.
type Service struct {
	bus    *bus.Bus
	store  *Store
	log    *slog.Logger
	limits Limits
	now    func() time.Time
}

// NewService returns the service on bus b and store s, within the store's
// limits.
func NewService(b *bus.Bus, s *Store, log *slog.Logger) *Service {
	return &Service{bus: b, store: s, log: log, limits: s.Limits(), now: time.Now}
}

// Store returns the service's store.
func (s *Service) Store() *Store { return s.store }

// refused turns the failure of a listener that decides, such as a
// message refused or forged credentials, into an error of kind (one of the
// service's errors) with what the listener said, about what. The full
// error, which names the topic, the listener and its source file, is
// logged, not returned: it is for operators, not clients. A panic stays a
// server error.
func (s *Service) refused(ctx context.Context, what string, kind, err error) error {
	var pe *bus.PanicError
	if errors.As(err, &pe) {
		return err
	}
	s.log.InfoContext(ctx, "desk: refused by a listener", "err", err)
	var he *bus.HandlerError
	if errors.As(err, &he) {
		err = he.Err
	}
	if what == "" {
		return fmt.Errorf("%w: %w", kind, err)
	}
	return fmt.Errorf("%s %w: %w", what, kind, err)
}

// hookError is the error of a hook's Run: a veto of its before stage is
// [ErrForbidden] with what the listener said; other errors are returned as
// they are.
func (s *Service) hookError(ctx context.Context, err error) error {
	if errors.Is(err, hook.ErrVetoed) {
		return s.refused(ctx, "", ErrForbidden, err)
	}
	return err
}

// reported logs the failures of listeners of an event that reports what
// has happened: they do not undo it.
func (s *Service) reported(ctx context.Context, err error) {
	if err != nil {
		s.log.WarnContext(ctx, "desk: listeners failed", "err", err)
	}
}

// Arrival is a visitor the widget tracks.
type Arrival struct {
	// UserID is the widget's cookie; required. A new one makes a new
	// visitor; a known one is that visitor's only, who must be the caller.
	UserID topics.UserID
	// Name is the name the visitor gave, if any.
	Name string
	// UserAgent is the visitor's browser.
	UserAgent string
	// IP is the address the visitor connects from: the connection's, never
	// one the client claims.
	IP netip.Addr
}

// Tracked is a visitor tracked, and, for a new one, the bearer token of
// its next requests.
type Tracked struct {
	// Visitor is the visitor as stored.
	Visitor topics.Visitor
	// New is set for a visitor seen for the first time.
	New bool
	// Token is the new visitor's bearer token; "" for a known one.
	Token string
}

// TrackVisitor records a visitor's arrival. A new visitor is stored, gets
// a session whose bearer token it returns, and [topics.VisitorCreated]
// fires; a known visitor must be the caller (its token), else the error is
// [ErrUnauthenticated] or [ErrForbidden]. Then, for both,
// [topics.VisitorTracked] fires.
func (s *Service) TrackVisitor(ctx context.Context, a Arrival) (Tracked, error) {
	if err := CheckName("user_id", string(a.UserID)); err != nil {
		return Tracked{}, err
	}
	if a.UserID == "" {
		return Tracked{}, fmt.Errorf("%w: user_id is required", ErrInvalid)
	}
	if err := errors.Join(CheckText("name", a.Name, MaxNameLen), CheckText("user_agent", a.UserAgent, MaxNameLen)); err != nil {
		return Tracked{}, err
	}
	if _, known := s.store.Visitor(a.UserID); known {
		if err := s.requireVisitor(ctx, a.UserID); err != nil {
			return Tracked{}, err
		}
	}
	v, created, err := s.store.TrackVisitor(topics.Visitor{
		UserID: a.UserID, UserName: a.Name, UserAgent: a.UserAgent, UserIP: a.IP, Remote: addrString(a.IP),
	}, s.now())
	if err != nil {
		return Tracked{}, err
	}
	tr := Tracked{Visitor: v, New: created}
	if created {
		tr.Token = rand.Text()
		if err := s.store.AddSession(tr.Token, Session{UserID: "visitor:" + string(v.UserID), Roles: []string{RoleVisitor}, Visitor: v.UserID}); err != nil {
			return Tracked{}, err
		}
		e := v
		s.reported(ctx, topics.VisitorCreated.Publish(ctx, s.bus, &topics.VisitorEvent{Visitor: &e}))
	}
	e := v
	s.reported(ctx, topics.VisitorTracked.Publish(ctx, s.bus, &topics.VisitorEvent{Visitor: &e}))
	return tr, nil
}

// visitor returns the visitor of the session in ctx, if it is a visitor's.
func (s *Service) visitor(ctx context.Context) (topics.UserID, bool) {
	sess, ok := s.session(ctx)
	if !ok || sess.Visitor == "" {
		return "", false
	}
	return sess.Visitor, true
}

// session returns the session of the caller in ctx.
func (s *Service) session(ctx context.Context) (Session, bool) {
	c, ok := topics.CallerFrom(ctx)
	if !ok || c.Anonymous() || c.Token == "" {
		return Session{}, false
	}
	return s.store.Session(c.Token)
}

// requireVisitor returns nil when the caller in ctx is the visitor
// userID; [ErrUnauthenticated] for an anonymous caller, [ErrForbidden] for
// anyone else.
func (s *Service) requireVisitor(ctx context.Context, userID topics.UserID) error {
	if v, ok := s.visitor(ctx); ok && v == userID {
		return nil
	}
	if _, ok := s.session(ctx); !ok {
		return fmt.Errorf("%w: visitor %q: send the token its first visit returned", ErrUnauthenticated, userID)
	}
	return fmt.Errorf("%w: visitor %q is another client's", ErrForbidden, userID)
}

// requireCaller returns an [ErrUnauthenticated] error for an anonymous
// caller.
func (s *Service) requireCaller(ctx context.Context) (Session, error) {
	sess, ok := s.session(ctx)
	if !ok {
		return Session{}, fmt.Errorf("%w: sign in first", ErrUnauthenticated)
	}
	return sess, nil
}

// threadFor returns the thread id, if the caller in ctx may see it: an
// operator, or the thread's visitor. An anonymous caller gets
// [ErrUnauthenticated], another client [ErrForbidden], and a thread that
// does not exist [ErrNotFound].
func (s *Service) threadFor(ctx context.Context, id topics.ThreadID) (topics.Thread, error) {
	sess, err := s.requireCaller(ctx)
	if err != nil {
		return topics.Thread{}, err
	}
	t, err := s.thread(id)
	if err != nil {
		return topics.Thread{}, err
	}
	if sess.Operator != 0 || (sess.Visitor != "" && sess.Visitor == t.UserID) {
		return t, nil
	}
	return topics.Thread{}, fmt.Errorf("%w: thread %d is another visitor's", ErrForbidden, id)
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// checkBan returns an [ErrBanned] error when the visitor userID, their
// last known address, or the address from, is under a ban.
func (s *Service) checkBan(userID topics.UserID, from netip.Addr) error {
	v, _ := s.store.Visitor(userID)
	for _, addr := range []netip.Addr{v.UserIP, from} {
		if b, ok := s.store.ActiveBan(userID, addr, s.now()); ok {
			return fmt.Errorf("visitor %q is %w until %s: %s", userID, ErrBanned, b.Until.UTC().Format(time.RFC3339), b.Comment)
		}
	}
	return nil
}

// ChatRequest is a visitor's request to chat.
type ChatRequest struct {
	// UserID is the visitor, who must be the caller; the caller's visitor
	// when empty.
	UserID topics.UserID
	// From is the address the request comes from; a ban on it refuses the
	// chat.
	From netip.Addr
	// Name is the name the visitor gives for the chat, if any.
	Name string
	// Locale is the chat's language; "en" when empty.
	Locale string
	// Group is the group the visitor asks for; zero for any.
	Group topics.GroupID
	// Referer is the page the chat starts from.
	Referer string
}

// Greeting is the desk's first message in a new thread.
const Greeting = "Thank you for contacting us. An operator will be with you soon."

// StartChat opens a thread for the visitor of the session in ctx, who is
// not banned, by id or address: [topics.ThreadCreated] and
// [topics.ChatStarted] fire, the desk greets the visitor, and, when an
// operator is online, [topics.ThreadUserReady] fires. It returns the
// thread and whether the visitor is ready to chat.
func (s *Service) StartChat(ctx context.Context, req ChatRequest) (topics.Thread, bool, error) {
	me, ok := s.visitor(ctx)
	switch {
	case !ok:
		if _, err := s.requireCaller(ctx); err != nil {
			return topics.Thread{}, false, err
		}
		return topics.Thread{}, false, fmt.Errorf("%w: visitors only: a chat starts with a visitor's token", ErrForbidden)
	case req.UserID != "" && req.UserID != me:
		return topics.Thread{}, false, fmt.Errorf("%w: visitor %q is another client's", ErrForbidden, req.UserID)
	}
	if err := errors.Join(CheckText("name", req.Name, MaxNameLen), CheckName("locale", req.Locale),
		CheckText("referer", req.Referer, MaxNameLen)); err != nil {
		return topics.Thread{}, false, err
	}
	v, ok := s.store.Visitor(me)
	if !ok {
		return topics.Thread{}, false, fmt.Errorf("visitor %q: %w", me, ErrNotFound)
	}
	if err := s.checkBan(v.UserID, req.From); err != nil {
		return topics.Thread{}, false, err
	}
	now := s.now()
	t, err := s.store.CreateThread(topics.Thread{
		State: topics.ThreadStateQueue, UserID: v.UserID, UserName: cmp.Or(req.Name, v.UserName),
		UserAgent: v.UserAgent, Remote: v.Remote, Referer: req.Referer, Locale: cmp.Or(req.Locale, "en"),
		GroupID: req.Group, Created: now, Modified: now,
	})
	if err != nil {
		return topics.Thread{}, false, err
	}
	e := t
	s.reported(ctx, topics.ThreadCreated.Publish(ctx, s.bus, &topics.ThreadEvent{Thread: &e}))
	s.reported(ctx, topics.ChatStarted.Publish(ctx, s.bus, &topics.ChatEvent{Thread: t.ID, Time: now}))
	if _, err := s.post(ctx, t, topics.MessageKindInfo, Greeting, topics.MessageOptions{}); err != nil {
		s.log.WarnContext(ctx, "desk: greeting not posted", "thread", t.ID, "err", err)
	}
	ready := s.store.OperatorsOnline() > 0
	if ready {
		e := t
		s.reported(ctx, topics.ThreadUserReady.Publish(ctx, s.bus, &topics.ThreadEvent{Thread: &e}))
	}
	return t, ready, nil
}

// thread returns the thread id, or an [ErrNotFound] error.
func (s *Service) thread(id topics.ThreadID) (topics.Thread, error) {
	t, ok := s.store.Thread(id)
	if !ok {
		return topics.Thread{}, fmt.Errorf("thread %d: %w", id, ErrNotFound)
	}
	return t, nil
}

// Post is a message to post.
type Post struct {
	// Body is the text; required.
	Body string
	// From is the address the request comes from; a ban on it refuses a
	// visitor's message.
	From netip.Addr
}

// PostMessage posts p to thread id: as the operator of the session in
// ctx, or as the thread's visitor, who must not be banned; anyone else is
// refused.
func (s *Service) PostMessage(ctx context.Context, id topics.ThreadID, p Post) (topics.Message, error) {
	t, err := s.threadFor(ctx, id)
	if err != nil {
		return topics.Message{}, err
	}
	body := p.Body
	if body == "" {
		return topics.Message{}, fmt.Errorf("%w: body is required", ErrInvalid)
	}
	if err := CheckText("body", body, s.limits.MaxMessageBytes); err != nil {
		return topics.Message{}, err
	}
	if t.State == topics.ThreadStateClosed {
		return topics.Message{}, fmt.Errorf("thread %d is closed: %w", id, ErrConflict)
	}
	kind, opts := topics.MessageKindUser, topics.MessageOptions{From: t.UserName}
	if op, ok := s.operator(ctx); ok {
		kind, opts = topics.MessageKindAgent, topics.MessageOptions{From: operatorName(op), OperatorID: op.ID}
	} else if err := s.checkBan(t.UserID, p.From); err != nil {
		return topics.Message{}, err
	}
	return s.post(ctx, t, kind, body, opts)
}

// post runs the alter event [topics.ThreadMessagePosting], whose listeners
// may change the message or refuse it, then stores the message as they
// left it, and [topics.ChatMessageReceived] fires. A visitor's message is
// refused when the listeners banned them.
//
// The posting and the storing are one unit of work (see [unit.Unit]): the
// listeners of ThreadMessagePosting marked [unit.AfterCommit], such as the
// stats module's count of messages posted, run only once the message is
// stored, and not at all when it is refused or the store is full.
func (s *Service) post(ctx context.Context, t topics.Thread, kind topics.MessageKind, body string, opts topics.MessageOptions) (topics.Message, error) {
	uctx, u := unit.Begin(ctx)
	defer u.Rollback() // a no-op once committed
	p := &topics.MessagePosting{Thread: &t, Kind: kind, Body: body, Options: opts}
	if err := topics.ThreadMessagePosting.Publish(uctx, s.bus, p); err != nil {
		return topics.Message{}, s.refused(ctx, "message", ErrRejected, err)
	}
	if p.Kind == topics.MessageKindUser {
		if err := s.checkBan(t.UserID, netip.Addr{}); err != nil {
			return topics.Message{}, err
		}
	}
	created := p.Options.Created
	if created.IsZero() {
		created = s.now()
	}
	m, err := s.store.AddMessage(topics.Message{
		ThreadID: t.ID, Kind: p.Kind, From: p.Options.From, OperatorID: p.Options.OperatorID, Body: p.Body,
		Created: created, Plugin: p.Options.Plugin, Data: p.Options.Data,
	})
	if err != nil {
		return topics.Message{}, err
	}
	_, _, _, _ = s.store.UpdateThread(t.ID, func(t *topics.Thread) error { t.Modified = created; return nil })
	s.reported(ctx, u.Commit(ctx))
	e := m
	s.reported(ctx, topics.ChatMessageReceived.Publish(ctx, s.bus, &topics.ChatMessage{Thread: t.ID, Message: &e}))
	return m, nil
}

// Messages returns a page of the messages of thread id, oldest first, as
// the listeners of [topics.ThreadMessagesAlter] leave them, for an
// operator or the thread's visitor.
func (s *Service) Messages(ctx context.Context, id topics.ThreadID, pg Page) ([]topics.Message, string, error) {
	t, err := s.threadFor(ctx, id)
	if err != nil {
		return nil, "", err
	}
	after, limit, err := pg.check(s.limits)
	if err != nil {
		return nil, "", err
	}
	ms, next := s.store.Messages(id, topics.MessageID(after), limit)
	l := &topics.MessageList{Thread: &t, Messages: ms}
	if err := topics.ThreadMessagesAlter.Publish(ctx, s.bus, l); err != nil {
		return nil, "", err
	}
	return l.Messages, cursor(int64(next)), nil
}

// Thread returns thread id, for an operator or the thread's visitor.
func (s *Service) Thread(ctx context.Context, id topics.ThreadID) (topics.Thread, error) {
	return s.threadFor(ctx, id)
}

// operator returns the operator of the session in ctx, if it is an
// operator's.
func (s *Service) operator(ctx context.Context) (topics.Operator, bool) {
	c, ok := topics.CallerFrom(ctx)
	if !ok || c.Anonymous() || !c.HasRole(RoleOperator) {
		return topics.Operator{}, false
	}
	sess, ok := s.store.Session(c.Token)
	if !ok || sess.Operator == 0 {
		return topics.Operator{}, false
	}
	return s.store.Operator(sess.Operator)
}

// requireOperator is operator, with an error for anyone else.
func (s *Service) requireOperator(ctx context.Context) (topics.Operator, error) {
	if op, ok := s.operator(ctx); ok {
		return op, nil
	}
	if _, ok := s.session(ctx); !ok {
		return topics.Operator{}, fmt.Errorf("%w: operators only: sign in first", ErrUnauthenticated)
	}
	return topics.Operator{}, fmt.Errorf("%w: operators only", ErrForbidden)
}

func operatorName(op topics.Operator) string { return cmp.Or(op.CommonName, op.LocalName, op.Login) }

// Credentials are what a client presents to sign an operator in: the
// request's headers (single sign-on headers, say), and the address it
// comes from.
type Credentials struct {
	// Header holds the request's headers.
	Header http.Header
	// From is the address the request comes from.
	From netip.Addr
}

// SignInOperator authenticates the operator whose credentials are cr
// through [topics.OperatorAuthenticate]: a listener that recognises them
// fills the operator in. Its payload's Request is a request that carries
// only cr's headers and address. The operator is then stored and online,
// gets a session token, and [topics.OperatorLoggedIn] fires. Without a
// listener that recognises them, or when one refuses, the error is
// [ErrUnauthenticated].
func (s *Service) SignInOperator(ctx context.Context, cr Credentials) (topics.Operator, string, error) {
	r := (&http.Request{Method: http.MethodPost, Header: cr.Header.Clone(), RemoteAddr: addrString(cr.From)}).WithContext(ctx)
	a := &topics.Authentication{Request: r}
	if err := topics.OperatorAuthenticate.Publish(ctx, s.bus, a); err != nil {
		return topics.Operator{}, "", s.refused(ctx, "", ErrUnauthenticated, err)
	}
	switch {
	case a.Operator == nil:
		return topics.Operator{}, "", fmt.Errorf("%w: no listener of %s recognised the operator",
			ErrUnauthenticated, topics.OperatorAuthenticate.Name())
	case a.Operator.Login == "":
		return topics.Operator{}, "", fmt.Errorf("%w: the operator authenticated has no login", ErrUnauthenticated)
	case a.Operator.Disabled:
		return topics.Operator{}, "", fmt.Errorf("%w: operator %q is disabled", ErrForbidden, a.Operator.Login)
	}
	op, err := s.store.SignInOperator(*a.Operator, s.now())
	if err != nil {
		return topics.Operator{}, "", err
	}
	token := rand.Text()
	if err := s.store.AddSession(token, Session{UserID: "operator:" + op.Login, Roles: []string{RoleOperator}, Operator: op.ID}); err != nil {
		return topics.Operator{}, "", err
	}
	e := cloneOperator(op)
	s.reported(ctx, topics.OperatorLoggedIn.Publish(ctx, s.bus, &topics.OperatorLogin{Operator: &e}))
	return op, token, nil
}

// Caller returns the caller whose session token is token.
func (s *Service) Caller(token string) (topics.Caller, bool) {
	sess, ok := s.store.Session(token)
	if !ok {
		return topics.Caller{}, false
	}
	return topics.Caller{UserID: sess.UserID, Token: token, Roles: sess.Roles}, true
}

// JoinThread puts the operator of the session in ctx in charge of thread
// id: [topics.ThreadUpdated] fires, the desk posts a notice, and
// [topics.ChatAgentConnected] fires.
func (s *Service) JoinThread(ctx context.Context, id topics.ThreadID) (topics.Thread, error) {
	op, err := s.requireOperator(ctx)
	if err != nil {
		return topics.Thread{}, err
	}
	now := s.now()
	before, after, ok, err := s.store.UpdateThread(id, func(t *topics.Thread) error {
		if t.State == topics.ThreadStateClosed {
			return fmt.Errorf("thread %d is closed: %w", id, ErrConflict)
		}
		t.State, t.AgentID, t.AgentName, t.Modified = topics.ThreadStateChatting, op.ID, operatorName(op), now
		if t.ChatStarted.IsZero() {
			t.ChatStarted = now
		}
		return nil
	})
	switch {
	case !ok:
		return topics.Thread{}, fmt.Errorf("thread %d: %w", id, ErrNotFound)
	case err != nil:
		return topics.Thread{}, err
	}
	e := after
	s.reported(ctx, topics.ThreadUpdated.Publish(ctx, s.bus, &topics.ThreadUpdate{Thread: &e, Original: &before}))
	var notice *topics.Message
	if m, err := s.post(ctx, after, topics.MessageKindConn, operatorName(op)+" joined the chat", topics.MessageOptions{}); err != nil {
		s.log.WarnContext(ctx, "desk: join notice not posted", "thread", id, "err", err)
	} else {
		notice = &m
	}
	s.reported(ctx, topics.ChatAgentConnected.Publish(ctx, s.bus, &topics.ChatParticipants{
		Thread: id, Message: notice, AgentsConnected: 1,
		Agents: []topics.ChatAgent{{ID: op.ID, Name: operatorName(op), Connected: true}},
	}))
	return after, nil
}

// CloseThread closes thread id, for an operator or the thread's visitor:
// [topics.ThreadClosed] and [topics.ChatEnded] fire.
func (s *Service) CloseThread(ctx context.Context, id topics.ThreadID) (topics.Thread, error) {
	if _, err := s.threadFor(ctx, id); err != nil {
		return topics.Thread{}, err
	}
	now := s.now()
	_, after, ok, err := s.store.UpdateThread(id, func(t *topics.Thread) error {
		if t.State == topics.ThreadStateClosed {
			return fmt.Errorf("thread %d is closed already: %w", id, ErrConflict)
		}
		t.State, t.Modified = topics.ThreadStateClosed, now
		return nil
	})
	switch {
	case !ok:
		return topics.Thread{}, fmt.Errorf("thread %d: %w", id, ErrNotFound)
	case err != nil:
		return topics.Thread{}, err
	}
	e := after
	s.reported(ctx, topics.ThreadClosed.Publish(ctx, s.bus, &topics.ThreadEvent{Thread: &e}))
	s.reported(ctx, topics.ChatEnded.Publish(ctx, s.bus, &topics.ChatEvent{Thread: id, Time: now}))
	return after, nil
}

// CallFunction calls the API function name about thread id, for an
// operator or the thread's visitor, through [topics.ThreadFunctionCall]
// and returns its results; the payload has no Request. A function that no
// listener implements, one that leaves the results empty, is
// [ErrNotFound]; a listener's error is [ErrRejected].
func (s *Service) CallFunction(ctx context.Context, id topics.ThreadID, name string, args map[string]any) (map[string]any, error) {
	if err := CheckName("function", name); err != nil {
		return nil, err
	}
	t, err := s.threadFor(ctx, id)
	if err != nil {
		return nil, err
	}
	if args == nil {
		args = map[string]any{}
	}
	call := &topics.FunctionCall{Thread: &t, Function: name, Arguments: args, Results: map[string]any{}}
	if op, ok := s.operator(ctx); ok {
		call.Operator = &op
	}
	if err := topics.ThreadFunctionCall.Publish(ctx, s.bus, call); err != nil {
		return nil, s.refused(ctx, fmt.Sprintf("function %q", name), ErrRejected, err)
	}
	if len(call.Results) == 0 {
		return nil, fmt.Errorf("function %q: %w", name, ErrNotFound)
	}
	return call.Results, nil
}

// PageAssets returns the CSS and JavaScript assets of the chat page, as
// the listeners of [topics.PageAddCSS] and [topics.PageAddJS] leave them,
// lighter first. The payloads have no Request.
func (s *Service) PageAssets(ctx context.Context) (css, js []topics.Asset, err error) {
	c := &topics.PageAssets{}
	if err := topics.PageAddCSS.Publish(ctx, s.bus, c); err != nil {
		return nil, nil, err
	}
	j := &topics.PageAssets{}
	if err := topics.PageAddJS.Publish(ctx, s.bus, j); err != nil {
		return nil, nil, err
	}
	byWeight := func(a, b topics.Asset) int { return cmp.Compare(a.Weight, b.Weight) }
	slices.SortStableFunc(c.Assets, byWeight)
	slices.SortStableFunc(j.Assets, byWeight)
	return c.Assets, j.Assets, nil
}

// CronResult is what a run of the periodic tasks did.
type CronResult struct {
	// Time is when the run started.
	Time time.Time
	// Counts are the store's statistics, computed before the listeners run.
	Counts map[string]int
	// Errors are the failures of the listeners of [topics.CronRun].
	Errors []string
}

// RunCron runs the periodic tasks, for an operator: the statistics, then
// [topics.CronRun], whose listeners all run even when some fail.
func (s *Service) RunCron(ctx context.Context) (CronResult, error) {
	if _, err := s.requireOperator(ctx); err != nil {
		return CronResult{}, err
	}
	res := CronResult{Time: s.now(), Counts: s.store.Counts()}
	if err := topics.CronRun.Publish(ctx, s.bus, &topics.CronTick{Time: res.Time}); err != nil {
		s.log.WarnContext(ctx, "desk: cron listeners failed", "err", err)
		res.Errors = errorList(err)
	}
	return res, nil
}

// errorList splits a joined error into its messages.
func errorList(err error) []string {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []string
		for _, e := range j.Unwrap() {
			out = append(out, e.Error())
		}
		return out
	}
	return []string{err.Error()}
}

// RequestBan asks for a ban through [topics.ModerationBanRequested], as the
// operator of the session in ctx. The desk's own listener stores the ban
// (see [NewBanListener]); a listener's error keeps it from being stored.
func (s *Service) RequestBan(ctx context.Context, req topics.BanRequest) (topics.Ban, error) {
	op, err := s.requireOperator(ctx)
	if err != nil {
		return topics.Ban{}, err
	}
	if req.UserID == "" && req.Address == "" {
		return topics.Ban{}, fmt.Errorf("%w: user_id or address is required", ErrInvalid)
	}
	if err := errors.Join(CheckName("user_id", string(req.UserID)), CheckText("reason", req.Reason, MaxNameLen)); err != nil {
		return topics.Ban{}, err
	}
	req.By, req.Ban = "operator:"+op.Login, nil
	if err := topics.ModerationBanRequested.Publish(ctx, s.bus, &req); err != nil {
		return topics.Ban{}, s.refused(ctx, "ban", ErrRejected, err)
	}
	if req.Ban == nil {
		return topics.Ban{}, fmt.Errorf("ban %w: no listener stored it", ErrRejected)
	}
	return *req.Ban, nil
}

// Register registers a user through the [topics.UserRegister] hook: its
// before handlers may change the request (add roles, say) or veto it.
func (s *Service) Register(ctx context.Context, req topics.RegisterRequest) (*topics.Account, error) {
	if err := errors.Join(CheckName("login", req.Login), CheckText("email", req.Email, MaxNameLen),
		CheckText("password", req.Password, MaxNameLen)); err != nil {
		return nil, err
	}
	if len(req.Roles) == 0 {
		req.Roles = []string{RoleUser}
	}
	acc, err := topics.UserRegister.Run(ctx, s.bus, &req, func(_ context.Context, req *topics.RegisterRequest) (*topics.Account, error) {
		if req.Login == "" || req.Password == "" {
			return nil, fmt.Errorf("%w: login and password are required", ErrInvalid)
		}
		salt := make([]byte, 16)
		_, _ = rand.Read(salt)
		hash, err := pbkdf2.Key(sha256.New, req.Password, salt, passwordIterations, 32)
		if err != nil {
			return nil, err
		}
		a, ok, err := s.store.AddAccount(topics.Account{Login: req.Login, Email: req.Email, Roles: req.Roles}, salt, hash)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("login %q is taken: %w", req.Login, ErrConflict)
		}
		return &a, nil
	})
	return acc, s.hookError(ctx, err)
}

// Login logs a user in through the [topics.UserLogin] hook, and keeps the
// session its after handlers leave: the token it returns is the bearer
// token of the user's requests.
func (s *Service) Login(ctx context.Context, req topics.LoginRequest) (*topics.Session, error) {
	sess, err := topics.UserLogin.Run(ctx, s.bus, &req, func(_ context.Context, req *topics.LoginRequest) (*topics.Session, error) {
		a, salt, hash, ok := s.store.Account(req.Login)
		if !ok {
			salt = make([]byte, 16) // the same work for a login that does not exist
		}
		got, err := pbkdf2.Key(sha256.New, req.Password, salt, passwordIterations, 32)
		if err != nil {
			return nil, err
		}
		if !ok || subtle.ConstantTimeCompare(got, hash) != 1 {
			return nil, fmt.Errorf("%w: wrong login or password", ErrUnauthenticated)
		}
		return &topics.Session{UserID: a.UserID, Token: rand.Text(), Roles: a.Roles}, nil
	})
	if err != nil {
		return nil, s.hookError(ctx, err)
	}
	if sess == nil || sess.Token == "" {
		return nil, fmt.Errorf("%w: the login gave no session", ErrUnauthenticated)
	}
	if err := s.store.AddSession(sess.Token, Session{UserID: sess.UserID, Roles: slices.DeleteFunc(slices.Clone(sess.Roles),
		func(r string) bool { return r == RoleOperator || r == RoleVisitor })}); err != nil {
		return nil, err
	}
	return sess, nil
}

// PublishMessage publishes a message to a channel through the
// [topics.MessagingPublish] hook, for a caller signed in. The desk knows
// [topics.ChannelOperators], which reaches the operators online, and to
// which any caller signed in may publish, and
// [topics.ChannelAnnouncements], which reaches every visitor, and to which
// only operators may.
func (s *Service) PublishMessage(ctx context.Context, req topics.PublishRequest) (*topics.PublishStatus, error) {
	sess, err := s.requireCaller(ctx)
	if err != nil {
		return nil, err
	}
	if err := errors.Join(CheckName("channel", string(req.Channel)), CheckText("message", req.Message, s.limits.MaxMessageBytes)); err != nil {
		return nil, err
	}
	if req.Channel == topics.ChannelAnnouncements && sess.Operator == 0 {
		return nil, fmt.Errorf("%w: only operators publish announcements", ErrForbidden)
	}
	if req.Headers == nil {
		req.Headers = map[string]string{}
	}
	for k, v := range req.Headers {
		if err := errors.Join(CheckName("header name", k), CheckText("header "+k, v, MaxNameLen)); err != nil {
			return nil, err
		}
	}
	req.Headers["publisher"] = sess.UserID
	st, err := topics.MessagingPublish.Run(ctx, s.bus, &req, func(_ context.Context, req *topics.PublishRequest) (*topics.PublishStatus, error) {
		var delivered int
		switch req.Channel {
		case topics.ChannelOperators:
			delivered = s.store.OperatorsOnline()
		case topics.ChannelAnnouncements:
			delivered = s.store.VisitorCount()
		default:
			return nil, fmt.Errorf("channel %q: %w", req.Channel, ErrNotFound)
		}
		if req.Message == "" {
			return nil, fmt.Errorf("%w: message is required", ErrInvalid)
		}
		id, err := s.store.Publish(req.Channel, req.Message)
		if err != nil {
			return nil, err
		}
		return &topics.PublishStatus{MessageID: id, Delivered: delivered}, nil
	})
	return st, s.hookError(ctx, err)
}

// Limits returns the limits within which the service works.
func (s *Service) Limits() Limits { return s.limits }
