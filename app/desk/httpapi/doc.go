// Package httpapi serves the desk's [desk.Service] as a JSON HTTP API:
// [API] has the routes, [Server] listens with bounded timeouts, and
// [Serve] hooks the server to the app's lifecycle after every module.
//
// # Routes and who may call them
//
// Every route declares its [Access], checked before its handler reads
// anything: an anonymous caller, or one with a token the desk does not
// know, gets a 401 (with WWW-Authenticate: Bearer), a caller whose role
// the route does not admit a 403, and a visitor another visitor's thread
// a 403; none gets any data. GET /openapi.json serves the OpenAPI 3.1
// document of every route ([API.OpenAPI]), with bodies and who may call.
//
//	GET   /healthz, /openapi.json, /page/assets, /chat          anyone
//	POST  /visitors                      anyone: 201 and the visitor's token; a known visitor, with its token: 200
//	POST  /operators/login               anyone: single sign-on headers → 200 token, 401
//	POST  /users/register, /users/login  anyone
//	POST  /threads                       a visitor: its chat; 403 when banned
//	GET   /threads/{id}, /threads/{id}/messages                 an operator, or the thread's visitor
//	POST  /threads/{id}/messages, /close, /functions/{name}     an operator, or the thread's visitor
//	POST  /threads/{id}/join             an operator
//	GET   /visitors, /threads, /operators, /bans, /tickets      an operator; pages: ?after=<cursor>&limit=
//	POST  /bans, /tickets, /documents, /cron; PATCH /tickets/{id}; GET /tickets/{id}, /documents/{id}[/download]
//	                                     an operator
//	POST  /channels/{channel}/messages   any caller signed in; announcements: an operator
//	GET   /debug/fxbus/...               an operator: the bus's live debug page ([NewDebug]); a browser, the login form
//	GET, POST /debug/fxbus/login; POST /debug/fxbus/logout      anyone: the debug page's browser login
//
// Errors are {"error": "..."} with their status ([StatusOf]): 400 invalid,
// 401, 403, 404, 405 with Allow for a method the path does not serve, 409,
// 413 for a body beyond desk.Limits.MaxBodyBytes, 422 refused by a
// listener, 429 too many login attempts, 507 when the store is full.
// Listings answer [ListJSON]: the items and the cursor of the next page.
//
// # The debug page in a browser
//
// A browser sends no bearer header, so the debug page has a login form of
// its own: an anonymous browser (one that accepts text/html) opening
// /debug/fxbus/ gets the form (with a 401; other clients get the JSON
// 401), which POSTs the operator's bearer token to /debug/fxbus/login.
// The desk answers an operator's token with a session cookie and a
// redirect to the page. The cookie holds a random id, and is HttpOnly,
// SameSite=Strict, Path=/debug/fxbus, lasts [DebugSessionTTL], and is
// Secure over TLS, or behind one of desk.Config.TrustedProxies whose
// X-Forwarded-Proto says https. The token stays on the server, in a
// bounded store of sessions. The cookie is honoured only by the debug
// page's GET routes, and only while the operator's token is valid; POST
// /debug/fxbus/logout ends the session. Login and logout accept only a
// form from the desk's own pages (Sec-Fetch-Site: same-origin, or the
// desk's Origin), and login attempts are limited per client address, an
// IPv6 one by its /64 (10 a minute; then 429 with Retry-After). A visitor's or a user's token
// gets a 403: the page is for operators only. Nothing of a token is
// logged.
//
// # The client's address
//
// The address of a visitor, and the one bans are checked against, is the
// connection's peer ([API.ClientAddr]); behind a reverse proxy, set
// desk.Config.TrustedProxies and ClientAddrHeader ("X-Forwarded-For"): the
// right-most address of the header that is not a trusted proxy is the
// client's. An address in a body is refused.
//
// # Downloads
//
// A document is served as an attachment, with X-Content-Type-Options:
// nosniff (on every answer) and the Content-Security-Policy
// [DownloadCSP] ("default-src 'none'; sandbox"); ?disposition=inline is
// accepted only for the types of [InlineTypes], which cannot run script.
//
// # Timeouts
//
// The [Server] sets ReadHeaderTimeout, ReadTimeout, WriteTimeout,
// IdleTimeout and MaxHeaderBytes from desk.Config.Timeouts
// (desk.DefaultTimeouts: 5 s, 15 s, 30 s, 60 s, 64 KiB): a client that
// trickles its headers or body, or idles on a keep-alive connection, is
// cut off.
package httpapi
