package bus_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/fxbus/fxbus/bus"
)

// A class tree for ExampleFromSource: Ticket is the parent of *UserRequest
// and *Incident; *Person is no ticket.
type (
	exTicket      interface{ Ref() string }
	exUserRequest struct{ ref string }
	exIncident    struct{ ref string }
	exPerson      struct{}
	exWritten     struct{ Object any }
)

func (r *exUserRequest) Ref() string { return r.ref }
func (i *exIncident) Ref() string    { return i.ref }

// A listener on a source type hears the events fired by sources of that
// type or, for an interface, of any type that implements it.
func ExampleFromSource() {
	written := bus.NewTopic[exWritten]("object.written")
	b, _ := bus.New([]bus.Listener{
		bus.On(written, func(_ context.Context, e *exWritten) error {
			fmt.Println("ticket listener:", e.Object.(exTicket).Ref())
			return nil
		}, bus.FromSource[exTicket]()),
		bus.On(written, func(_ context.Context, e *exWritten) error {
			fmt.Printf("every listener: %T\n", e.Object)
			return nil
		}),
	})
	ctx := context.Background()
	for _, obj := range []any{&exUserRequest{"R-1"}, &exIncident{"I-2"}, &exPerson{}} {
		_ = written.PublishFrom(ctx, b, obj, &exWritten{Object: obj})
	}
	// Output:
	// ticket listener: R-1
	// every listener: *bus_test.exUserRequest
	// ticket listener: I-2
	// every listener: *bus_test.exIncident
	// every listener: *bus_test.exPerson
}

type (
	exNodeAdded struct{ Node string }
	exUpdated   struct {
		ID   int
		Name string
	}
)

// A rule set filters the listeners that carry it, on any topic; its rules
// change by id while the bus runs.
func ExampleRuleSet() {
	nodeAdded := bus.NewTopic[exNodeAdded]("node_added")
	updated := bus.NewTopic[exUpdated]("updated")

	rules, _ := bus.NewRuleSet("notifier", bus.Include,
		bus.Match("nodes", nodeAdded),
		bus.Match("vip", updated, bus.AllOf(
			func(e *exUpdated) bool { return e.ID == 42 },
			func(e *exUpdated) bool { return strings.HasPrefix(e.Name, "the best") },
		)),
	)
	b, _ := bus.New([]bus.Listener{
		bus.On(nodeAdded, func(_ context.Context, e *exNodeAdded) error {
			fmt.Println("node added:", e.Node)
			return nil
		}, bus.WithRules(rules)),
		bus.On(updated, func(_ context.Context, e *exUpdated) error {
			fmt.Println("updated:", e.ID, e.Name)
			return nil
		}, bus.WithRules(rules)),
	})
	ctx := context.Background()
	_ = nodeAdded.Publish(ctx, b, &exNodeAdded{Node: "n1"})
	_ = updated.Publish(ctx, b, &exUpdated{ID: 42, Name: "the best name ever"})
	_ = updated.Publish(ctx, b, &exUpdated{ID: 7, Name: "the best name ever"})

	_ = rules.Remove("nodes")
	_ = rules.Set(bus.Match("vip", updated)) // replaces the rule with id "vip"
	_ = nodeAdded.Publish(ctx, b, &exNodeAdded{Node: "n2"})
	_ = updated.Publish(ctx, b, &exUpdated{ID: 7, Name: "plain"})
	// Output:
	// node added: n1
	// updated: 42 the best name ever
	// updated: 7 plain
}

type exChatEvent struct{ Text string }

