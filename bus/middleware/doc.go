// Package middleware has the [bus.Middleware] that users of router
// middleware (watermill, chi) expect on day one: [Timeout] bounds a
// handler call, [Retry] calls a failing handler again with jittered
// exponential backoff, and [Recover] logs a handler's panic.
//
// Install them for the whole bus when it is built, or at run time with
// [bus.Bus.Use]; [ForModule] and [ForTopic] scope middleware to the
// listeners of one module or the handlers of one topic, and [bus.Wrap]
// gives one listener middleware of its own:
//
//	b, err := bus.New(listeners, bus.WithMiddleware(
//		middleware.Recover(log),
//		middleware.Timeout(2*time.Second),
//		middleware.ForModule("mailer", middleware.Retry(middleware.RetryPolicy{Attempts: 5})),
//	))
//
// The first middleware given is the outermost: above, Recover sees a panic
// of the handler and of every middleware inside it.
//
// Handlers run synchronously in the publisher's goroutine, so a retry or a
// backoff delays the publish, and a timeout only ends a handler that
// honours its context: these are for handlers that call out (a mail
// server, a webhook), not for the bus's in-process work.
package middleware
