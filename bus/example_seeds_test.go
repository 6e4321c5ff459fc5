package bus_test

import (
	"context"
	"fmt"

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
