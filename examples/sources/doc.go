// Command sources fires events with a source object, iTop style: a
// listener on a source type hears the events fired by that type and by
// every type below it. In Go, "below" means "assignable to": a listener on
// the interface Ticket hears *UserRequest and *Incident.
//
//	go run ./examples/sources
package main
