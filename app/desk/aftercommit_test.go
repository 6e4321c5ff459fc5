package desk_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/fxbus/fxbus/app/desk"
	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/unit"
	"github.com/fxbus/fxbus/modules/stats"
	"github.com/fxbus/fxbus/topics"
)

// A message the store refuses (the thread is full) must not count as
// posted: the desk posts within a unit of work, and the stats module's
// count, an after-commit listener, runs only for stored messages, while a
// listener that runs at once hears every attempt.
func TestAMessageTheStoreRefusesIsNotCounted(t *testing.T) {
	var st *stats.Stats
	var attempts, stored atomic.Int64
	f := newDesk(t, desk.Config{LogOutput: testWriter{t}, Limits: desk.Limits{MaxMessagesPerThread: 4}}, false,
		stats.Module, fx.Populate(&st),
		bus.Listen(topics.ThreadMessagePosting, func(context.Context, *topics.MessagePosting) error {
			attempts.Add(1)
			return nil
		}, bus.Name("test.attempts")),
		bus.Listen(topics.ThreadMessagePosting, func(context.Context, *topics.MessagePosting) error {
			stored.Add(1)
			return nil
		}, bus.Name("test.stored"), unit.AfterCommit()))

	// Starting the thread posted its greeting already.
	attempts0, stored0, counted0 := attempts.Load(), stored.Load(), st.Current().Messages
	created, refused := 0, 0
	for i := range 6 {
		w := f.do("POST", fmt.Sprintf("/threads/%d/messages", f.thread), f.aliceToken, fmt.Sprintf(`{"body":"message %d"}`, i))
		if w.Code == 201 {
			created++
		} else {
			refused++
			assert.Contains(t, w.Body.String(), "limit", "refused for the store's limit: %s", w.Body)
		}
	}
	require.Positive(t, created)
	require.Positive(t, refused, "the store refused some messages")
	assert.EqualValues(t, created+refused, attempts.Load()-attempts0, "a listener that runs at once hears every attempt")
	assert.EqualValues(t, created, stored.Load()-stored0, "an after-commit listener hears the stored messages only")
	assert.Equal(t, created, st.Current().Messages-counted0, "stats count stored messages only")
}
