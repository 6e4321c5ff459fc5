// Package bus is a typed, in-process, synchronous event bus.
//
// Every event is a [Topic] with a payload type. A misspelt topic or a wrong
// payload is a compile error; at run time nothing is looked up by a string.
//
//	var UserCreated = bus.NewTopic[UserCreatedEvent]("user.created",
//		bus.Description("fires after a user has been stored"))
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
// A handler may publish; the nested publish runs to completion first. The
// bus counts the nesting through the context it hands to handlers: a
// publish made with a handler's context (or one derived from it) nests in
// that handler's publish while it runs, and a chain deeper than
// [WithMaxDepth] fails with a [*DepthError] naming the topics, instead of
// overflowing the stack. A publish made with a context that does not come
// from a running handler, such as context.Background() or a context kept
// after its handler returned, starts a new chain: a recursion through such
// contexts is not bounded by the bus.
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
// [New] validates everything at once and reports every mistake, each a
// [*WiringError] naming the topic, the listener and the file:line that
// declared it: a nil handler or topic, a violated [Requirement], a
// mismatched option.
//
// # Runtime subscriptions
//
// [Topic.Subscribe] adds a handler to a running bus; [Subscription.Close]
// removes it. Both apply from the next publish: a publish already running
// keeps the handlers it started with and is never blocked by them, and both
// are safe from inside handlers.
//
// # With fx
//
// [Module] provides the bus and installs, during fx.New, the listeners that
// modules contribute with [Listen] (or hand-written providers into the
// value group [Group]), so a wiring mistake fails fx.New with the topic,
// the listener and its file:line. A listener's constructor takes its
// dependencies from the container, the *[Bus] or a service that publishes
// through it included; [Publishes] declares what a module publishes.
//
// # Beyond plain topics
//
// The five event systems fxbus was designed against need a few more
// shapes, all typed. The core has what they share:
//
//   - [Topic.PublishFrom] carries a source value; a listener with
//     [FromSource] hears only sources assignable to its type, so a listener
//     on an interface hears every type that implements it (iTop).
//   - [Topic.When] filters a listener by its payload. A listener scoped to
//     an asset, a channel or a table, is a When that compares the payload's
//     asset with the one it serves (Backendless).
//   - [OwnedBy] makes a runtime subscription an [Owner]'s: attributed to it
//     in traces and catalogues, and ended with the others it owns.
//   - the caller's identity travels in the context, under the application's
//     own key, to every handler and nested publish (Backendless).
//
// Filters run before a handler's span starts, so a handler filtered out
// costs no span. Small packages build the rest on the core:
// [github.com/fxbus/fxbus/bus/hook] wraps an operation in a before and an
// after topic (Backendless), [github.com/fxbus/fxbus/bus/rules] filters
// listeners through include or exclude rules edited by id at run time
// (plugin filter rules), and [github.com/fxbus/fxbus/bus/plugin] registers
// named plugins whose subscriptions go together (Genesys). They use
// [Bus.StartSpan] to trace their own calls beside the bus's spans.
//
// # What users of other buses reach for
//
// [OnAll] and [OnImplementing] (or [SubscribeAll] and
// [SubscribeImplementing] at run time) hear every topic, or every topic
// whose payload implements an interface, in an [Envelope]. [Once] runs a
// listener for one publish. [Subscription.CloseWait] (and
// bus/plugin's UnregisterWait) wait for the running calls of an [Awaited]
// subscription; [Subscription.Done] and [Bus.Done] (and a plugin's Done)
// tell when they are over. [Middleware] wraps handlers: for the
// bus at [New] ([WithMiddleware]; package
// [github.com/fxbus/fxbus/bus/middleware] scopes it to a module or a
// topic), for one listener ([Wrap]), or at run time with [Bus.Use]; package
// [github.com/fxbus/fxbus/bus/unit] holds a listener until the unit of
// work of the publish's context commits. [TopicOf] and [DepthOf] tell a handler where it is. [Bus.Tap]
// shows every publish and handler call to a [Tap] while installed. None of
// these costs a publish anything unless used.
//
// # Seeing the wiring
//
// [Bus.Catalog] lists every topic the bus knows, with its payload's
// fields, its listeners in dispatch order and its declared publishers;
// package [github.com/fxbus/fxbus/bus/busdoc] renders it as Markdown, a
// dispatch table or a graph. [WithPublisher] (or [Publishes]) declares who
// publishes a topic, and [New] reports topics published without a listener
// or listened to without a publisher ([WithLogger], [WithStrictWiring]).
//
// # Telemetry
//
// With [WithTracerProvider], each publish opens a span "publish <topic>" and
// each handler a child span "<listener> <topic>", with OpenTelemetry
// messaging attributes and the listener's rank and source. With
// [WithMeterProvider], handler durations go to the messaging.process.duration
// histogram. A failure records error.type, its class: a low-cardinality
// name under which failures group, never the error's free text. First
// match wins: an error in the chain with an ErrorType() string method (the
// OpenTelemetry Go convention; a panic is "panic"); a done context,
// "context.Canceled" or "context.DeadlineExceeded"; past the wrappers of
// fmt.Errorf, errors.Join and fxbus, the innermost error of a named type of
// its own, "<import path>.T"; a wrapped sentinel, by its own text; else
// "_OTHER". [WithErrorRedaction] decides what spans record of the text.
// Without a provider, or with a no-op one, the bus makes no
// OpenTelemetry call at all, and a publish with a long-lived context
// allocates nothing (a fresh context costs one small allocation: see
// [Topic.Publish]).
package bus
