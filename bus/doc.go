// Package bus is a typed, in-process, synchronous event bus.
//
// Every event is a [Topic] with a payload type. A misspelt topic or a wrong
// payload is a compile error; at run time nothing is looked up by a string.
//
//	var UserCreated = bus.NewTopic[UserCreatedEvent]("user.created",
//		bus.WithDescription("fires after a user has been stored"))
//
//	b, err := bus.New([]bus.Listener{
//		bus.On(UserCreated, sendWelcome, bus.Rank(-10)),
//		bus.On(UserCreated, audit.OnCreate),
//	}, bus.WithTracerProvider(tp))
//
//	err = UserCreated.Publish(ctx, b, &UserCreatedEvent{ID: id})
//
// # Dispatch
//
// [Topic.Publish] runs the topic's handlers in the publisher's goroutine, in
// ascending [Rank]; equal ranks run in the order their [On] (or [Listen], or
// [Topic.Subscribe]) calls were made, never in the order of a slice or an fx
// value group. Every handler gets the same payload pointer, so a handler sees
// what earlier ones changed: that is how "alter" events and results work.
//
// A handler may publish; the nested publish runs to completion first. A
// chain deeper than [WithMaxDepth] fails with a [*DepthError] naming the
// topics, instead of overflowing the stack.
//
// # Errors
//
// A topic's [ErrorPolicy] decides: [StopOnError] (the default) returns the
// first failure, [RunAll] runs every handler and joins the failures. Each
// failure is a [*HandlerError] naming the topic, the listener and its
// source. A handler that returns [ErrStop] ends dispatch without failure. A
// handler panic never crashes the publisher: it becomes a [*PanicError]
// inside a [*HandlerError], with the stack. A context that is done stops
// dispatch before the next handler.
//
// [New] validates everything at once and fails with [*WiringError]s naming
// the topic, the listener and the file:line that declared it: a nil handler
// or topic, a violated [Requirement], a mismatched option.
//
// # Runtime subscriptions
//
// [Topic.Subscribe] adds a handler to a running bus; [Subscription.Close]
// removes it. Both swap a copy-on-write snapshot: a publish already running
// is never disturbed or blocked, and they are safe from inside handlers.
//
// # Telemetry
//
// With [WithTracerProvider], each publish opens a span "publish <topic>" and
// each handler a child span "process <topic> <listener>", with OpenTelemetry
// messaging attributes and the listener's rank and source. With
// [WithMeterProvider], handler durations go to the messaging.process.duration
// histogram. Without a provider, or with a no-op one, the bus makes no
// OpenTelemetry call at all, and a publish allocates nothing.
package bus
