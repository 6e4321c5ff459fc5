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

// This is the README's fx quickstart: a module contributes a ranked
// listener with a dependency; bus.Module builds the bus at fx.New.
func ExampleListen() {
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

// A listener constructor that publishes follow-up events takes a
// *bus.Publisher, declared with bus.Publishes, rather than the *bus.Bus it
// belongs to: no dependency cycle.
func ExamplePublishes() {
	type Abuse struct{ Visitor string }
	type Ban struct{ Visitor string }
	abuse := bus.NewTopic[Abuse]("example.abuse")
	ban := bus.NewTopic[Ban]("example.ban")

	newBanOnAbuse := func(p *bus.Publisher[Ban]) func(context.Context, *Abuse) error {
		return func(ctx context.Context, a *Abuse) error {
			return p.Publish(ctx, &Ban{Visitor: a.Visitor})
		}
	}
	app := fx.New(bus.Module, fx.NopLogger,
		bus.Publishes(ban),
		bus.Listen(abuse, newBanOnAbuse),
		bus.Listen(ban, func(_ context.Context, b *Ban) error { fmt.Println("banned", b.Visitor); return nil }),
		fx.Invoke(func(b *bus.Bus) error { return abuse.Publish(context.Background(), b, &Abuse{Visitor: "v7"}) }),
	)
	if err := app.Err(); err != nil {
		fmt.Println(err)
	}
	// Output: banned v7
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
