package plugin_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/plugin"
)

type chatEvent struct{ Text string }

// A plugin subscribes with bus.OwnedBy; everything it subscribed is
// attributed to it and goes when it unregisters.
func Example() {
	ready := bus.NewTopic[chatEvent]("WebChatService.ready")
	received := bus.NewTopic[chatEvent]("WebChatService.messageReceived")
	b, _ := bus.New(nil)

	p, _ := plugin.Register(b, "MyPlugin")
	sub, _ := ready.Subscribe(b, func(context.Context, *chatEvent) error {
		fmt.Println("MyPlugin: ready")
		return nil
	}, bus.Name("onReady"), bus.OwnedBy(p))
	_, _ = received.Subscribe(b, func(_ context.Context, e *chatEvent) error {
		fmt.Println("MyPlugin: message", e.Text)
		return nil
	}, bus.OwnedBy(p))
	fmt.Println(sub.Info().Name, "from plugin", sub.Info().Plugin)

	ctx := context.Background()
	_ = ready.Publish(ctx, b, &chatEvent{})
	_ = received.Publish(ctx, b, &chatEvent{Text: "hello"})

	_ = p.Unregister()
	_ = received.Publish(ctx, b, &chatEvent{Text: "unheard"})
	_, err := ready.Subscribe(b, func(context.Context, *chatEvent) error { return nil }, bus.OwnedBy(p))
	fmt.Println(errors.Is(err, plugin.ErrUnregistered))
	// Output:
	// MyPlugin/onReady from plugin MyPlugin
	// MyPlugin: ready
	// MyPlugin: message hello
	// true
}
