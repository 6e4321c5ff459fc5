// Command otlp sends the bus's spans to an OpenTelemetry collector (Jaeger,
// Tempo, the OpenTelemetry Collector...) over OTLP/HTTP. The exporter reads
// the standard variables itself:
//
//	OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 go run ./examples/otlp
//
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, _HEADERS, _COMPRESSION=gzip and the
// others work too. Without an endpoint, it prints the spans to stdout.
//
// Each publish is a span "publish invoice.paid", with a child span per
// handler, "<listener> invoice.paid", carrying the listener's name,
// rank and source; a failed handler's span has status Error and error.type.
package main
