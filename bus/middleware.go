package bus

import (
	"context"
	"fmt"
	"slices"
	"unsafe"
)

// Middleware wraps handlers, as watermill's router middleware does: it
// gets the next handler and returns the one to call instead, which may run
// code before and after next, change the context, retry, or not call next
// at all. Package [github.com/fxbus/fxbus/bus/middleware] has timeouts,
// retries, recover-and-log, and middleware scoped to a module or a topic.
//
// A middleware is called once per handler, when the bus sets the handler
// up (at New, at a subscription, at Use), never per publish; the handler it returns is called per publish, with an
// [Envelope] that names the topic and (through [Envelope.Listener]) the
// listener, and holds the payload. A bus without middleware calls its
// handlers directly: middleware costs nothing unless installed.
//
// The handlers wrapped are those of the listeners, inside their spans:
// a listener's span covers its middleware, and filters ([Topic.When] and
// the like) run before either.
type Middleware func(next Handler) Handler

// WithMiddleware wraps every handler of the bus, runtime subscriptions
// included, in mws: the first given is the outermost. Package
// [github.com/fxbus/fxbus/bus/middleware] scopes middleware to a module or
// a topic; [Wrap] gives a listener middleware of its own. A nil
// middleware makes New fail.
func WithMiddleware(mws ...Middleware) Option {
	return optionFunc(func(c *config) { c.mw = append(c.mw, mws...) })
}

// nilMiddleware returns the index of the first nil middleware of mws, or -1.
func nilMiddleware(mws []Middleware) int {
	return slices.IndexFunc(mws, func(mw Middleware) bool { return mw == nil })
}

// adapt wraps the typed handler fn of listener l of topic t on bus b in
// mws, the first outermost.
func adapt(b *Bus, t topicCore, l *listener, fn func(context.Context, unsafe.Pointer) error, mws []Middleware) func(context.Context, unsafe.Pointer) error {
	if len(mws) == 0 {
		return fn
	}
	var h Handler = func(ctx context.Context, env Envelope) error {
		e, ok := t.unbox(env.Payload)
		if !ok {
			return fmt.Errorf("a middleware passed on a payload of type %T, not the topic's *%s", env.Payload, t.state().payload)
		}
		return fn(ctx, e)
	}
	for i := len(mws) - 1; i >= 0; i-- {
		if mws[i] == nil {
			continue
		}
		if h = mws[i](h); h == nil {
			n := i
			h = func(context.Context, Envelope) error { return fmt.Errorf("middleware #%d returned a nil handler", n) }
		}
	}
	return func(ctx context.Context, e unsafe.Pointer) error {
		return h(ctx, Envelope{Topic: t, Payload: t.box(e), Bus: b, l: l})
	}
}

// Wrap wraps the listener's handler in mws, the first given outermost:
// middleware for one listener, as [WithMiddleware] is for every listener
// of the bus. It runs outside the middleware given to [New], and inside
// that installed with [Bus.Use]; a middleware that holds the call for
// later (package [github.com/fxbus/fxbus/bus/unit] does) holds the bus's
// middleware with it.
func Wrap(mws ...Middleware) ListenerOption {
	return listenerOptionFunc(func(l *listener) {
		if i := nilMiddleware(mws); i >= 0 {
			l.optErr = fmt.Errorf("Wrap: middleware #%d is nil", i)
			return
		}
		f := l.feats()
		f.wrap = append(f.wrap[:len(f.wrap):len(f.wrap)], mws...)
	})
}

// liveMiddleware is middleware installed on a running bus by [Bus.Use].
type liveMiddleware struct{ mws []Middleware }

// Use wraps every handler of the running bus b in mws, from the next
// publish on, until remove is called. Middleware installed with Use runs outside the middleware given
// to New, the first installed outermost; it sees the handlers of runtime
// subscriptions too, those made later included. A publish already running
// keeps the handlers it started with.
//
// remove is idempotent. Use fails with [ErrClosed] on a closed bus, and
// when a middleware is nil.
func (b *Bus) Use(mws ...Middleware) (remove func(), err error) {
	if b == nil {
		return nil, fmt.Errorf("fxbus: use middleware: %w", errNilBus)
	}
	if i := nilMiddleware(mws); i >= 0 {
		return nil, fmt.Errorf("fxbus: use middleware: middleware #%d is nil", i)
	}
	lm := &liveMiddleware{mws: mws}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Load() {
		return nil, fmt.Errorf("fxbus: use middleware: %w", b.closedErr())
	}
	b.live = append(b.live, lm)
	b.rebuild()
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		for i, x := range b.live {
			if x == lm {
				b.live = append(b.live[:i:i], b.live[i+1:]...)
				if !b.closed.Load() {
					b.rebuild()
				}
				return
			}
		}
	}, nil
}
