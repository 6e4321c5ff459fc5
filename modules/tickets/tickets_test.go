package tickets_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/goleak"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/modules/tickets"
	"github.com/fxbus/fxbus/topics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var ctx = context.Background()

func start(t *testing.T) (*bus.Bus, *tickets.Board) {
	t.Helper()
	var b *bus.Bus
	var board *tickets.Board
	app := fxtest.New(t, fx.NopLogger, bus.Module, tickets.Module, fx.Populate(&b, &board))
	app.RequireStart()
	t.Cleanup(app.RequireStop)
	return b, board
}

func created(t *testing.T, b *bus.Bus, o topics.Object) {
	t.Helper()
	require.NoError(t, topics.ObjectCreated.PublishFrom(ctx, b, o, &topics.ObjectEvent{Object: o}))
}

func updated(t *testing.T, b *bus.Bus, o topics.Object, changes map[string]any) {
	t.Helper()
	require.NoError(t, topics.ObjectUpdated.PublishFrom(ctx, b, o, &topics.ObjectUpdate{Object: o, Changes: changes}))
}

func refs(cards []tickets.Card) []string {
	var s []string
	for _, c := range cards {
		s = append(s, c.Ref)
	}
	return s
}

// A listener on the Ticket source hears user requests and incidents, never
// documents, nor events published without a source.
func TestModuleHearsTicketsOnly(t *testing.T) {
	b, board := start(t)
	t0 := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
	created(t, b, &topics.UserRequest{TicketInfo: topics.TicketInfo{ID: 2, Ref: "R-2", Status: topics.TicketStatusNew, Created: t0}})
	created(t, b, &topics.UserRequest{TicketInfo: topics.TicketInfo{ID: 1, Ref: "R-1", Status: topics.TicketStatusNew, Created: t0}})
	created(t, b, &topics.Incident{TicketInfo: topics.TicketInfo{ID: 1, Ref: "I-1", Status: topics.TicketStatusNew, Created: t0}, Impact: 1})
	created(t, b, &topics.Document{ID: 1, Name: "transcript"})
	// The same topic without a source: not heard, although the payload holds a ticket.
	unsourced := &topics.Incident{TicketInfo: topics.TicketInfo{ID: 9, Ref: "I-9"}}
	require.NoError(t, topics.ObjectCreated.Publish(ctx, b, &topics.ObjectEvent{Object: unsourced}))

	assert.Equal(t, []string{"R-1", "R-2"}, refs(board.Open("UserRequest")), "by ascending id")
	assert.Equal(t, []string{"I-1"}, refs(board.Open("Incident")))
	assert.Empty(t, board.Open("Document"))
	assert.Equal(t, map[string]int{"UserRequest": 2, "Incident": 1}, board.Counts())

	last, ok := board.Last()
	require.True(t, ok)
	assert.Equal(t, tickets.Card{Class: "Incident", ID: 1, Ref: "I-1", Status: topics.TicketStatusNew, Updated: t0}, last)
}

func TestModuleFollowsUpdatesAndDeletes(t *testing.T) {
	b, board := start(t)
	r := &topics.UserRequest{TicketInfo: topics.TicketInfo{ID: 1, Ref: "R-1", Status: topics.TicketStatusNew}}
	i := &topics.Incident{TicketInfo: topics.TicketInfo{ID: 1, Ref: "I-1", Status: topics.TicketStatusNew}}
	created(t, b, r)
	created(t, b, i)

	t1 := time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC)
	r.Status, r.AgentID, r.Updated = topics.TicketStatusAssigned, 7, t1
	updated(t, b, r, map[string]any{"Status": r.Status, "AgentID": r.AgentID})
	open := board.Open("UserRequest")
	require.Len(t, open, 1)
	assert.Equal(t, topics.TicketStatusAssigned, open[0].Status)
	assert.Equal(t, topics.OperatorID(7), open[0].AgentID)
	last, _ := board.Last()
	assert.Equal(t, "R-1", last.Ref)
	assert.Equal(t, t1, last.Updated)

	// Resolved: off the board, but still the last update.
	r.Status = topics.TicketStatusResolved
	updated(t, b, r, map[string]any{"Status": r.Status})
	assert.Empty(t, board.Open("UserRequest"))
	last, _ = board.Last()
	assert.Equal(t, topics.TicketStatusResolved, last.Status)

	// Deleted: off the board. A document's deletion is not heard.
	require.NoError(t, topics.ObjectDeleted.PublishFrom(ctx, b, &topics.Document{ID: 1}, &topics.ObjectEvent{Object: &topics.Document{ID: 1}}))
	assert.Equal(t, map[string]int{"Incident": 1}, board.Counts())
	require.NoError(t, topics.ObjectDeleted.PublishFrom(ctx, b, i, &topics.ObjectEvent{Object: i}))
	assert.Empty(t, board.Counts())
}

// A ticket created closed never shows as open.
func TestModuleClosedOnCreation(t *testing.T) {
	b, board := start(t)
	created(t, b, &topics.Incident{TicketInfo: topics.TicketInfo{ID: 3, Status: topics.TicketStatusClosed}})
	assert.Empty(t, board.Counts())
	_, ok := board.Last()
	assert.True(t, ok)
}

func TestBoardIsSafeForConcurrentUse(t *testing.T) {
	b, board := start(t)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 25 {
				r := &topics.UserRequest{TicketInfo: topics.TicketInfo{ID: int64(g*100 + i), Status: topics.TicketStatusNew}}
				_ = topics.ObjectCreated.PublishFrom(ctx, b, r, &topics.ObjectEvent{Object: r})
				_ = board.Counts()
				_, _ = board.Last()
			}
		})
	}
	wg.Wait()
	assert.Len(t, board.Open("UserRequest"), 100)
}
