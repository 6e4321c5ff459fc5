package bus_test

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"

	"github.com/fxbus/fxbus/bus"
)

// printTap prints what it sees, indented by nesting.
type printTap struct{}

func (printTap) PublishStarted(p bus.PublishEvent) {
	fmt.Printf("publish %s (handlers: %d)", p.Topic.Name(), p.Handlers)
	for _, a := range p.Attributes { // what the topic opted in to showing
		fmt.Printf(" %s=%s", a.Key, a.Value.String())
	}
	fmt.Println()
}
func (printTap) PublishDone(bus.PublishEvent) {}
func (printTap) HandlerDone(c bus.HandlerCall) {
	fmt.Printf("  %s: %s\n", c.Listener.Name, c.Outcome)
}

// A live debug page installs a tap while a viewer is connected, and removes
// it when the last one leaves: without a tap, publishing costs nothing more.
// A tap sees no payload content but what the topic opted in to, for its
// spans, with SpanAttributes.
func ExampleBus_Tap() {
	type Order struct {
		Total int
		Email string // never shown: the topic does not pick it
	}
	placed := bus.NewTopic[Order]("order.placed").
		SpanAttributes(func(o *Order) []attribute.KeyValue {
			return []attribute.KeyValue{attribute.Int("order.total", o.Total)}
		})
	b, _ := bus.New([]bus.Listener{
		bus.On(placed, func(context.Context, *Order) error { return nil }, bus.Name("bill")),
		bus.On(placed, func(context.Context, *Order) error { return nil }, bus.Name("ship"),
			placed.When(func(o *Order) bool { return o.Total > 0 })),
	})
	defer b.Close()

	remove, _ := b.Tap(printTap{})
	_ = placed.Publish(context.Background(), b, &Order{Total: 0, Email: "ann@example.com"})
	remove()
	_ = placed.Publish(context.Background(), b, &Order{Total: 1}) // not seen
	// Output:
	// publish order.placed (handlers: 2) order.total=0
	//   bill: ok
	//   ship: filtered
}
