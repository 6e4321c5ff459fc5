// Package telemetry is the reference app's OpenTelemetry wiring and the
// demo's reading of it: [Module] provides the SDK tracer and meter
// providers ([Telemetry]), which export where the standard OTEL_*
// variables say and always keep spans in memory, in a [SpanStore]; it
// makes the bus record errors by class only. [WithRoute] and
// [PublicEndpoint] are what the HTTP API adds to otelhttp's server spans,
// and [TraceIDOf] reads the trace id a desk answered with.
//
// [Summarize] and [PrintSummary] read the fxbus spans back, per topic and
// per handler, calls, errors and latency; [TraceSteps] and [PrintSteps]
// link each [Step] of a scripted run to the topics its request fired.
//
// It is no part of the desk's domain (package desk): the app's main gives
// [Module] next to bus.Module.
package telemetry
