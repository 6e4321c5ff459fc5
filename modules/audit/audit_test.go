package audit_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/goleak"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/modules/audit"
	"github.com/fxbus/fxbus/topics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// start runs the module in an app with opts and returns its bus and log.
func start(t *testing.T, opts ...fx.Option) (*bus.Bus, *audit.Log) {
	t.Helper()
	var b *bus.Bus
	var log *audit.Log
	app := fxtest.New(t, append([]fx.Option{fx.NopLogger, bus.Module, audit.Module, fx.Populate(&b, &log)}, opts...)...)
	app.RequireStart()
	t.Cleanup(app.RequireStop)
	return b, log
}

func TestModuleRecordsCreateUpdateDelete(t *testing.T) {
	ctx := context.Background()
	until := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	ticket := &topics.Incident{TicketInfo: topics.TicketInfo{ID: 7}}
	for _, tc := range []struct {
		publish func(*bus.Bus) error
		topic   string
		summary string
	}{
		{func(b *bus.Bus) error {
			return topics.BanCreated.Publish(ctx, b, &topics.BanEvent{Ban: &topics.Ban{
				ID: 3, Address: netip.MustParseAddr("192.0.2.1"), Comment: "spam", Until: until}})
		}, "ban.created", "created ban 3 of 192.0.2.1 until 2030-01-02T03:04:05Z: spam"},
		{func(b *bus.Bus) error {
			return topics.BanUpdated.Publish(ctx, b, &topics.BanUpdate{Ban: &topics.Ban{ID: 3, Address: netip.MustParseAddr("192.0.2.1")}})
		}, "ban.updated", "updated ban 3 of 192.0.2.1"},
		{func(b *bus.Bus) error { return topics.BanDeleted.Publish(ctx, b, &topics.BanDeletion{ID: 3}) },
			"ban.deleted", "deleted ban 3"},
		{func(b *bus.Bus) error {
			return topics.ThreadCreated.Publish(ctx, b, &topics.ThreadEvent{Thread: &topics.Thread{ID: 9, UserID: "u1"}})
		}, "thread.created", `created thread 9 (queue) of visitor "u1"`},
		{func(b *bus.Bus) error { return topics.ThreadDeleted.Publish(ctx, b, &topics.ThreadDeletion{ID: 9}) },
			"thread.deleted", "deleted thread 9"},
		{func(b *bus.Bus) error {
			return topics.OperatorCreated.Publish(ctx, b, &topics.OperatorEvent{Operator: &topics.Operator{ID: 2, Login: "ada"}})
		}, "operator.created", `created operator 2 "ada"`},
		{func(b *bus.Bus) error {
			return topics.GroupCreated.Publish(ctx, b, &topics.GroupEvent{Group: &topics.Group{ID: 4, Name: "Sales"}})
		}, "group.created", `created group 4 "Sales"`},
		{func(b *bus.Bus) error {
			return topics.VisitorCreated.Publish(ctx, b, &topics.VisitorEvent{Visitor: &topics.Visitor{ID: 5, UserID: "u1"}})
		}, "visitor.created", `created visitor 5 "u1"`},
		{func(b *bus.Bus) error {
			return topics.VisitorOldDeleted.Publish(ctx, b, &topics.OldVisitorsDeletion{IDs: []topics.VisitorID{5, 6}})
		}, "visitor.old_deleted", "deleted 2 old visitor(s) [5 6]"},
		{func(b *bus.Bus) error {
			return topics.ObjectCreated.PublishFrom(ctx, b, ticket, &topics.ObjectEvent{Object: ticket})
		}, "object.created", "created Incident 7"},
		{func(b *bus.Bus) error {
			return topics.ObjectUpdated.PublishFrom(ctx, b, ticket, &topics.ObjectUpdate{Object: ticket,
				Changes: map[string]any{"Status": "assigned", "AgentID": 2}})
		}, "object.updated", "updated Incident 7: AgentID, Status"},
		{func(b *bus.Bus) error {
			return topics.ObjectDeleted.Publish(ctx, b, &topics.ObjectEvent{Object: &topics.Document{ID: 8}})
		}, "object.deleted", "deleted Document 8"},
		{func(b *bus.Bus) error {
			return topics.ModerationBanRequested.Publish(ctx, b, &topics.BanRequest{UserID: "u1", By: "moderation", Reason: "abuse"})
		}, "moderation.ban_requested", `moderation asks to ban visitor "u1": abuse`},
		{func(b *bus.Bus) error { return topics.OperatorDeleted.Publish(ctx, b, &topics.OperatorDeletion{}) },
			"operator.deleted", "deleted operator 0"},
		{func(b *bus.Bus) error { return topics.ThreadClosed.Publish(ctx, b, &topics.ThreadEvent{}) },
			"thread.closed", "closed thread"}, // nil pointers in a payload do not break the trail
	} {
		t.Run(tc.topic, func(t *testing.T) {
			b, log := start(t)
			require.NoError(t, tc.publish(b))
			entries := log.Entries()
			require.Len(t, entries, 1)
			assert.Equal(t, tc.topic, entries[0].Topic)
			assert.Equal(t, tc.summary, entries[0].Summary)
			assert.False(t, entries[0].Time.IsZero())
		})
	}
}

