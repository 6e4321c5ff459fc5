package topics

import "github.com/fxbus/fxbus/bus"

// Visitor events: the chat widget tracks the people browsing the site.
// They fire after the fact, so every listener runs even when one fails, and
// Publish returns all the failures.

// VisitorCreated fires when the widget tracks a visitor for the first time
// (Mibew VISITOR_CREATE), before [VisitorTracked] fires for them.
var VisitorCreated = bus.NewTopic[VisitorEvent]("visitor.created",
	bus.Description("The widget has tracked a visitor for the first time."),
	bus.RunAll)

// VisitorTracked fires every time the widget tracks a visitor (Mibew
// VISITOR_TRACK); for a new visitor, after [VisitorCreated].
var VisitorTracked = bus.NewTopic[VisitorEvent]("visitor.tracked",
	bus.Description("The widget has tracked a visitor."),
	bus.RunAll)

// VisitorOldDeleted fires after the visitors not seen for a while have been
// deleted (Mibew VISITOR_DELETE_OLD).
var VisitorOldDeleted = bus.NewTopic[OldVisitorsDeletion]("visitor.old_deleted",
	bus.Description("Old visitors have been deleted."),
	bus.RunAll)

// VisitorEvent is the payload of [VisitorCreated] and [VisitorTracked].
type VisitorEvent struct {
	// Visitor is the state of the visitor tracked.
	Visitor *Visitor
}

// OldVisitorsDeletion is the payload of [VisitorOldDeleted].
type OldVisitorsDeletion struct {
	// IDs identify the deleted visitors.
	IDs []VisitorID
}
