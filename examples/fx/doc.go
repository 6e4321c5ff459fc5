// Command fx is fxbus in an fx app: modules contribute listeners with
// bus.Listen, bus.Module installs them in the bus during fx.New, and a
// listener calls a service (the mailer) that takes the *bus.Bus and
// publishes a follow-up event through it. Last, it shows how fx.New fails
// when a dependency is missing.
//
//	go run ./examples/fx
package main
