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
package desk
