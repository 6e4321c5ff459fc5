package bus_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/fxbus/fxbus/bus"
)

// MessagePosting is the payload of a topic that fires before a chat message
// is stored: handlers may edit it.
type MessagePosting struct {
	Thread int
	Body   string
}

// ThreadMessagePosting is declared once, at package level, by the package
// that owns the event.
var ThreadMessagePosting = bus.NewTopic[MessagePosting]("thread.message.posting",
	bus.Description("fires before a message is stored; handlers may edit Body"))

func ExampleNewTopic() {
	info := ThreadMessagePosting.Info()
	fmt.Println(info.Name)
	fmt.Println(info.Description)
	fmt.Println(info.Payload, info.ErrorPolicy)
	// Output:
	// thread.message.posting
	// fires before a message is stored; handlers may edit Body
	// bus_test.MessagePosting stop-on-error
}

func ExampleOn() {
	b, err := bus.New([]bus.Listener{
		bus.On(ThreadMessagePosting, func(_ context.Context, m *MessagePosting) error {
			fmt.Println("store:", m.Body)
			return nil
		}),
		// Lower ranks run first, whatever the order of the slice.
		bus.On(ThreadMessagePosting, func(_ context.Context, m *MessagePosting) error {
			fmt.Println("check spelling:", m.Body)
			return nil
		}, bus.Rank(-10), bus.Name("spelling")),
		// When filters events before the handler runs.
		bus.On(ThreadMessagePosting, func(_ context.Context, m *MessagePosting) error {
			fmt.Println("alert supervisor:", m.Body)
			return nil
		}, bus.Rank(10), ThreadMessagePosting.When(func(m *MessagePosting) bool { return strings.Contains(m.Body, "refund") })),
	})
	if err != nil {
		panic(err)
	}
	defer b.Close()

	ctx := context.Background()
	_ = ThreadMessagePosting.Publish(ctx, b, &MessagePosting{Body: "hello"})
	_ = ThreadMessagePosting.Publish(ctx, b, &MessagePosting{Body: "I want a refund"})
	// Output:
	// check spelling: hello
	// store: hello
	// check spelling: I want a refund
	// store: I want a refund
	// alert supervisor: I want a refund
}

// OperatorLogin is answered by exactly one authenticator.
type OperatorLogin struct {
	Login    string
	Operator string // filled in by the handler
}

func ExampleNew() {
	login := bus.NewTopic[OperatorLogin]("operator.login", bus.ExactlyOne)
	ldap := bus.On(login, func(_ context.Context, l *OperatorLogin) error {
		l.Operator = "ldap:" + l.Login
		return nil
	}, bus.Name("ldap"))

	b, err := bus.New([]bus.Listener{ldap})
	if err != nil {
		panic(err)
	}
	defer b.Close()
	l := &OperatorLogin{Login: "kim"}
	_ = login.Publish(context.Background(), b, l)
	fmt.Println("one authenticator:", l.Operator)

	// New checks the wiring and reports every mistake, naming the topic,
	// the listeners and their file:line.
	local := bus.On(login, func(context.Context, *OperatorLogin) error { return nil }, bus.Name("local"))
	_, err = bus.New([]bus.Listener{ldap, local})
	fmt.Println("two authenticators:", errors.Is(err, bus.ErrRequirement))
	// Output:
	// one authenticator: ldap:kim
	// two authenticators: true
}

func ExampleTopic_Publish() {
	// Every handler gets the same payload: a handler sees what earlier
	// ones changed, and so does the publisher.
	b, err := bus.New([]bus.Listener{
		bus.On(ThreadMessagePosting, func(_ context.Context, m *MessagePosting) error {
			m.Body = strings.ReplaceAll(m.Body, "darn", "****")
			return nil
		}, bus.Rank(-10), bus.Name("moderation")),
		bus.On(ThreadMessagePosting, func(_ context.Context, m *MessagePosting) error {
			fmt.Printf("thread %d: %s\n", m.Thread, m.Body)
			return nil
		}, bus.Name("store")),
	})
	if err != nil {
		panic(err)
	}
	defer b.Close()

	m := &MessagePosting{Thread: 7, Body: "darn printer"}
	if err := ThreadMessagePosting.Publish(context.Background(), b, m); err != nil {
		fmt.Println("error:", err)
	}
	fmt.Println("posted:", m.Body)
	// Output:
	// thread 7: **** printer
	// posted: **** printer
}

func ExampleTopic_Subscribe() {
	b, err := bus.New(nil)
	if err != nil {
		panic(err)
	}
	defer b.Close()
	ctx := context.Background()

	// An operator opens the thread: follow its messages until they leave.
	sub, err := ThreadMessagePosting.Subscribe(b, func(_ context.Context, m *MessagePosting) error {
		fmt.Println("operator sees:", m.Body)
		return nil
	}, bus.Name("operator-console"))
	if err != nil {
		panic(err)
	}
	_ = ThreadMessagePosting.Publish(ctx, b, &MessagePosting{Body: "anyone there?"})

	_ = sub.Close() // applies from the next publish
	_ = ThreadMessagePosting.Publish(ctx, b, &MessagePosting{Body: "hello?"})
	fmt.Println("done")
	// Output:
	// operator sees: anyone there?
	// done
}

// PriceQuote asks for a price; the first handler that knows it answers.
type PriceQuote struct {
	SKU   string
	Price int
}

func ExampleErrStop() {
	quote := bus.NewTopic[PriceQuote]("price.quote")
	cache := map[string]int{"tea": 3}
	b, err := bus.New([]bus.Listener{
		bus.On(quote, func(_ context.Context, q *PriceQuote) error {
			if p, ok := cache[q.SKU]; ok {
				q.Price = p
				return bus.ErrStop // answered: later handlers do not run
			}
			return nil
		}, bus.Rank(-1), bus.Name("cache")),
		bus.On(quote, func(_ context.Context, q *PriceQuote) error {
			fmt.Println("database lookup:", q.SKU)
			q.Price = 5
			return nil
		}, bus.Name("database")),
	})
	if err != nil {
		panic(err)
	}
	defer b.Close()

	for _, sku := range []string{"tea", "coffee"} {
		q := &PriceQuote{SKU: sku}
		err := quote.Publish(context.Background(), b, q)
		fmt.Println(sku, q.Price, err)
	}
	// Output:
	// tea 3 <nil>
	// database lookup: coffee
	// coffee 5 <nil>
}

// TicketClosed notifies every channel; one failing must not silence the others.
type TicketClosed struct{ ID int }

func ExampleRunAll() {
	closed := bus.NewTopic[TicketClosed]("ticket.closed", bus.RunAll)
	b, err := bus.New([]bus.Listener{
		bus.On(closed, func(context.Context, *TicketClosed) error {
			return errors.New("smtp: connection refused")
		}, bus.Name("email")),
		bus.On(closed, func(_ context.Context, t *TicketClosed) error {
			fmt.Println("webhook sent for ticket", t.ID)
			return nil
		}, bus.Name("webhook")),
		bus.On(closed, func(context.Context, *TicketClosed) error {
			return errors.New("sms: quota exceeded")
		}, bus.Name("sms")),
	})
	if err != nil {
		panic(err)
	}
	defer b.Close()

	err = closed.Publish(context.Background(), b, &TicketClosed{ID: 42})
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var h *bus.HandlerError
		if errors.As(e, &h) {
			fmt.Printf("%s failed: %v\n", h.Listener, h.Err)
		}
	}
	// Output:
	// webhook sent for ticket 42
	// email failed: smtp: connection refused
	// sms failed: sms: quota exceeded
}
