// Command hooks wraps an operation in a Backendless-style hook: "before"
// handlers may change the request or veto the call, the operation runs,
// "after" handlers may change the result. Handlers scope themselves to one
// channel with a When on the channel, and read who is calling from the context.
//
//	go run ./examples/hooks
package main
