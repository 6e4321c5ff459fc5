// Package hook wraps an operation in events: a before topic, whose handlers
// may change the request or veto the call, and an after topic, whose
// handlers may change the result or the error. It is the shape of
// Backendless's event handlers, built on package bus.
//
//	var Publish = hook.New[PublishReq, PublishRes]("messaging.publish")
//
//	bus.On(Publish.Before(), checkQuota)          // may veto with an error
//	bus.On(Publish.After(), auditResult)          // may change Res or Err
//
//	res, err := Publish.Run(ctx, b, req, messaging.Publish)
//
// Both stages are ordinary topics: their handlers are ordinary listeners,
// with ranks, filters (a handler scoped to an asset, a channel or a table,
// is a [bus.Topic.When]), sources and owners; and a module that runs a hook
// declares so with bus.Publishes(h.Before(), h.After()). The caller's
// identity travels in ctx, under the application's own key, to every
// handler and to the operation.
//
// # Telemetry
//
// With tracing on, [Hook.Run] opens a span "hook <name>" with, inside it,
// the publish spans of both stages and a span "run <name>" around the
// operation; both carry fxbus.hook.name, and the operation's span
// fxbus.hook.stage "operation".
package hook