// The module records before the other listeners run: a later listener
// sees the entry, and a later failure, which stops the publish, does not
// keep the event from the trail.
func TestModuleRecordsFirst(t *testing.T) {
	var seen []audit.Entry
	b, log := start(t,
		bus.Listen(topics.ModerationBanRequested, func(log *audit.Log) func(context.Context, *topics.BanRequest) error {
			return func(context.Context, *topics.BanRequest) error {
				seen = log.Entries()
				return errors.New("refused")
			}
		}, bus.Rank(-99)),
	)
	err := topics.ModerationBanRequested.Publish(context.Background(), b, &topics.BanRequest{UserID: "u1"})
	require.ErrorContains(t, err, "refused")
	require.Len(t, seen, 1, "the entry is there when the next listener runs")
	assert.Equal(t, "moderation.ban_requested", seen[0].Topic)
	assert.Equal(t, seen, log.Entries())
}

func TestModuleRecordsTheCaller(t *testing.T) {
	b, log := start(t)
	ctx := topics.WithCaller(context.Background(), topics.Caller{UserID: "admin", Token: "secret"})
	require.NoError(t, topics.BanDeleted.Publish(ctx, b, &topics.BanDeletion{ID: 1}))
	require.NoError(t, topics.BanDeleted.Publish(context.Background(), b, &topics.BanDeletion{ID: 2}))
	entries := log.Entries()
	require.Len(t, entries, 2)
	assert.Equal(t, "admin", entries[0].By)
	assert.Equal(t, "", entries[1].By)
}

// The log keeps the newest entries, up to its capacity, oldest first.
func TestLogIsBounded(t *testing.T) {
	b, log := start(t, fx.Supply(audit.Config{Capacity: 3}))
	for i := range 5 {
		require.NoError(t, topics.BanDeleted.Publish(context.Background(), b, &topics.BanDeletion{ID: topics.BanID(i)}))
	}
	var got []string
	for _, e := range log.Entries() {
		got = append(got, e.Summary)
	}
	assert.Equal(t, []string{"deleted ban 2", "deleted ban 3", "deleted ban 4"}, got)
	assert.Equal(t, 3, log.Len())
	assert.Equal(t, 2, log.Dropped())
}

func TestLogDefaultCapacity(t *testing.T) {
	log := audit.NewLog(audit.Params{})
	for i := range audit.DefaultCapacity + 1 {
		log.Add(context.Background(), "t", fmt.Sprint(i))
	}
	assert.Equal(t, audit.DefaultCapacity, log.Len())
	assert.Equal(t, "1", log.Entries()[0].Summary)
}

// Publishers on many goroutines, and readers, share the log safely (run
// with -race).
func TestLogIsSafeForConcurrentUse(t *testing.T) {
	b, log := start(t, fx.Supply(audit.Config{Capacity: 50}))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				_ = topics.BanDeleted.Publish(context.Background(), b, &topics.BanDeletion{ID: topics.BanID(g*100 + i)})
				_ = log.Entries()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 50, log.Len())
	assert.Equal(t, 8*20-50, log.Dropped())
}
