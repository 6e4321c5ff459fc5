// Package fxbus is a code-first, typed event bus for Go, built on generics
// and uber's fx.
//
// Everything a program uses lives in package [github.com/fxbus/fxbus/bus]:
// typed topics, listeners with ranks, the bus, runtime subscriptions and the
// fx glue. This root package holds the end-to-end tests of the reference
// service in ./app.
package fxbus
