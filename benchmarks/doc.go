// Package benchmarks compares fxbus with a plain loop over handlers and with
// peer event libraries. It is a module of its own, so that no peer ever
// enters the go.mod or go.sum of github.com/fxbus/fxbus; the replace
// directive in its go.mod points it at the library in the parent directory.
//
// Everything lives in _test.go files; this file only documents the package.
// Run it all, summarised into RESULTS.md, with
//
//	./run.sh                        # COUNT=6 BENCHTIME=1s by default
//	COUNT=10 BENCHTIME=1s ./run.sh
//
// or a part of it with go test, for example
//
//	go test -run '^$' -bench 'Sync/lib=(plain|fxbus)/' -benchmem -benchtime 200ms
//
// # Groups
//
// Benchmark names are key=value paths, so that benchstat can project them
// (benchstat -col /lib):
//
//   - BenchmarkSync/lib=L/handlers=N: a synchronous publish of a small struct
//     to N handlers that each add one to a counter in the payload. lib=plain
//     is the floor: a loop over []func(context.Context, *T) error.
//   - BenchmarkContext/ctx=C/lib=L/handlers=10: the plain loop and fxbus
//     with a deep, cancellable context and with a new context per publish,
//     which context.Background hides.
//   - BenchmarkAsync/lib=L/handlers=N: asynchronous libraries measured end to
//     end (publish b.N events, wait for b.N*N deliveries). Not comparable
//     with the synchronous rows.
//   - BenchmarkTracing/mode=M/impl=I/handlers=N: fxbus with the OpenTelemetry
//     SDK (no exporter) against the same spans started and ended by hand.
//   - BenchmarkBusNew/listeners=N: bus.New alone.
//   - BenchmarkStartup/kind=K/listeners=N: fx.New of an app whose listeners
//     come from bus.Listen, against N plain values in an fx value group.
//
// Every benchmark checks once, before the timer starts, that each handler
// ran (a benchmark that silently delivers nothing measures nothing), and
// the synchronous ones check again after the timed loop that every
// iteration delivered to every handler.
//
// # Binary size
//
// What a payload type costs a program's binary is measured by a command,
// not a benchmark, because it builds programs (about a minute):
//
//	go run ./cmd/binsize          # n=20 and 40 payload types
//	go run ./cmd/binsize -nm      # and the symbols one payload type adds
//
// It writes two programs, with n and 2n payload types, each type with a
// topic, a bus.On listener given to bus.New, a bus.Listen in an fx app, a
// Subscribe and a Publish; builds each with and without -ldflags='-s -w';
// and prints (size(2n)-size(n))/n, for payload structs of distinct layouts
// (the compiler instantiates generic code once per layout) and of one
// layout (shared instantiations).
package benchmarks
