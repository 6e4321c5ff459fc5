package bus_test

import (
	"context"
	"fmt"
	"strings"

	"go.uber.org/dig"
	"go.uber.org/fx"

	"github.com/fxbus/fxbus/bus"
)

type Filter struct{ banned []string }

func NewFilter() *Filter { return &Filter{banned: []string{"darn"}} }

// NewRewriteBody is a listener constructor: its dependencies come from fx.
func NewRewriteBody(f *Filter) func(context.Context, *MessagePosting) error {
	return func(_ context.Context, m *MessagePosting) error {
		for _, w := range f.banned {
			m.Body = strings.ReplaceAll(m.Body, w, "***")
		}
		return nil
	}
}

// A module contributes a ranked listener with a dependency; bus.Module
// installs it in the bus at fx.New.
func ExampleListen_rewrite() {
	moderation := fx.Module("moderation",
		fx.Provide(NewFilter),
		bus.Listen(ThreadMessagePosting, NewRewriteBody, bus.Rank(-10)),
	)
	app := fx.New(moderation, bus.Module, fx.NopLogger,
		fx.Invoke(func(b *bus.Bus) error {
			m := &MessagePosting{Body: "well, darn"}
			err := ThreadMessagePosting.Publish(context.Background(), b, m)
			fmt.Println(m.Body, err)
			return err
		}))
	if err := app.Err(); err != nil {
		fmt.Println(err)
	}
	// Output: well, *** <nil>
}

// Moderation is a service that publishes through the bus: the shape of a
// real service, which listeners call.
type Moderation struct {
	bus     *bus.Bus
	strikes map[int]int
}

func NewModeration(b *bus.Bus) *Moderation { return &Moderation{bus: b, strikes: map[int]int{}} }

// Strike counts a strike against a thread and bans it at the second.
func (m *Moderation) Strike(ctx context.Context, thread int) error {
	if m.strikes[thread]++; m.strikes[thread] < 2 {
		return nil
	}
	return ThreadBanned.Publish(ctx, m.bus, &Ban{Thread: thread})
}

type Ban struct{ Thread int }

var ThreadBanned = bus.NewTopic[Ban]("thread.banned")

// NewStrikeOnAbuse is a listener constructor taking a service that takes
// the bus: the listener publishes follow-up events through the service.
func NewStrikeOnAbuse(m *Moderation) func(context.Context, *MessagePosting) error {
	return func(ctx context.Context, p *MessagePosting) error {
		if !strings.Contains(p.Body, "***") {
			return nil
		}
		return m.Strike(ctx, p.Thread)
	}
}

// This is the README's fx quickstart, in the shape of a real service: a
// listener's constructor takes a service that takes the *bus.Bus, and
// publishes follow-up events through it; bus.Publishes declares what the
// module publishes, for the bus's checks and catalogue.
func ExampleListen() {
	moderation := fx.Module("moderation",
		fx.Provide(NewFilter, NewModeration),
		bus.Publishes(ThreadBanned),
		bus.Listen(ThreadMessagePosting, NewRewriteBody, bus.Rank(-10)),
		bus.Listen(ThreadMessagePosting, NewStrikeOnAbuse),
	)
	audit := fx.Module("audit",
		bus.Listen(ThreadBanned, func(_ context.Context, b *Ban) error { fmt.Println("banned thread", b.Thread); return nil }),
	)
	app := fx.New(moderation, audit, bus.Module, fx.NopLogger,
		fx.Invoke(func(b *bus.Bus) error {
			for _, body := range []string{"darn", "hello", "darn it"} {
				if err := ThreadMessagePosting.Publish(context.Background(), b, &MessagePosting{Thread: 7, Body: body}); err != nil {
					return err
				}
			}
			return nil
		}))
	if err := app.Err(); err != nil {
		fmt.Println(err)
	}
	// Output: banned thread 7
}

// Without fx, plain dig works the same way: provide listeners into the group
// and invoke bus.New.
func Example_dig() {
	c := dig.New()
	_ = c.Provide(NewFilter)
	_ = c.Provide(func(f *Filter) bus.Listener {
		return bus.On(ThreadMessagePosting, NewRewriteBody(f))
	}, dig.Group(bus.Group))

	type params struct {
		dig.In
		Listeners []bus.Listener `group:"fxbus.listeners"`
	}
	err := c.Invoke(func(p params) error {
		b, err := bus.New(p.Listeners)
		if err != nil {
			return err
		}
		defer b.Close()
		m := &MessagePosting{Body: "darn it"}
		if err := ThreadMessagePosting.Publish(context.Background(), b, m); err != nil {
			return err
		}
		fmt.Println(m.Body)
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output: *** it
}
