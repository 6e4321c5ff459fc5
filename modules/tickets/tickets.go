package tickets

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"go.uber.org/fx"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/topics"
)

// Module provides the [*Board] and keeps it up to date from the object
// events whose source is a [topics.Ticket].
var Module = fx.Module("tickets",
	fx.Provide(NewBoard),
	bus.Listen(topics.ObjectCreated, NewOnCreated, bus.FromSource[topics.Ticket]()),
	bus.Listen(topics.ObjectUpdated, NewOnUpdated, bus.FromSource[topics.Ticket]()),
	bus.Listen(topics.ObjectDeleted, NewOnDeleted, bus.FromSource[topics.Ticket]()),
)

// Card is what the board shows of a ticket.
type Card struct {
	// Class is the ticket's class, such as "Incident".
	Class string
	// ID identifies the ticket within its class.
	ID int64
	// Ref is the ticket's reference.
	Ref string
	// Title sums the case up.
	Title string
	// Status is where the ticket is in its life.
	Status topics.TicketStatus
	// Caller is the visitor the ticket is for.
	Caller topics.UserID
	// AgentID is the operator in charge; zero while there is none.
	AgentID topics.OperatorID
	// Updated is when the ticket last changed: its Updated time, or its
	// Created time before any update.
	Updated time.Time
}

// Open reports whether the card's ticket is still open: neither resolved
// nor closed.
func (c Card) Open() bool {
	return c.Status != topics.TicketStatusResolved && c.Status != topics.TicketStatusClosed
}

func cardOf(t topics.Ticket) Card {
	i := t.Ticket()
	c := Card{Class: t.Class(), ID: t.ObjectID(), Ref: i.Ref, Title: i.Title, Status: i.Status,
		Caller: i.Caller, AgentID: i.AgentID, Updated: i.Updated}
	if c.Updated.IsZero() {
		c.Updated = i.Created
	}
	return c
}

// Board holds the open tickets by class, and the last ticket created or
// updated. It is safe for use by any number of goroutines.
type Board struct {
	mu   sync.Mutex
	open map[string]map[int64]Card // class -> id -> card
	last *Card
}

// NewBoard returns an empty board.
func NewBoard() *Board { return &Board{open: map[string]map[int64]Card{}} }

// Open returns the open tickets of class, by ascending id.
func (b *Board) Open(class string) []Card {
	b.mu.Lock()
	defer b.mu.Unlock()
	cards := slices.Collect(maps.Values(b.open[class]))
	slices.SortFunc(cards, func(x, y Card) int { return cmp.Compare(x.ID, y.ID) })
	return cards
}

// Counts returns how many tickets are open, by class; classes without an
// open ticket are left out.
func (b *Board) Counts() map[string]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := make(map[string]int, len(b.open))
	for class, cards := range b.open {
		if len(cards) > 0 {
			n[class] = len(cards)
		}
	}
	return n
}

// Last returns the last ticket created or updated, as it was then, and
// whether there is one.
func (b *Board) Last() (Card, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last == nil {
		return Card{}, false
	}
	return *b.last, true
}

// put records t's state, open or not.
func (b *Board) put(t topics.Ticket) {
	c := cardOf(t)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.last = &c
	if !c.Open() {
		b.remove(c.Class, c.ID)
		return
	}
	cards := b.open[c.Class]
	if cards == nil {
		cards = map[int64]Card{}
		b.open[c.Class] = cards
	}
	cards[c.ID] = c
}

// remove takes a ticket off the board; with b.mu held.
func (b *Board) remove(class string, id int64) {
	delete(b.open[class], id)
	if len(b.open[class]) == 0 {
		delete(b.open, class)
	}
}

// NewOnCreated returns the module's listener on [topics.ObjectCreated]: it
// puts an open ticket on board.
func NewOnCreated(board *Board) func(context.Context, *topics.ObjectEvent) error {
	return func(_ context.Context, e *topics.ObjectEvent) error {
		if t, ok := e.Object.(topics.Ticket); ok {
			board.put(t)
		}
		return nil
	}
}

// NewOnUpdated returns the module's listener on [topics.ObjectUpdated]: it
// updates the ticket's card, and takes it off the board once resolved or
// closed.
func NewOnUpdated(board *Board) func(context.Context, *topics.ObjectUpdate) error {
	return func(_ context.Context, e *topics.ObjectUpdate) error {
		if t, ok := e.Object.(topics.Ticket); ok {
			board.put(t)
		}
		return nil
	}
}

// NewOnDeleted returns the module's listener on [topics.ObjectDeleted]: it
// takes the ticket off the board.
func NewOnDeleted(board *Board) func(context.Context, *topics.ObjectEvent) error {
	return func(_ context.Context, e *topics.ObjectEvent) error {
		if t, ok := e.Object.(topics.Ticket); ok {
			board.mu.Lock()
			board.remove(t.Class(), t.ObjectID())
			board.mu.Unlock()
		}
		return nil
	}
}
