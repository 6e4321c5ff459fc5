package rules_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/rules"
)

type (
	nodeAdded struct{ Node string }
	updated   struct {
		ID   int
		Name string
	}
)

// A rule set filters the listeners that obey it, on any topic; its rules
// change by id while the bus runs.
func Example() {
	added := bus.NewTopic[nodeAdded]("node_added")
	changed := bus.NewTopic[updated]("updated")

	rs, _ := rules.New("notifier", rules.Include,
		rules.Match("nodes", added),
		rules.Match("vip", changed, rules.AllOf(
			func(e *updated) bool { return e.ID == 42 },
			func(e *updated) bool { return strings.HasPrefix(e.Name, "the best") },
		)),
	)
	b, _ := bus.New([]bus.Listener{
		bus.On(added, func(_ context.Context, e *nodeAdded) error {
			fmt.Println("node added:", e.Node)
			return nil
		}, rules.When(rs, added)),
		bus.On(changed, func(_ context.Context, e *updated) error {
			fmt.Println("updated:", e.ID, e.Name)
			return nil
		}, rules.When(rs, changed)),
	})
	ctx := context.Background()
	_ = added.Publish(ctx, b, &nodeAdded{Node: "n1"})
	_ = changed.Publish(ctx, b, &updated{ID: 42, Name: "the best name ever"})
	_ = changed.Publish(ctx, b, &updated{ID: 7, Name: "the best name ever"})

	_ = rs.Remove("nodes")
	_ = rs.Put(rules.Match("vip", changed)) // replaces the rule with id "vip"
	_ = added.Publish(ctx, b, &nodeAdded{Node: "n2"})
	_ = changed.Publish(ctx, b, &updated{ID: 7, Name: "plain"})
	// Output:
	// node added: n1
	// updated: 42 the best name ever
	// updated: 7 plain
}
