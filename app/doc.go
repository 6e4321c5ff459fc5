// Command app is fxbus's reference service: a customer-support chat desk
// (package desk) with the modules of modules/.
//
//	go run ./app                              the demo: start the desk on a free loopback port,
//	                                          run the scenario through its HTTP API, stop it,
//	                                          and print what the traces recorded
//	go run ./app serve [-addr 127.0.0.1:8080] serve until interrupted (SIGINT, SIGTERM)
//	go run ./app catalog [-format markdown|json]
//	                                          the catalogue of topics: when each fires, its payload,
//	                                          its publishers and listeners
//	go run ./app listeners [topic]            the dispatch table: each topic's listeners in order
//	go run ./app graph [-format dot|mermaid] [-wired] [-areas]
//	                                          the graph modules -> topics -> listeners
//
// The wiring commands (catalog, listeners, graph) build the app as the
// demo does, start it so that its plugins subscribe, read the bus's
// catalogue and stop it; nothing is published. Topics of package topics
// that nothing publishes or hears are listed too.
//
// Traces go where OTEL_TRACES_EXPORTER and OTEL_EXPORTER_OTLP_ENDPOINT say,
// and always to memory, for the summary.
package main
