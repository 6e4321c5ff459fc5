package bus_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/fxbus/fxbus/bus"
)

type Signup struct{ User string }

func (s *Signup) AuditLine() string { return "signup " + s.User }

type Heartbeat struct{}

var (
	signedUp = bus.NewTopic[Signup]("example.signed_up")
	beat     = bus.NewTopic[Heartbeat]("example.heartbeat")
)

// An audit log hears every topic, ranked with each topic's own listeners;
// PayloadOf gets back to a typed payload.
func ExampleOnAll() {
	audit := func(_ context.Context, env bus.Envelope) error {
		if s, ok := bus.PayloadOf(env, signedUp); ok {
			fmt.Println("audit:", env.Topic.Name(), s.User)
			return nil
		}
		fmt.Println("audit:", env.Topic.Name())
		return nil
	}
	b, _ := bus.New([]bus.Listener{
		bus.On(signedUp, func(context.Context, *Signup) error { fmt.Println("welcome mail"); return nil }, bus.Rank(-1)),
		bus.OnAll(audit),
	})
	defer b.Close()
	_ = signedUp.Publish(context.Background(), b, &Signup{User: "ada"})
	_ = beat.Publish(context.Background(), b, &Heartbeat{}) // no listener of its own
	// Output:
	// welcome mail
	// audit: example.signed_up ada
	// audit: example.heartbeat
}

// Auditable is what a payload implements to be audited.
type Auditable interface{ AuditLine() string }

// A listener on an interface hears exactly the topics whose payload
// implements it, decided once per topic.
func ExampleOnImplementing() {
	b, _ := bus.New([]bus.Listener{
		bus.OnImplementing[Auditable](func(_ context.Context, env bus.Envelope) error {
			fmt.Println(env.Payload.(Auditable).AuditLine())
			return nil
		}),
	})
	defer b.Close()
	_ = signedUp.Publish(context.Background(), b, &Signup{User: "ada"})
	_ = beat.Publish(context.Background(), b, &Heartbeat{}) // not Auditable: not heard
	// Output: signup ada
}

// A subscription for the first publish only.
func ExampleOnce() {
	b, _ := bus.New(nil)
	defer b.Close()
	sub, _ := signedUp.Subscribe(b, func(_ context.Context, s *Signup) error {
		fmt.Println("first signup:", s.User)
		return nil
	}, bus.Once())
	_ = signedUp.Publish(context.Background(), b, &Signup{User: "ada"})
	_ = signedUp.Publish(context.Background(), b, &Signup{User: "bob"})
	<-sub.Done() // it closed itself
	fmt.Println("done")
	// Output:
	// first signup: ada
	// done
}

// Teardown waits for the handler calls still running, so that it does not
// close what a handler is using: the subscription is Awaited.
func ExampleSubscription_CloseWait() {
	b, _ := bus.New(nil)
	defer b.Close()
	sub, _ := signedUp.Subscribe(b, func(context.Context, *Signup) error { return nil }, bus.Awaited())
	_ = signedUp.Publish(context.Background(), b, &Signup{User: "ada"})
	if err := sub.CloseWait(context.Background()); err != nil {
		fmt.Println(err)
	}
	fmt.Println("no call of the handler runs now")
	// Output: no call of the handler runs now
}

// Middleware wraps every handler of the bus; the first given is the
// outermost.
func ExampleWithMiddleware() {
	logCalls := func(next bus.Handler) bus.Handler {
		return func(ctx context.Context, env bus.Envelope) error {
			err := next(ctx, env)
			fmt.Printf("%s handled %s: %v\n", env.Listener().Name, env.Topic.Name(), err)
			return err
		}
	}
	onlyAda := func(next bus.Handler) bus.Handler {
		return func(ctx context.Context, env bus.Envelope) error {
			if s, ok := bus.PayloadOf(env, signedUp); ok && s.User != "ada" {
				return errors.New("not ada")
			}
			return next(ctx, env)
		}
	}
	b, _ := bus.New([]bus.Listener{
		bus.On(signedUp, func(context.Context, *Signup) error { return nil }, bus.Name("greeter")),
	}, bus.WithMiddleware(logCalls, onlyAda))
	defer b.Close()
	_ = signedUp.Publish(context.Background(), b, &Signup{User: "ada"})
	_ = signedUp.Publish(context.Background(), b, &Signup{User: "bob"})
	// Output:
	// greeter handled example.signed_up: <nil>
	// greeter handled example.signed_up: not ada
}

// A handler shared by several topics learns which one it is handling, and
// how deeply the publish is nested.
func ExampleTopicOf() {
	where := func(ctx context.Context) {
		t, _ := bus.TopicOf(ctx)
		fmt.Println(t.Name(), "at depth", bus.DepthOf(ctx))
	}
	var b *bus.Bus
	b, _ = bus.New([]bus.Listener{
		bus.On(signedUp, func(ctx context.Context, _ *Signup) error {
			where(ctx)
			return beat.Publish(ctx, b, &Heartbeat{})
		}),
		bus.On(beat, func(ctx context.Context, _ *Heartbeat) error { where(ctx); return nil }),
	})
	defer b.Close()
	_ = signedUp.Publish(context.Background(), b, &Signup{})
	// Output:
	// example.signed_up at depth 1
	// example.heartbeat at depth 2
}

// Middleware installed on a running bus applies from the next publish,
// until it is removed.
func ExampleBus_Use() {
	b, _ := bus.New([]bus.Listener{
		bus.On(beat, func(context.Context, *Heartbeat) error { return nil }, bus.Name("monitor")),
	})
	defer b.Close()
	remove, _ := b.Use(func(next bus.Handler) bus.Handler {
		return func(ctx context.Context, env bus.Envelope) error {
			fmt.Println("tapped:", env.Listener().Name)
			return next(ctx, env)
		}
	})
	_ = beat.Publish(context.Background(), b, &Heartbeat{})
	remove()
	_ = beat.Publish(context.Background(), b, &Heartbeat{}) // not tapped
	// Output: tapped: monitor
}
