package bustest_test

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/bustest"
)

var reopened = bus.NewTopic[thread]("bustest.reopened") // no listener anywhere

func TestRecordAllKeepsEveryPublishInOrderAcrossTopics(t *testing.T) {
	var b *bus.Bus
	b = newBus(t,
		bus.On(posted, censor),
		bus.On(posted, func(ctx context.Context, p *posting) error { // a nested publish
			if p.Thread != nil {
				return closed.Publish(ctx, b, p.Thread)
			}
			return nil
		}, bus.Rank(1)),
	)
	log := bustest.RecordAll(t, b)
	publish(t, b, &posting{Body: "darn", Thread: &thread{ID: 7}})
	require.NoError(t, reopened.Publish(context.Background(), b, &thread{ID: 7}))

	assert.Equal(t, []string{"bustest.posted", "bustest.closed", "bustest.reopened"}, log.Topics(),
		"the order of the publishes, a nested one after the one that made it, a topic without listeners included")
	assert.Equal(t, 3, log.Len())
	assert.Equal(t, 1, log.Count(closed))
	assert.Equal(t, []posting{{Body: "darn", Thread: &thread{ID: 7}}}, bustest.Events(log, posted),
		"recorded as published, before the censor")
	assert.Equal(t, []thread{{ID: 7}, {ID: 7}}, append(bustest.Events(log, closed), bustest.Events(log, reopened)...))
	assert.Contains(t, log.Entries()[0].String(), `bustest.posted &{Thread:&{ID:7} Body:"darn"}`)

	log.Reset()
	assert.Zero(t, log.Len())
}

func TestRecordAllAtTheLastRankSeesTheFinalPayload(t *testing.T) {
	b := newBus(t, bus.On(posted, censor))
	log := bustest.RecordAll(t, b, bus.Rank(math.MaxInt))
	publish(t, b, &posting{Body: "darn"})
	assert.Equal(t, "****", bustest.Events(log, posted)[0].Body)
}

func TestRecordAllStopsWhenTheTestEnds(t *testing.T) {
	b := newBus(t)
	var log *bustest.Log
	t.Run("recording", func(t *testing.T) {
		log = bustest.RecordAll(t, b)
		publish(t, b, &posting{})
	})
	publish(t, b, &posting{})
	assert.Equal(t, 1, log.Len())
}

func TestRecordAllFailsTheTestWhenItCannotSubscribe(t *testing.T) {
	b := newBus(t)
	require.NoError(t, b.Close())
	f := run(t, func(tb testing.TB) { bustest.RecordAll(tb, b) })
	require.Len(t, f.fatals, 1)
	assert.Contains(t, f.fatals[0], bus.ErrClosed.Error())
}

func TestLogAssertionsThatHold(t *testing.T) {
	b := newBus(t)
	log := bustest.RecordAll(t, b)
	f := run(t, func(tb testing.TB) { assert.True(t, bustest.AssertNothingPublished(tb, log)) })
	assert.Empty(t, f.errors)

	publish(t, b, &posting{Body: "a"})
	require.NoError(t, closed.Publish(context.Background(), b, &thread{ID: 1}))
	publish(t, b, &posting{Body: "b"})

	f = run(t, func(tb testing.TB) {
		assert.True(t, bustest.Expect(tb, log, bustest.Published(posted), bustest.Published(posted, func(p *posting) bool { return p.Body == "b" })))
		assert.True(t, bustest.Expect(tb, log, bustest.Published(closed)))
		assert.True(t, bustest.Expect(tb, log))
		assert.True(t, bustest.ExpectExactly(tb, log, bustest.Published(posted), bustest.Published(closed), bustest.Published(posted)))
		assert.True(t, bustest.AssertOnlyPublished(tb, log, posted, closed))
		assert.True(t, bustest.AssertCounts(tb, log, map[bus.AnyTopic]int{posted: 2, closed: 1, reopened: 0}))
	})
	assert.Empty(t, f.errors)
}

func TestLogAssertionsThatFailReportTheLog(t *testing.T) {
	b := newBus(t)
	log := bustest.RecordAll(t, b)
	publish(t, b, &posting{Body: "a"})
	require.NoError(t, closed.Publish(context.Background(), b, &thread{ID: 1}))

	for _, tc := range []struct {
		name   string
		assert func(tb testing.TB) bool
		want   []string
	}{
		{"nothing", func(tb testing.TB) bool { return bustest.AssertNothingPublished(tb, log, "after %s", "setup") },
			[]string{"want nothing published; recorded 2:", `#0: bustest.posted &{Body:"a"}`, "#1: bustest.closed &{ID:1}", "after setup"}},
		{"order", func(tb testing.TB) bool {
			return bustest.Expect(tb, log, bustest.Published(closed), bustest.Published(posted))
		}, []string{"want, in order, [bustest.closed, bustest.posted]; no match for #1 (bustest.posted)"}},
		{"payload", func(tb testing.TB) bool {
			return bustest.Expect(tb, log, bustest.Published(posted, func(p *posting) bool { return p.Body == "z" }))
		}, []string{"no match for #0 (bustest.posted)"}},
		{"exactly", func(tb testing.TB) bool { return bustest.ExpectExactly(tb, log, bustest.Published(posted)) },
			[]string{"want exactly [bustest.posted]; recorded 2"}},
		{"only", func(tb testing.TB) bool { return bustest.AssertOnlyPublished(tb, log, posted) },
			[]string{"want only [bustest.posted] published, 1 other publish(es)", "bustest.closed &{ID:1}"}},
		{"counts", func(tb testing.TB) bool {
			return bustest.AssertCounts(tb, log, map[bus.AnyTopic]int{posted: 2, reopened: 0})
		}, []string{"counts by topic differ: bustest.posted: want 2, got 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var held bool
			f := run(t, func(tb testing.TB) { held = tc.assert(tb) })
			assert.False(t, held)
			require.Len(t, f.errors, 1)
			for _, w := range tc.want {
				assert.Contains(t, f.errors[0], w)
			}
		})
	}
}

func TestCaptureAll(t *testing.T) {
	var log *bustest.Log
	app := fxtest.New(t, bus.Module, fx.NopLogger, bustest.CaptureAll(&log),
		fx.Invoke(func(lc fx.Lifecycle, b *bus.Bus) {
			lc.Append(fx.StartHook(func(ctx context.Context) error {
				if err := posted.Publish(ctx, b, &posting{Body: "hi"}); err != nil {
					return err
				}
				return closed.Publish(ctx, b, &thread{ID: 2})
			}))
		}))
	app.RequireStart()
	defer app.RequireStop()
	bustest.ExpectExactly(t, log, bustest.Published(posted), bustest.Published(closed))

	assert.Error(t, fx.New(fx.NopLogger, bustest.CaptureAll(nil)).Err())
}
