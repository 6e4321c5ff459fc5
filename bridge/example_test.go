package bridge_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"go.uber.org/fx"

	"github.com/fxbus/fxbus/bridge"
	"github.com/fxbus/fxbus/bus"
)

// Greeting is the example's payload.
type Greeting struct {
	To string `json:"to"`
}

var greeted = bus.NewTopic[Greeting]("example.greeted")

// Two fx apps, two buses: the first exports what it publishes, to its
// embedded NATS server; the second imports it and handles it.
func ExampleExport() {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	var pub *bus.Bus
	var conn *bridge.Conn
	sender := fx.New(fx.NopLogger, fx.Supply(quiet), bus.Module, bridge.Module,
		bridge.Export(greeted), fx.Populate(&pub, &conn))
	if err := sender.Start(ctx); err != nil {
		panic(err)
	}
	defer sender.Stop(ctx)

	got := make(chan string, 1)
	receiver := fx.New(fx.NopLogger, fx.Supply(quiet, bridge.Config{URL: conn.URL()}), bus.Module, bridge.Module,
		bridge.Import(greeted, bridge.Group("greeters")),
		bus.Listen(greeted, func(ctx context.Context, g *Greeting) error {
			d, _ := bridge.DeliveryFrom(ctx)
			got <- fmt.Sprintf("hello, %s (attempt %d, group %s)", g.To, d.Attempt, d.Group)
			return nil
		}))
	if err := receiver.Start(ctx); err != nil {
		panic(err)
	}
	defer receiver.Stop(ctx)

	if err := greeted.Publish(ctx, pub, &Greeting{To: "Ada"}); err != nil {
		panic(err)
	}
	fmt.Println(<-got)
	// Output: hello, Ada (attempt 1, group greeters)
}
