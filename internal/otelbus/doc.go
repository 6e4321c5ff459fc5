// Package otelbus holds the OpenTelemetry instrumentation of package bus:
// span names, attribute keys, the process-duration histogram, and the
// decision, taken once when a bus is built, of whether to instrument at all.
//
// Span names, start options and metric record options are computed once,
// never per publish: per topic by [NewTopic] and [Topic.Publish], and per
// listener, from the [ListenerSpec] given to [NewListener], by the first
// span or measurement that needs them. The per-publish functions only start
// and end spans and record durations.
//
// The names and attributes are the conventions documented in the fxbus
// README ("Telemetry"); tests in package bus pin them.
package otelbus
