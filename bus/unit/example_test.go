package unit_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/unit"
)

// Signup is the payload of the example's topic.
type Signup struct{ User string }

var signedUp = bus.NewTopic[Signup]("example.signed_up")

// A welcome mail goes out only for a signup whose storing committed.
func ExampleRun() {
	b, _ := bus.New([]bus.Listener{
		bus.On(signedUp, func(_ context.Context, s *Signup) error {
			fmt.Println("mail to", s.User)
			return nil
		}, unit.AfterCommit()),
		bus.On(signedUp, func(_ context.Context, s *Signup) error {
			fmt.Println("validate", s.User)
			return nil
		}),
	})
	defer b.Close()
	store := func(user string, fail bool) error {
		return unit.Run(context.Background(), func(ctx context.Context) error {
			if err := signedUp.Publish(ctx, b, &Signup{User: user}); err != nil {
				return err
			}
			if fail {
				return errors.New("insert failed")
			}
			return nil
		})
	}
	fmt.Println(store("ada", false))
	fmt.Println(store("bob", true))
	// Output:
	// validate ada
	// mail to ada
	// <nil>
	// validate bob
	// insert failed
}

// A unit begun and ended by hand, as a transaction is: what publishes held
// runs at the commit.
func ExampleBegin() {
	b, _ := bus.New([]bus.Listener{
		bus.On(signedUp, func(_ context.Context, s *Signup) error {
			fmt.Println("mail to", s.User)
			return nil
		}, unit.AfterCommit()),
	})
	defer b.Close()
	ctx, u := unit.Begin(context.Background())
	defer u.Rollback() // does nothing once committed
	_ = signedUp.Publish(ctx, b, &Signup{User: "ada"})
	fmt.Println("published")
	fmt.Println(u.Commit(ctx))
	// Output:
	// published
	// mail to ada
	// <nil>
}
