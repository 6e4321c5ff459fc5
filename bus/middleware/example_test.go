package middleware_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/middleware"
)

// A webhook that fails twice is retried, with a bounded backoff, inside a
// timeout per call.
func ExampleRetry() {
	type Hook struct{ URL string }
	delivered := bus.NewTopic[Hook]("webhook.delivered")
	calls := 0
	post := func(ctx context.Context, h *Hook) error {
		calls++
		if calls < 3 {
			return errors.New("503 from " + h.URL)
		}
		return nil
	}
	b, _ := bus.New([]bus.Listener{bus.On(delivered, post)},
		bus.WithMiddleware(
			middleware.Retry(middleware.RetryPolicy{Attempts: 5, Base: time.Millisecond, Max: 10 * time.Millisecond}),
			middleware.Timeout(time.Second),
		))
	defer b.Close()
	err := delivered.Publish(context.Background(), b, &Hook{URL: "https://example.com/hook"})
	fmt.Println(err, calls)
	// Output: <nil> 3
}

// Middleware scoped to a module or a topic leaves the other handlers
// alone.
func ExampleForTopic() {
	type Order struct{ Total int }
	placed := bus.NewTopic[Order]("example.order_placed")
	refunded := bus.NewTopic[Order]("example.order_refunded")
	capped := func(next bus.Handler) bus.Handler {
		return func(ctx context.Context, env bus.Envelope) error {
			if o, _ := bus.PayloadOf(env, placed); o.Total > 100 {
				return errors.New("over the limit")
			}
			return next(ctx, env)
		}
	}
	ok := func(context.Context, *Order) error { return nil }
	b, _ := bus.New([]bus.Listener{bus.On(placed, ok), bus.On(refunded, ok)},
		bus.WithMiddleware(middleware.ForTopic(placed, capped)))
	defer b.Close()
	fmt.Println(placed.Publish(context.Background(), b, &Order{Total: 500}) != nil)
	fmt.Println(refunded.Publish(context.Background(), b, &Order{Total: 500}))
	// Output:
	// true
	// <nil>
}
