package bus_test

import (
	"context"
	"fmt"

	"github.com/fxbus/fxbus/bus"
)

// printTap prints what it sees, indented by nesting.
type printTap struct{}

func (printTap) PublishStarted(p bus.PublishEvent) {
	fmt.Printf("publish %s (handlers: %d)\n", p.Topic.Name(), p.Handlers)
}
func (printTap) PublishDone(bus.PublishEvent) {}
func (printTap) HandlerDone(c bus.HandlerCall) {
	fmt.Printf("  %s: %s\n", c.Listener.Name, c.Outcome)
}

// A live debug page installs a tap while a viewer is connected, and removes
// it when the last one leaves: without a tap, publishing costs nothing more.
func ExampleBus_Tap() {
	type Order struct{ Total int }
	placed := bus.NewTopic[Order]("order.placed")
	b, _ := bus.New([]bus.Listener{
		bus.On(placed, func(context.Context, *Order) error { return nil }, bus.Name("bill")),
		bus.On(placed, func(context.Context, *Order) error { return nil }, bus.Name("ship"),
			placed.When(func(o *Order) bool { return o.Total > 0 })),
	})
	defer b.Close()

	remove, _ := b.Tap(printTap{})
	_ = placed.Publish(context.Background(), b, &Order{Total: 0})
	remove()
	_ = placed.Publish(context.Background(), b, &Order{Total: 1}) // not seen
	// Output:
	// publish order.placed (handlers: 2)
	//   bill: ok
	//   ship: filtered
}
