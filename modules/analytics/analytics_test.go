package analytics_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/modules/analytics"
	"github.com/fxbus/fxbus/topics"
)

func TestCounts(t *testing.T) {
	var b *bus.Bus
	var c *analytics.Counts
	type idKey struct{}
	app := fxtest.New(t, fx.NopLogger, bus.Module, analytics.Module, fx.Populate(&b, &c),
		fx.Supply(analytics.EventID(func(ctx context.Context) string { id, _ := ctx.Value(idKey{}).(string); return id })))
	app.RequireStart()
	defer app.RequireStop()
	ctx := context.Background()

	require.NoError(t, topics.BanCreated.Publish(ctx, b, &topics.BanEvent{Ban: &topics.Ban{ID: 1}}))
	require.NoError(t, topics.ThreadMessagePosting.Publish(ctx, b, &topics.MessagePosting{Kind: topics.MessageKindUser}))
	require.NoError(t, topics.ThreadMessagePosting.Publish(ctx, b, &topics.MessagePosting{Kind: topics.MessageKindAgent}))
	require.NoError(t, topics.ObjectUpdated.Publish(ctx, b, &topics.ObjectUpdate{Object: &topics.UserRequest{}}))
	require.NoError(t, topics.ObjectUpdated.Publish(ctx, b, &topics.ObjectUpdate{Object: &topics.Document{}}))
	// The same event twice, by id: counted once.
	dup := context.WithValue(ctx, idKey{}, "evt-1")
	require.NoError(t, topics.BanCreated.Publish(dup, b, &topics.BanEvent{Ban: &topics.Ban{ID: 2}}))
	require.NoError(t, topics.BanCreated.Publish(dup, b, &topics.BanEvent{Ban: &topics.Ban{ID: 2}}))

	s := c.Snapshot()
	assert.Equal(t, 2, s.Bans)
	assert.Equal(t, 1, s.Duplicates)
	assert.Equal(t, map[string]int{topics.MessageKindUser.String(): 1, topics.MessageKindAgent.String(): 1}, s.Messages)
	assert.Equal(t, map[string]int{"UserRequest": 1}, s.TicketChanges, "documents are no tickets")
	s.Messages["x"] = 9
	assert.NotContains(t, c.Snapshot().Messages, "x", "a snapshot is a copy")
}
