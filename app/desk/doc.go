// Package desk is the reference service of fxbus: a customer-support chat
// desk that unites the five seed systems' domains. Visitors, threads and
// messages, operators, bans and invitations (Mibew); tickets and documents
// (iTop); API calls wrapped in before/after hooks (Backendless); a chat
// widget service publishing its lifecycle (Genesys); plugins with filter
// rules.
//
// The service keeps its data in memory, serves a JSON HTTP API, and talks to
// its modules only through the typed topics of package topics. Its
// telemetry (tracer and meter providers, the in-memory span store and the
// summary read back from it) is package app/telemetry, not the domain's.
//
// # The service
//
// [Service] holds the domain's operations. Each updates the [Store] and
// publishes the topics at the moments their documentation says: a message
// goes through the alter event topics.ThreadMessagePosting before it is
// stored, as its listeners left it; an operator is whoever a listener of
// topics.OperatorAuthenticate recognises; tickets and documents are created
// and updated inside the data hooks, then published with themselves as
// the source, so that listeners on topics.Ticket hear every ticket. A
// listener that decides (an alter event, authentication, a function call,
// a hook's before stage) can refuse; the failures of listeners of events
// that report what happened are logged and undo nothing.
//
// The desk listens too: [NewBanListener], on topics.ModerationBanRequested,
// stores the ban a moderator asks for and publishes topics.BanCreated. A
// banned visitor can neither post nor start a chat.
//
// # Who may do what
//
// The caller's identity comes from ctx (topics.CallerFrom), where the HTTP API
// puts the session of a bearer token. A visitor gets its session when it
// is first tracked ([Service.TrackVisitor]) and may act on and read only
// its own threads; an operator signs in through [Service.SignInOperator]
// and may do everything; a registered user may publish to the operators'
// channel. Listings, tickets, documents, bans, cron and announcements are
// for operators. An anonymous caller gets [ErrUnauthenticated], another
// caller [ErrForbidden]. Addresses come from the connection
// ([Arrival.IP], [ChatRequest.From], [Post.From]): a ban on an address
// keeps a banned visitor out under a new id.
//
// # Limits
//
// The [Store] holds at most [Limits.MaxStoreBytes] of content and
// [Limits.MaxRecords] records of each kind; beyond, [ErrFull]. Messages,
// documents, names and texts are bounded ([CheckName], [CheckText]: no
// NUL, no bidirectional overrides, valid UTF-8), and every listing is a
// [Page] after a cursor.
//
// # With fx
//
// [Module] provides the domain; package httpapi serves it over HTTP, and
// package demo drives it through its scenario. The app's main wires them
// with the modules of modules/ and bus.Module; see app/wiring.go.
package desk
