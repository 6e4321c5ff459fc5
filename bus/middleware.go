package bus

import (
	"context"
	"fmt"
	"unsafe"
)

// Middleware wraps handlers, as watermill's router middleware does: it
// gets the next handler and returns the one to call instead, which may run
// code before and after next, change the context, retry, or not call next
// at all. Package [github.com/fxbus/fxbus/bus/middleware] has timeouts,
// retries and recover-and-log.
//
// A middleware is called once per handler, when the bus builds the
// handler's dispatch table (at New, at a subscription, at Use), never per
// publish; the handler it returns is called per publish, with an
// [Envelope] that names the topic and (through [Envelope.Listener]) the
// listener, and holds the payload. A bus without middleware calls its
// handlers directly: middleware costs nothing unless installed.
//
// The handlers wrapped are those of the listeners, inside their spans:
// a listener's span covers its middleware, and filters ([Topic.When] and
// the like) run before either.
type Middleware func(next Handler) Handler

// staticMiddleware is the middleware given to New.
type staticMiddleware struct {
	all    []Middleware
	module map[string][]Middleware
	topic  map[topicCore][]erasedMiddleware
}

// erasedMiddleware is a middleware of a topic's typed handlers, taking
// the payload as an unsafe.Pointer, as the dispatch code does (see
// Topic.erase).
type erasedMiddleware = func(next func(context.Context, unsafe.Pointer) error) func(context.Context, unsafe.Pointer) error

// WithMiddleware wraps every handler of the bus, runtime subscriptions
// included, in mws: the first given is the outermost. Middleware for the
// whole bus runs outside that of a module ([WithModuleMiddleware]), which
// runs outside that of a topic ([WithTopicMiddleware]).
func WithMiddleware(mws ...Middleware) Option {
	return optionFunc(func(c *config) { c.mw.all = append(c.mw.all, mws...) })
}

// WithModuleMiddleware wraps the handlers of the listeners of one module,
// those whose [ListenerInfo.Module] is module (see [InModule]; [Listen]
// sets it to the calling package's name), in mws, the first given
// outermost.
func WithModuleMiddleware(module string, mws ...Middleware) Option {
	return optionFunc(func(c *config) {
		if c.mw.module == nil {
			c.mw.module = map[string][]Middleware{}
		}
		c.mw.module[module] = append(c.mw.module[module], mws...)
	})
}

// WithTopicMiddleware wraps the handlers of topic t in mws, typed: a
// middleware gets the next handler of t and returns the one to call
// instead. The first given is the outermost. Under fx, give it with
// [Configure].
func WithTopicMiddleware[T any](t *Topic[T], mws ...func(next func(context.Context, *T) error) func(context.Context, *T) error) Option {
	return optionFunc(func(c *config) {
		if t == nil {
			return
		}
		if c.mw.topic == nil {
			c.mw.topic = map[topicCore][]erasedMiddleware{}
		}
		for _, mw := range mws {
			if mw == nil {
				continue
			}
			// Only the static type changes: a *T and an unsafe.Pointer
			// are passed alike (see Topic.erase).
			c.mw.topic[t] = append(c.mw.topic[t], *(*erasedMiddleware)(unsafe.Pointer(&mw)))
		}
	})
}

// wrapStatic wraps fn, the handler of listener l of topic t, in b's
// middleware for the topic, the module and the bus, from the inside out.
func wrapStatic(b *Bus, t topicCore, l *listener, fn func(context.Context, unsafe.Pointer) error) func(context.Context, unsafe.Pointer) error {
	m := &b.mw
	if ts := m.topic[t]; len(ts) > 0 {
		for i := len(ts) - 1; i >= 0; i-- {
			if fn = ts[i](fn); fn == nil {
				fn = func(context.Context, unsafe.Pointer) error {
					return fmt.Errorf("middleware #%d of topic %q returned a nil handler", i, t.Name())
				}
			}
		}
	}
	if ms := m.module[l.info.Module]; len(ms) > 0 && l.info.Module != "" {
		fn = adapt(b, t, l, fn, ms)
	}
	return adapt(b, t, l, fn, m.all)
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
			return fmt.Errorf("a middleware passed on a payload of type %T, not the topic's *%s", env.Payload, t.PayloadType())
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
		f := l.feats()
		f.wrap = append(f.wrap[:len(f.wrap):len(f.wrap)], mws...)
	})
}

// liveMiddleware is middleware installed on a running bus by [Bus.Use].
type liveMiddleware struct{ mws []Middleware }

// Use wraps every handler of the running bus b in mws, from the next
// publish on, until remove is called: the bus rebuilds its dispatch tables
// at both. Middleware installed with Use runs outside the middleware given
// to New, the first installed outermost; it sees the handlers of runtime
// subscriptions too, those made later included. A publish already running
// keeps the handlers it started with.
//
// remove is idempotent. Use fails with [ErrClosed] on a closed bus.
func (b *Bus) Use(mws ...Middleware) (remove func(), err error) {
	if b == nil {
		return nil, fmt.Errorf("fxbus: use middleware: %w", errNilBus)
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
