package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/fxbus/fxbus/bus"
)

// The class tree: a parent class is an interface its subclasses implement.
//
//	DBObject > Ticket > UserRequest, Incident
//	DBObject > Person
type (
	DBObject interface{ Class() string }
	Ticket   interface {
		DBObject
		Ref() string
	}
	UserRequest struct{ ID, Title string }
	Incident    struct {
		ID       string
		Priority int
	}
	Person struct{ Name string }
)

func (*UserRequest) Class() string { return "UserRequest" }
func (r *UserRequest) Ref() string { return r.ID }
func (*Incident) Class() string    { return "Incident" }
func (i *Incident) Ref() string    { return i.ID }
func (*Person) Class() string      { return "Person" }

// WrittenEvent is the payload of DBAfterWrite. The source is a property of
// the firing, not of the payload; handlers that need the object find it
// here too.
type WrittenEvent struct {
	Object DBObject
	IsNew  bool
}

var DBAfterWrite = bus.NewTopic[WrittenEvent]("db.after_write",
	bus.Description("an object was written to the database"))

func main() {
	if err := run(os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(w io.Writer) error {
	b, err := bus.New([]bus.Listener{
		// No FromSource: hears every write, with any source or none.
		bus.On(DBAfterWrite, func(_ context.Context, e *WrittenEvent) error {
			fmt.Fprintf(w, "  search-index: reindex the %s\n", e.Object.Class())
			return nil
		}, bus.Name("search-index"), bus.Rank(10)),
		// On an interface: hears every source type that implements it.
		bus.On(DBAfterWrite, func(_ context.Context, e *WrittenEvent) error {
			fmt.Fprintf(w, "  notify-team: ticket %s changed\n", e.Object.(Ticket).Ref())
			return nil
		}, bus.Name("notify-team"), bus.FromSource[Ticket]()),
		// On a concrete type: hears that type only. Ranks still order.
		bus.On(DBAfterWrite, func(_ context.Context, e *WrittenEvent) error {
			if i := e.Object.(*Incident); i.Priority == 1 {
				fmt.Fprintf(w, "  page-on-call: %s is priority 1\n", i.ID)
			}
			return nil
		}, bus.Name("page-on-call"), bus.Rank(-10), bus.FromSource[*Incident]()),
	})
	if err != nil {
		return err
	}
	defer b.Close()

	ctx := context.Background()
	for _, obj := range []DBObject{
		&UserRequest{ID: "R-1", Title: "printer jam"},
		&Incident{ID: "I-2", Priority: 1},
		&Person{Name: "Kim"},
	} {
		fmt.Fprintf(w, "%s written, published from it:\n", obj.Class())
		if err := DBAfterWrite.PublishFrom(ctx, b, obj, &WrittenEvent{Object: obj}); err != nil {
			return err
		}
	}

	// Publish has no source: only the listeners without FromSource hear it.
	fmt.Fprintln(w, "Incident written by a bulk import, published without a source:")
	return DBAfterWrite.Publish(ctx, b, &WrittenEvent{Object: &Incident{ID: "I-3"}, IsNew: true})
}
