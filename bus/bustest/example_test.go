package bustest_test

import (
	"context"
	"fmt"
	"testing"

	"go.uber.org/fx"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/bustest"
)

// Greeting is the payload of a topic the module under test publishes.
type Greeting struct{ To string }

var greeted = bus.NewTopic[Greeting]("example.greeted")

// A module's test adds a recorder to the app next to the module, then reads
// what the module published. In a test, use fxtest.New and the Assert
// functions instead of printing.
func ExampleCapture() {
	greeter := fx.Module("greeter",
		bus.Publishes(greeted),
		fx.Invoke(func(lc fx.Lifecycle, b *bus.Bus) {
			lc.Append(fx.StartHook(func(ctx context.Context) error {
				return greeted.Publish(ctx, b, &Greeting{To: "Ada"})
			}))
		}),
	)
	var rec *bustest.Recorder[Greeting]
	app := fx.New(greeter, bus.Module, fx.NopLogger, bustest.Capture(&rec, greeted))
	if err := app.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rec.Len(), rec.Events())
	_ = app.Stop(context.Background())
	// Output: 1 [{Ada}]
}

// A test records everything the code under test publishes, across topics,
// and asserts the order, as Laravel's Event::fake and tailscale's
// eventbustest read. Here it prints instead.
func ExampleRecordAll() {
	type Order struct{ ID int }
	placed := bus.NewTopic[Order]("example.order.placed")
	billed := bus.NewTopic[Order]("example.order.billed")
	var b *bus.Bus
	b, _ = bus.New([]bus.Listener{
		bus.On(placed, func(ctx context.Context, o *Order) error { return billed.Publish(ctx, b, o) }),
	})
	defer b.Close()

	t := &testing.T{} // in a test, the test's own t
	log := bustest.RecordAll(t, b)
	_ = placed.Publish(context.Background(), b, &Order{ID: 1})

	fmt.Println(log.Topics())
	fmt.Println(bustest.ExpectExactly(t, log, bustest.Published(placed), bustest.Published(billed)))
	// Output:
	// [example.order.placed example.order.billed]
	// true
}
