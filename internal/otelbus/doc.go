// Package otelbus holds the OpenTelemetry instrumentation of package bus:
// span names, attribute keys, the process-duration histogram, and the
// decision, taken once when a bus is built, of whether to instrument at all.
//
// Everything that can be computed before the first publish is computed in
// [NewListener], [NewTopic] and [Topic.Publish]: span names,
// start options and metric record options. The per-publish functions only start and
// end spans and record durations.
//
// The names and attributes are the conventions documented in the fxbus
// README ("Telemetry"); tests in package bus pin them.
package otelbus
