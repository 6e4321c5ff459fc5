// Command fx is fxbus in an fx app: modules contribute listeners with
// bus.Listen, bus.Module builds the bus during fx.New, and a listener
// publishes a follow-up event through a *bus.Publisher. Last, it shows how
// fx.New fails when a listener's dependency is missing.
//
//	go run ./examples/fx
package main
