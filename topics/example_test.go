package topics_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/topics"
)

// An alter event end to end: a moderation listener rewrites the body of a
// message about to be posted; the listener after it, and the desk, see the
// new body.
func ExampleThreadMessagePosting() {
	censor := func(_ context.Context, m *topics.MessagePosting) error {
		m.Body = strings.ReplaceAll(m.Body, "darn", "****")
		return nil
	}
	logPost := func(_ context.Context, m *topics.MessagePosting) error {
		fmt.Printf("thread %d, %v: %s\n", m.Thread.ID, m.Kind, m.Body)
		return nil
	}
	b, err := bus.New([]bus.Listener{
		bus.On(topics.ThreadMessagePosting, logPost),
		bus.On(topics.ThreadMessagePosting, censor, bus.Rank(-10)), // runs first
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()

	m := &topics.MessagePosting{
		Thread: &topics.Thread{ID: 42},
		Kind:   topics.MessageKindUser,
		Body:   "this darn printer",
	}
	if err := topics.ThreadMessagePosting.Publish(context.Background(), b, m); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("stored:", m.Body)
	// Output:
	// thread 42, user: this **** printer
	// stored: this **** printer
}

// A function-call event: the listener that knows the function fills the
// results; the others leave the call alone.
func ExampleThreadFunctionCall() {
	sum := func(_ context.Context, c *topics.FunctionCall) error {
		if c.Function != "sum" {
			return nil
		}
		total := 0
		for _, v := range c.Arguments["terms"].([]int) {
			total += v
		}
		c.Results["sum"] = total
		return bus.ErrStop // answered: no later listener needs to look
	}
	b, err := bus.New([]bus.Listener{bus.On(topics.ThreadFunctionCall, sum)})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()

	call := &topics.FunctionCall{
		Function:  "sum",
		Arguments: map[string]any{"terms": []int{1, 2, 3}},
		Results:   map[string]any{},
	}
	err = topics.ThreadFunctionCall.Publish(context.Background(), b, call)
	fmt.Println(call.Results, err)
	// Output: map[sum:6] <nil>
}

// Custom authentication: a listener recognises the operator from the
// request and fills in the payload's Operator.
func ExampleOperatorAuthenticate() {
	byToken := func(_ context.Context, a *topics.Authentication) error {
		if a.Request.Header.Get("X-Desk-Token") == "t-7" {
			a.Operator = &topics.Operator{ID: 7, Login: "ada"}
			return bus.ErrStop
		}
		return nil
	}
	b, err := bus.New([]bus.Listener{bus.On(topics.OperatorAuthenticate, byToken)})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()

	req := httptest.NewRequest("GET", "/operator/users", nil)
	req.Header.Set("X-Desk-Token", "t-7")
	a := &topics.Authentication{Request: req}
	if err := topics.OperatorAuthenticate.Publish(context.Background(), b, a); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("operator:", a.Operator.Login)
	// Output: operator: ada
}

// The catalogue, area by area.
func ExampleAll() {
	var areas []string
	count := map[string]int{}
	for _, t := range topics.All() {
		area, _, _ := strings.Cut(t.Name(), ".")
		if count[area] == 0 {
			areas = append(areas, area)
		}
		count[area]++
	}
	for _, a := range areas {
		fmt.Printf("%s %d\n", a, count[a])
	}
	fmt.Println("total", len(topics.All()))
	// Output:
	// ban 3
	// button 1
	// cron 1
	// group 4
	// invitation 4
	// operator 6
	// page 3
	// resource 2
	// routing 1
	// thread 8
	// users 4
	// visitor 3
	// widget 1
	// chat 13
	// object 4
	// moderation 1
	// user 4
	// data 8
	// messaging 2
	// total 73
}

type record struct{ ID int }

// The caller's identity travels in the context to every handler.
func ExampleWithCaller() {
	deleted := bus.NewTopic[record]("record.deleted")
	b, _ := bus.New([]bus.Listener{
		bus.On(deleted, func(ctx context.Context, e *record) error {
			c, ok := topics.CallerFrom(ctx)
			if !ok || !c.HasRole("admin") {
				return fmt.Errorf("%v may not delete %d", c, e.ID)
			}
			fmt.Println(c.UserID, "deleted", e.ID)
			return nil
		}),
	})
	admin := topics.WithCaller(context.Background(), topics.Caller{UserID: "ann", Token: "t0k3n", Roles: []string{"admin"}})
	guest := topics.WithCaller(context.Background(), topics.Caller{UserID: "bob", Roles: []string{"guest"}})
	fmt.Println(deleted.Publish(admin, b, &record{ID: 1}))
	fmt.Println(errors.Unwrap(deleted.Publish(guest, b, &record{ID: 2})))
	// Output:
	// ann deleted 1
	// <nil>
	// bob [guest] may not delete 2
}
