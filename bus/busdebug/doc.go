// Package busdebug serves a read-only debug page for a running [bus.Bus],
// in the spirit of tailscale's /debug/bus and Symfony's profiler: mount the
// [Handler] that [New] returns, behind the service's own authentication,
// and look at the bus while it runs.
//
//	h := busdebug.New(b, busdebug.WithPrefix("/debug/fxbus"),
//		busdebug.WithTraceURL("http://jaeger:16686/trace/{trace_id}"))
//	mux.Handle("/debug/fxbus/", operatorsOnly(h))
//
// # Pages
//
//   - The catalogue (the prefix itself): topics grouped by area, each with
//     its description, its payload's fields with their docs, its error
//     policy and requirement, its listeners in dispatch order (rank, module
//     or plugin, source), its runtime subscriptions and its publishers, and
//     what crosses the process's edge (exported and imported topics). It is
//     plain HTML: it works without JavaScript.
//   - The graph (graph): modules → topics → listeners, as an SVG laid out
//     in Go and inlined in the page; nothing is installed on the server or
//     the viewer's machine.
//   - The monitor (monitor): publishes as they happen, streamed with
//     server-sent events (events), each with its handlers in dispatch
//     order, their durations and outcomes (ok, error and its type, stopped,
//     panic, filtered out), publishes made by a handler nested under it, and
//     the trace id, linked to the tracing UI when [WithTraceURL] is given.
//     Filter by topic, pause and clear in the page.
//   - Statistics (stats): per handler, calls, errors, p50 and p99 since
//     start, from the source given with [WithStats].
//
// # Costs and limits
//
// The monitor taps the bus only while a viewer is connected: with nobody
// watching, a publish costs what it costs without this package. Memory is
// bounded: the last publishes are kept in a ring buffer, a publish keeps
// at most a fixed number of handler calls, and a viewer that reads too
// slowly loses publishes (counted, and shown to it) rather than slowing a
// publisher down.
//
// # Privacy
//
// No payload content is shown unless the topic opted in, by the same rule
// as spans: the monitor sees what [bus.Tap] reports, topics, listeners,
// timings and outcomes, and, for a topic declared with
// [bus.Topic.SpanAttributes], the attributes its function picks from the
// payload ([bus.PublishEvent.Attributes], at most 32, each value cut at
// 256 bytes), shown under the topic's name. Of any other topic, nothing
// of the payload reaches the page. An error shows its class, error.type as spans record it,
// and its text only as [WithErrorText] allows, so that a service that
// redacts its spans (bus.WithErrorRedaction) redacts this page alike.
//
// The handler serves GET and HEAD only, sets a strict
// Content-Security-Policy (its script and style come from the handler
// itself), and has no authentication of its own: mount it behind the
// service's.
package busdebug
