package analytics

import (
	"context"
	"maps"
	"sync"

	"go.uber.org/fx"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/topics"
)

// Module provides the [*Counts] and keeps them up to date.
var Module = fx.Module("analytics",
	fx.Provide(NewCounts),
	bus.Listen(topics.BanCreated, NewOnBan),
	bus.Listen(topics.ThreadMessagePosting, NewOnMessage),
	bus.Listen(topics.ObjectUpdated, NewOnTicketChange),
)

// Snapshot is the counts at one time.
type Snapshot struct {
	// Bans counts the bans created.
	Bans int
	// Messages counts the messages posted, by kind ("user", "agent", ...).
	Messages map[string]int
	// TicketChanges counts the changes written to tickets, by class
	// ("UserRequest", "Incident").
	TicketChanges map[string]int
	// Duplicates counts the events skipped because their id was seen.
	Duplicates int
}

// Counts is what the module counted. It is safe for concurrent use.
type Counts struct {
	id   EventID
	mu   sync.Mutex
	s    Snapshot
	seen map[string]bool
}

// EventID returns the id of the event being handled under ctx, or "" when
// it has none. Given one in the container, the counts skip an event whose
// id they have counted before: an importing app reads it from the
// delivery (events cross processes at least once).
type EventID func(ctx context.Context) string

// CountsParams are what [NewCounts] takes from the container.
type CountsParams struct {
	fx.In
	// EventID, when given, makes the counts idempotent.
	EventID EventID `optional:"true"`
}

// NewCounts returns empty counts.
func NewCounts(p CountsParams) *Counts {
	return &Counts{id: p.EventID, s: Snapshot{Messages: map[string]int{}, TicketChanges: map[string]int{}}, seen: map[string]bool{}}
}

// Snapshot returns a copy of the counts.
func (c *Counts) Snapshot() Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.s
	s.Messages, s.TicketChanges = maps.Clone(s.Messages), maps.Clone(s.TicketChanges)
	return s
}

// count runs add under the lock, unless ctx names an event counted before.
func (c *Counts) count(ctx context.Context, add func(*Snapshot)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.id != nil {
		if id := c.id(ctx); id != "" {
			if c.seen[id] {
				c.s.Duplicates++
				return
			}
			c.seen[id] = true
		}
	}
	add(&c.s)
}

// NewOnBan counts the bans created.
func NewOnBan(c *Counts) func(context.Context, *topics.BanEvent) error {
	return func(ctx context.Context, _ *topics.BanEvent) error {
		c.count(ctx, func(s *Snapshot) { s.Bans++ })
		return nil
	}
}

// NewOnMessage counts the messages posted, by kind.
func NewOnMessage(c *Counts) func(context.Context, *topics.MessagePosting) error {
	return func(ctx context.Context, m *topics.MessagePosting) error {
		c.count(ctx, func(s *Snapshot) { s.Messages[m.Kind.String()]++ })
		return nil
	}
}

// NewOnTicketChange counts the changes written to tickets, by class; other
// objects' changes are not counted.
func NewOnTicketChange(c *Counts) func(context.Context, *topics.ObjectUpdate) error {
	return func(ctx context.Context, u *topics.ObjectUpdate) error {
		if _, ok := u.Object.(topics.Ticket); !ok {
			return nil
		}
		c.count(ctx, func(s *Snapshot) { s.TicketChanges[u.Object.Class()]++ })
		return nil
	}
}
