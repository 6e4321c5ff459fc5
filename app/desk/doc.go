// Package desk is the reference service of fxbus: a customer-support chat
// desk that unites the five seed systems' domains. Visitors, threads and
// messages, operators, bans and invitations (Mibew); tickets and documents
// (iTop); API calls wrapped in before/after hooks (Backendless); a chat
// widget service publishing its lifecycle (Genesys); plugins with filter
// rules.
//
// The service keeps its data in memory, serves a JSON HTTP API, and talks to
// its modules only through the typed topics of package topics. Its traces go
// to the exporter the standard OTEL_* variables choose, and always to an
// in-memory [SpanStore] from which [Summarize] reads back, per topic and per
// handler, calls, errors and latency.
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
// # The HTTP API
//
// [API] serves JSON; every error is {"error": "..."} with its status
// ([StatusOf]). A bearer token from a login puts its caller in the
// request's context ([topics.WithCaller]), where listeners find it.
//
//	GET   /healthz                          200 {"status":"ok"}
//	POST  /visitors                         a visitor arrives: 201 new, 200 known
//	GET   /visitors
//	POST  /threads                          a chat starts: 201, 403 when banned
//	GET   /threads, /threads/{id}
//	POST  /threads/{id}/messages            201 the message as stored; 403 banned, 422 refused
//	GET   /threads/{id}/messages
//	POST  /threads/{id}/join                an operator joins (operator's token)
//	POST  /threads/{id}/close
//	POST  /threads/{id}/functions/{name}    200 the results; 404 when no listener implements it
//	POST  /operators/login                  single sign-on: 200 operator and token, 401
//	GET   /operators
//	GET   /bans; POST /bans                 list; ask for a ban (operator's token)
//	POST  /tickets; GET /tickets, /tickets/{id}; PATCH /tickets/{id}
//	POST  /documents; GET /documents/{id}, /documents/{id}/download
//	GET   /page/assets, /chat               the chat page's CSS and JS, as JSON or HTML
//	POST  /cron
//	POST  /users/register, /users/login     201 account; 200 token, 401
//	POST  /channels/{channel}/messages      201 message id and deliveries
//
// Listeners of topics.RoutingAlter may add, replace or remove routes; a
// request no route matches goes to topics.ResourceNotFound's listeners,
// then gets a 404.
//
// # With fx
//
// [Module] provides all of it, with bus.Module and the HTTP [Server],
// which listens on [Config.Addr] while the app runs. The app adds the
// modules of modules/ next to it; see app/main.go.
//
// # The scenario
//
// [RunScenario] drives a running desk through its HTTP API, step by step,
// as `go run ./app` shows: visitors, single sign-on, chats, abuse and a
// ban, tickets, a document, API functions, users, messaging and cron.
// [WebhookReceiver] is the local endpoint the demo's webhook plugin posts
// to.
package desk