// A plugin subscribes through its handle; everything it subscribed is
// attributed to it and goes when it unregisters.
func ExampleBus_RegisterPlugin() {
	ready := bus.NewTopic[exChatEvent]("WebChatService.ready")
	received := bus.NewTopic[exChatEvent]("WebChatService.messageReceived")
	b, _ := bus.New(nil)

	p, _ := b.RegisterPlugin("MyPlugin")
	sub, _ := bus.SubscribeAs(p, ready, func(context.Context, *exChatEvent) error {
		fmt.Println("MyPlugin: ready")
		return nil
	}, bus.Name("onReady"))
	_, _ = bus.SubscribeAs(p, received, func(_ context.Context, e *exChatEvent) error {
		fmt.Println("MyPlugin: message", e.Text)
		return nil
	})
	fmt.Println(sub.Info().Name, "from plugin", sub.Info().Plugin)

	ctx := context.Background()
	_ = ready.Publish(ctx, b, &exChatEvent{})
	_ = received.Publish(ctx, b, &exChatEvent{Text: "hello"})

	_ = p.Unregister()
	_ = received.Publish(ctx, b, &exChatEvent{Text: "unheard"})
	_, err := bus.SubscribeAs(p, ready, func(context.Context, *exChatEvent) error { return nil })
	fmt.Println(errors.Is(err, bus.ErrPluginUnregistered))
	// Output:
	// MyPlugin/onReady from plugin MyPlugin
	// MyPlugin: ready
	// MyPlugin: message hello
	// true
}

type (
	exSaveReq struct{ Title string }
	exSaveRes struct{ ID int }
)

// A hook runs before handlers, the operation, and after handlers: before
// handlers change the request or veto the call, after handlers change the
// result or the error.
func ExampleHook() {
	save := bus.NewHook[exSaveReq, exSaveRes]("Data.save")
	errEmpty := errors.New("empty title")
	b, _ := bus.New([]bus.Listener{
		bus.On(save.Before(), func(_ context.Context, r *exSaveReq) error {
			if r.Title == "" {
				return errEmpty // veto
			}
			r.Title = strings.TrimSpace(r.Title)
			return nil
		}),
		bus.On(save.After(), func(_ context.Context, r *bus.Result[exSaveReq, exSaveRes]) error {
			if r.Err != nil { // turn the failure into a result
				r.Res, r.Err = &exSaveRes{ID: -1}, nil
			}
			return nil
		}),
	})
	store := func(_ context.Context, r *exSaveReq) (*exSaveRes, error) {
		if r.Title == "full" {
			return nil, errors.New("table full")
		}
		fmt.Printf("stored %q\n", r.Title)
		return &exSaveRes{ID: 1}, nil
	}
	ctx := context.Background()
	res, err := save.Run(ctx, b, &exSaveReq{Title: "  hello "}, store)
	fmt.Println(res.ID, err)
	res, err = save.Run(ctx, b, &exSaveReq{Title: "full"}, store)
	fmt.Println(res.ID, err)
	_, err = save.Run(ctx, b, &exSaveReq{}, store)
	fmt.Println(errors.Is(err, bus.ErrVetoed), errors.Is(err, errEmpty))
	// Output:
	// stored "hello"
	// 1 <nil>
	// -1 <nil>
	// true true
}

type (
	exChannel struct{ Name string }
	exMessage struct {
		Channel *exChannel
		Text    string
	}
)

// A listener scoped to an asset, here a channel, hears only the events for
// it: a When that compares the payload's asset with the one it serves.
func ExampleTopic_When_asset() {
	lobby, support := &exChannel{"lobby"}, &exChannel{"support"}
	posted := bus.NewTopic[exMessage]("message.posted")
	channelOf := func(m *exMessage) *exChannel { return m.Channel }
	b, _ := bus.New([]bus.Listener{
		bus.On(posted, func(_ context.Context, m *exMessage) error {
			fmt.Println("support desk:", m.Text)
			return nil
		}, posted.When(func(m *exMessage) bool { return channelOf(m) == support })),
	})
	ctx := context.Background()
	_ = posted.Publish(ctx, b, &exMessage{Channel: lobby, Text: "hi all"})
	_ = posted.Publish(ctx, b, &exMessage{Channel: support, Text: "my order?"})
	// Output:
	// support desk: my order?
}
