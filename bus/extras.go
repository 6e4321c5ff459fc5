package bus

import (
	"context"
	"errors"
	"reflect"

	"go.opentelemetry.io/otel/attribute"
)

// This file holds what packages built on bus, such as bus/hook and
// bus/plugin, need of the core: a span beside the bus's own, and a set of
// runtime subscriptions that an owner attributes and ends together.

// StartSpan opens a span named name, a child of ctx's span, with the bus's
// tracer, for a call that belongs with the bus's spans: bus/hook and
// bus/unit trace their calls so. The span carries messaging.system "fxbus" and attrs. end
// records err, when not nil, as the bus records a failed handler (status,
// error.type, and the text [WithErrorRedaction] leaves), then ends the
// span. Without tracing, StartSpan returns ctx itself and an end that does
// nothing, and makes no OpenTelemetry call.
func (b *Bus) StartSpan(ctx context.Context, name string, attrs ...attribute.KeyValue) (_ context.Context, end func(err error)) {
	if b == nil || ctx == nil {
		return ctx, endNothing
	}
	if b.waiting.Load() { // see deferTelemetry
		if err := b.wakeTelemetry(); err != nil {
			return ctx, endNothing
		}
	}
	if !b.tracing {
		return ctx, endNothing
	}
	inst := b.inst
	ctx, span := inst.StartSpan(ctx, name, attrs)
	return ctx, func(err error) {
		if err != nil {
			inst.Fail(span, err)
		}
		span.End()
	}
}

func endNothing(error) {}

// Owner owns runtime subscriptions made with [OwnedBy]: it names them, it
// says whether they hear events, and it learns of each one made and closed,
// so that it can close them all together. Package bus/plugin's *Plugin is
// one.
type Owner interface {
	// Name attributes the owner's listeners: it is their
	// [ListenerInfo.Plugin], the prefix "<name>/" of their display name,
	// and the fxbus.plugin attribute of their spans.
	Name() string
	// Active reports whether the owner's listeners hear events. The bus
	// asks before each of their handlers, as it checks a When: it must be
	// quick, and not block.
	Active() bool
	// Attach is called with each subscription made with [OwnedBy], before
	// the bus adds it; an error refuses the subscription, and
	// [Topic.Subscribe] returns it inside a [*WiringError]. Detach is
	// called when a subscription Attach accepted is closed, or could not be
	// added after all. Neither is called with a lock of the bus held.
	Attach(*Subscription) error
	Detach(*Subscription)
}

// OwnedBy makes a runtime subscription o's: see [Owner]. It is for
// [Topic.Subscribe]; [New] refuses a listener that carries it.
func OwnedBy(o Owner) ListenerOption {
	return listenerOptionFunc(func(l *listener) {
		if o == nil || reflect.ValueOf(o).IsNil() {
			l.optErr = errors.New("OwnedBy: nil owner")
			return
		}
		l.ext().owner = o
	})
}

// extras holds the optional features of a listener. Plain listeners have
// none, so they carry a nil pointer and the dispatch tables built from them
// are exactly what they were without these features.
type extras struct {
	sources []reflect.Type // FromSource: the source types the listener hears
	owner   Owner          // OwnedBy: the owner of the subscription
}

// ext returns the listener's extras, making them on first use.
func (l *listener) ext() *extras {
	if l.x == nil {
		l.x = &extras{}
	}
	return l.x
}

// owner returns the listener's owner, or nil.
func (l *listener) owner() Owner {
	if l.x == nil {
		return nil
	}
	return l.x.owner
}
