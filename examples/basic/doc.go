// Command basic is fxbus without fx: declare a topic, bind ranked listeners
// with bus.On, build the bus with bus.New and publish. It shows an "alter"
// event (a handler edits the payload), bus.ErrStop and a *bus.HandlerError.
//
//	go run ./examples/basic
package main
