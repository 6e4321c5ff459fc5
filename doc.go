// Package fxbus is a code-first, typed event bus for Go, built on generics
// and uber's fx.
//
// The core a program uses lives in package [github.com/fxbus/fxbus/bus]:
// typed topics, listeners with ranks, the bus, runtime subscriptions,
// middleware and the fx glue. Small packages below it build on its public
// API: bus/unit (listeners held until a unit of work commits),
// bus/middleware (Timeout, Retry, Recover, and scoping to a module or a
// topic), bus/hook, bus/rules and bus/plugin, bus/bustest for tests,
// bus/busdoc and bus/busdebug to see the wiring and the traffic. This root
// package holds the end-to-end tests of the reference service in ./app.
package fxbus
