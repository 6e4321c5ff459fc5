package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	"github.com/fxbus/fxbus/bus"
)

// Order is the payload of OrderPlaced. Every handler gets the same *Order,
// in rank order, so a handler sees what earlier ones changed.
type Order struct {
	ID     string
	Item   string
	Coupon string
	Total  int // in cents
}

// OrderPlaced is declared once, at package level: the topic is the value,
// its name is only for traces and errors.
var OrderPlaced = bus.NewTopic[Order]("order.placed",
	bus.Description("a customer checked out; handlers may adjust Total"))

// ErrOutOfStock is what the warehouse answers for an item it cannot reserve.
var ErrOutOfStock = errors.New("out of stock")

// Warehouse reserves stock. Its method is a handler: the listener's name
// is derived from it, "main.(*Warehouse).Reserve".
type Warehouse struct{ stock map[string]int }

func (wh *Warehouse) Reserve(_ context.Context, o *Order) error {
	if wh.stock[o.Item] == 0 {
		return fmt.Errorf("%s: %w", o.Item, ErrOutOfStock)
	}
	wh.stock[o.Item]--
	return nil
}

func main() {
	if err := run(os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(w io.Writer) error {
	wh := &Warehouse{stock: map[string]int{"teapot": 3}}

	// The order of this slice does not matter: lower ranks run first, and
	// equal ranks run in the order of the bus.On calls.
	b, err := bus.New([]bus.Listener{
		bus.On(OrderPlaced, func(_ context.Context, o *Order) error {
			fmt.Fprintf(w, "  receipt for %s: %s, %d.%02d EUR\n", o.ID, o.Item, o.Total/100, o.Total%100)
			return nil
		}, bus.Rank(10), bus.Name("receipt")),
		bus.On(OrderPlaced, wh.Reserve), // rank 0
		bus.On(OrderPlaced, func(_ context.Context, o *Order) error {
			if o.Coupon == "WELCOME10" {
				o.Total -= o.Total / 10 // alter the event: later handlers see the new total
			}
			return nil
		}, bus.Rank(-10), bus.Name("coupon")),
		bus.On(OrderPlaced, func(_ context.Context, o *Order) error {
			if o.Item == "test" {
				fmt.Fprintf(w, "  %s is a test order: stop here\n", o.ID)
				return bus.ErrStop // later handlers do not run; Publish returns nil
			}
			return nil
		}, bus.Rank(-20), bus.Name("test-orders")),
	})
	if err != nil {
		return err // a wiring mistake names the topic, the listener and its file:line
	}
	defer b.Close()

	ctx := context.Background()
	for _, o := range []*Order{
		{ID: "A-1", Item: "teapot", Coupon: "WELCOME10", Total: 4990},
		{ID: "T-2", Item: "test", Total: 100},
		{ID: "B-3", Item: "kettle", Total: 2500},
	} {
		fmt.Fprintf(w, "%s:\n", o.ID)
		err := OrderPlaced.Publish(ctx, b, o)

		// A failing handler stops dispatch (the topic's default policy):
		// the error is a *bus.HandlerError naming the topic, the listener
		// and where it was declared, and wrapping the handler's own error.
		var herr *bus.HandlerError
		if errors.As(err, &herr) {
			fmt.Fprintf(w, "  failed: topic %q, listener %s (%s:%d): %v\n", herr.Topic, herr.Listener,
				filepath.Base(herr.Source.File), herr.Source.Line, herr.Err)
			fmt.Fprintf(w, "  errors.Is(err, ErrOutOfStock) = %v\n", errors.Is(err, ErrOutOfStock))
			continue
		} else if err != nil {
			return err
		}
		fmt.Fprintf(w, "  done, total %d cents\n", o.Total)
	}
	return nil
}
