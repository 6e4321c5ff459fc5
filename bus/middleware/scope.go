package middleware

import (
	"context"
	"fmt"

	"github.com/fxbus/fxbus/bus"
)

// ForModule applies mws, the first given outermost, to the handlers of
// the listeners of one module only: those whose [bus.ListenerInfo.Module]
// is module (see [bus.InModule]; [bus.Listen] sets it to the calling
// package's name). Other handlers run as if it were not there. An empty
// module matches no listener.
//
//	bus.WithMiddleware(middleware.ForModule("mailer", middleware.Retry(policy)))
func ForModule(module string, mws ...bus.Middleware) bus.Middleware {
	return scoped(func(env bus.Envelope) bool { return module != "" && env.Listener().Module == module }, mws)
}

// ForTopic applies mws, the first given outermost, to the handlers of
// topic t only. Other handlers run as if it were not there. A middleware
// gets t's payload back typed with [bus.PayloadOf]. A nil t matches no
// handler, as an empty module does for [ForModule]; a nil middleware in
// mws, of either, is skipped.
func ForTopic(t bus.AnyTopic, mws ...bus.Middleware) bus.Middleware {
	return scoped(func(env bus.Envelope) bool { return t != nil && env.Topic == t }, mws)
}

// scoped returns a middleware that runs a handler inside mws when match
// says the envelope is theirs, and as it is otherwise.
func scoped(match func(bus.Envelope) bool, mws []bus.Middleware) bus.Middleware {
	return func(next bus.Handler) bus.Handler {
		inner := next
		for i := len(mws) - 1; i >= 0; i-- {
			if mws[i] == nil {
				continue
			}
			if inner = mws[i](inner); inner == nil {
				inner = func(context.Context, bus.Envelope) error {
					return fmt.Errorf("middleware #%d returned a nil handler", i)
				}
			}
		}
		return func(ctx context.Context, env bus.Envelope) error {
			if match(env) {
				return inner(ctx, env)
			}
			return next(ctx, env)
		}
	}
}
