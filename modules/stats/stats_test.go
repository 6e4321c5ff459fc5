package stats_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/goleak"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/modules/stats"
	"github.com/fxbus/fxbus/topics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var ctx = context.Background()

func start(t *testing.T, opts ...fx.Option) (*bus.Bus, *stats.Stats) {
	t.Helper()
	var b *bus.Bus
	var s *stats.Stats
	app := fxtest.New(t, append([]fx.Option{fx.NopLogger, bus.Module, stats.Module, fx.Populate(&b, &s)}, opts...)...)
	app.RequireStart()
	t.Cleanup(app.RequireStop)
	return b, s
}

func activity(t *testing.T, b *bus.Bus, threads, closed, messages int) {
	t.Helper()
	for range threads {
		require.NoError(t, topics.ThreadCreated.Publish(ctx, b, &topics.ThreadEvent{}))
	}
	for range closed {
		require.NoError(t, topics.ThreadClosed.Publish(ctx, b, &topics.ThreadEvent{}))
	}
	for range messages {
		require.NoError(t, topics.ThreadMessagePosting.Publish(ctx, b, &topics.MessagePosting{Body: "hi"}))
	}
}

func TestModuleCountsBetweenCronRuns(t *testing.T) {
	b, s := start(t)
	t1 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Hour)

	_, ok := s.Last()
	assert.False(t, ok, "no run yet")
	activity(t, b, 2, 1, 3)
	assert.Equal(t, stats.Period{Threads: 2, Closed: 1, Messages: 3}, s.Current())

	require.NoError(t, topics.CronRun.Publish(ctx, b, &topics.CronTick{Time: t1}))
	last, ok := s.Last()
	require.True(t, ok)
	assert.Equal(t, stats.Period{To: t1, Threads: 2, Closed: 1, Messages: 3}, last)
	assert.Equal(t, stats.Period{From: t1}, s.Current())

	activity(t, b, 1, 0, 5)
	require.NoError(t, topics.CronRun.Publish(ctx, b, &topics.CronTick{Time: t2}))
	activity(t, b, 0, 1, 0)

	last, _ = s.Last()
	assert.Equal(t, stats.Period{From: t1, To: t2, Threads: 1, Messages: 5}, last)
	assert.Equal(t, stats.Period{From: t2, Closed: 1}, s.Current())
	assert.Equal(t, stats.Period{To: t2, Threads: 3, Closed: 2, Messages: 8}, s.Total())
	assert.Equal(t, 2, s.Runs())
}

// Messages are counted after the listeners at lower ranks: one refused
// there is not counted.
func TestModuleCountsOnlyMessagesThatGetThrough(t *testing.T) {
	b, s := start(t, bus.Listen(topics.ThreadMessagePosting, func(_ context.Context, m *topics.MessagePosting) error {
		if strings.Contains(m.Body, "spam") {
			return errors.New("refused")
		}
		return nil
	}, bus.Rank(stats.MessageRank-1)))
	require.NoError(t, topics.ThreadMessagePosting.Publish(ctx, b, &topics.MessagePosting{Body: "hello"}))
	require.Error(t, topics.ThreadMessagePosting.Publish(ctx, b, &topics.MessagePosting{Body: "spam"}))
	assert.Equal(t, 1, s.Current().Messages)
}

func TestStatsIsSafeForConcurrentUse(t *testing.T) {
	b, s := start(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := range 50 {
				assert.NoError(t, topics.ThreadCreated.Publish(ctx, b, &topics.ThreadEvent{}))
				assert.NoError(t, topics.ThreadMessagePosting.Publish(ctx, b, &topics.MessagePosting{}))
				if i%10 == 0 {
					_ = topics.CronRun.Publish(ctx, b, &topics.CronTick{Time: time.Now()})
				}
				_ = s.Total()
			}
		})
	}
	wg.Wait()
	total := s.Total()
	assert.Equal(t, 200, total.Threads)
	assert.Equal(t, 200, total.Messages)
	assert.Equal(t, 20, s.Runs())
}
