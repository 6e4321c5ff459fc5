package bustest_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/bustest"
)

type thread struct{ ID int }

type posting struct {
	Thread *thread
	Body   string
	Tags   []string
}

var (
	posted = bus.NewTopic[posting]("bustest.posted")
	closed = bus.NewTopic[thread]("bustest.closed")
)

func newBus(t *testing.T, ls ...bus.Listener) *bus.Bus {
	t.Helper()
	b, err := bus.New(ls)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, b.Close()) })
	return b
}

func publish(t *testing.T, b *bus.Bus, e *posting) {
	t.Helper()
	require.NoError(t, posted.Publish(context.Background(), b, e))
}

func censor(_ context.Context, p *posting) error {
	p.Body = strings.ReplaceAll(p.Body, "darn", "****")
	return nil
}

// fakeTB records what the helpers report, instead of failing the test.
type fakeTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
	fatals []string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.fatals = append(f.fatals, fmt.Sprintf(format, args...))
	f.mu.Unlock()
	runtime.Goexit()
}

// run runs fn with a fakeTB in a goroutine of its own, so that Fatalf can
// end it, and returns the fake.
func run(t *testing.T, fn func(tb testing.TB)) *fakeTB {
	f := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f
}

func TestRecordSeesTheFinalPayload(t *testing.T) {
	b := newBus(t, bus.On(posted, censor))
	rec := bustest.Record(t, b, posted)
	assert.Same(t, posted, rec.Topic())

	e := &posting{Body: "darn it"}
	publish(t, b, e)
	publish(t, b, &posting{Body: "fine"})

	require.Equal(t, 2, rec.Len())
	assert.Equal(t, []posting{{Body: "**** it"}, {Body: "fine"}}, rec.Events())
	last, ok := rec.Last()
	assert.True(t, ok)
	assert.Equal(t, "fine", last.Body)

	e.Body = "changed after the publish"
	assert.Equal(t, "**** it", rec.Events()[0].Body, "the record is a copy of the payload")
	events := rec.Events()
	events[0].Body = "changed in the returned slice"
	assert.Equal(t, "**** it", rec.Events()[0].Body, "Events returns a new slice")
}

func TestRecordAtTheFirstRankSeesThePayloadAsPublished(t *testing.T) {
	b := newBus(t, bus.On(posted, censor, bus.Rank(math.MinInt+1)))
	first := bustest.Record(t, b, posted, bus.Rank(math.MinInt))
	last := bustest.Record(t, b, posted)

	publish(t, b, &posting{Body: "darn"})
	assert.Equal(t, []posting{{Body: "darn"}}, first.Events())
	assert.Equal(t, []posting{{Body: "****"}}, last.Events())
}

func TestRecordAtTheLastRankMissesAStoppedPublish(t *testing.T) {
	stop := func(context.Context, *posting) error { return bus.ErrStop }
	b := newBus(t, bus.On(posted, stop))
	first := bustest.Record(t, b, posted, bus.Rank(math.MinInt))
	last := bustest.Record(t, b, posted)

	publish(t, b, &posting{Body: "x"})
	assert.Equal(t, 1, first.Len())
	assert.Equal(t, 0, last.Len())
}

func TestRecordTakesListenerOptions(t *testing.T) {
	b := newBus(t)
	rec := bustest.Record(t, b, posted, posted.When(func(p *posting) bool { return p.Thread != nil && p.Thread.ID == 2 }))
	for id := range 4 {
		publish(t, b, &posting{Thread: &thread{ID: id}})
	}
	require.Equal(t, 1, rec.Len())
	assert.Equal(t, 2, rec.Events()[0].Thread.ID)
}

func TestRecordStopsWhenTheTestEnds(t *testing.T) {
	b := newBus(t)
	var rec *bustest.Recorder[posting]
	t.Run("recording", func(t *testing.T) {
		rec = bustest.Record(t, b, posted)
		publish(t, b, &posting{Body: "during"})
	})
	publish(t, b, &posting{Body: "after"})
	assert.Equal(t, []posting{{Body: "during"}}, rec.Events())
}

func TestRecordFailsTheTestWhenItCannotSubscribe(t *testing.T) {
	b := newBus(t)
	require.NoError(t, b.Close())
	var rec *bustest.Recorder[posting]
	f := run(t, func(tb testing.TB) {
		rec = bustest.Record(tb, b, posted)
		tb.Errorf("not reached")
	})
	require.Len(t, f.fatals, 1)
	assert.Contains(t, f.fatals[0], `"bustest.posted"`)
	assert.Contains(t, f.fatals[0], bus.ErrClosed.Error())
	assert.Empty(t, f.errors)
	assert.Nil(t, rec)

	f = run(t, func(tb testing.TB) { bustest.Record[posting](tb, b, nil) })
	require.Len(t, f.fatals, 1)
	assert.Contains(t, f.fatals[0], "nil topic")
}

func TestRecorderResetAndEmpty(t *testing.T) {
	b := newBus(t)
	rec := bustest.Record(t, b, posted)
	_, ok := rec.Last()
	assert.False(t, ok)
	assert.Empty(t, rec.Events())

	publish(t, b, &posting{Body: "one"})
	rec.Reset()
	assert.Equal(t, 0, rec.Len())
	publish(t, b, &posting{Body: "two"})
	assert.Equal(t, []posting{{Body: "two"}}, rec.Events(), "a reset recorder goes on recording")
}

func TestRecordConcurrentPublishes(t *testing.T) {
	b := newBus(t)
	rec := bustest.Record(t, b, posted)
	const goroutines, each = 8, 100
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				if err := posted.Publish(context.Background(), b, &posting{Thread: &thread{ID: g*each + i}}); err != nil {
					t.Error(err)
				}
				_ = rec.Len()
			}
		})
	}
	wg.Wait()
	require.Equal(t, goroutines*each, rec.Len())
	seen := map[int]bool{}
	for _, e := range rec.Events() {
		seen[e.Thread.ID] = true
	}
	assert.Len(t, seen, goroutines*each)
}

func TestAssertionsThatHold(t *testing.T) {
	b := newBus(t)
	rec := bustest.Record(t, b, posted)
	empty := bustest.Record(t, b, posted, posted.When(func(*posting) bool { return false }))
	publish(t, b, &posting{Body: "a"})
	publish(t, b, &posting{Body: "b"})

	f := run(t, func(tb testing.TB) {
		assert.True(t, bustest.AssertPublished(tb, rec, func(p *posting) bool { return p.Body == "b" }))
		assert.True(t, bustest.AssertPublished(tb, rec, nil))
		assert.True(t, bustest.AssertNotPublished(tb, rec, func(p *posting) bool { return p.Body == "c" }))
		assert.True(t, bustest.AssertNotPublished(tb, empty, nil))
		assert.True(t, bustest.AssertCount(tb, rec, 2))
		assert.True(t, bustest.AssertCount(tb, empty, 0))
	})
	assert.Empty(t, f.errors)
	assert.Empty(t, f.fatals)
}

func TestAssertionsThatFailReportTheTopicAndTheRecord(t *testing.T) {
	b := newBus(t)
	rec := bustest.Record(t, b, posted)
	empty := bustest.Record(t, b, closed)
	publish(t, b, &posting{Thread: &thread{ID: 42}, Body: "hello", Tags: []string{"vip"}})
	publish(t, b, &posting{Body: "bye"})

	for _, tc := range []struct {
		name   string
		assert func(tb testing.TB) bool
		want   []string
	}{
		{
			name: "published, no match",
			assert: func(tb testing.TB) bool {
				return bustest.AssertPublished(tb, rec, func(p *posting) bool { return p.Body == "nope" }, "looking for %s", "nope")
			},
			want: []string{
				`bustest: topic "bustest.posted": no recorded event matches; recorded 2:`,
				`#0: {Thread:&{ID:42} Body:"hello" Tags:["vip"]}`,
				`#1: {Body:"bye"}`,
				"looking for nope",
			},
		},
		{
			name:   "published, nothing recorded",
			assert: func(tb testing.TB) bool { return bustest.AssertPublished(tb, empty, nil) },
			want:   []string{`bustest: topic "bustest.closed": no event recorded; recorded 0`},
		},
		{
			name: "not published, one match",
			assert: func(tb testing.TB) bool {
				return bustest.AssertNotPublished(tb, rec, func(p *posting) bool { return p.Body == "bye" })
			},
			want: []string{`bustest: topic "bustest.posted": want no matching event, 1 of 2 recorded match:`, `#1: {Body:"bye"}`},
		},
		{
			name:   "not published, anything",
			assert: func(tb testing.TB) bool { return bustest.AssertNotPublished(tb, rec, nil, "quiet please") },
			want:   []string{`bustest: topic "bustest.posted": want no event:`, `#0: {Thread:&{ID:42}`, "#1:", "quiet please"},
		},
		{
			name:   "count",
			assert: func(tb testing.TB) bool { return bustest.AssertCount(tb, rec, 1) },
			want:   []string{`bustest: topic "bustest.posted": want 1 event(s); recorded 2:`, `#0:`, `#1: {Body:"bye"}`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var held bool
			f := run(t, func(tb testing.TB) { held = tc.assert(tb) })
			assert.False(t, held, "the assertion reports failure")
			require.Len(t, f.errors, 1, "one Errorf")
			assert.Empty(t, f.fatals, "assertions do not stop the test")
			for _, w := range tc.want {
				assert.Contains(t, f.errors[0], w)
			}
		})
	}
}

func TestFailureReportListsAtMostTwentyEvents(t *testing.T) {
	b := newBus(t)
	rec := bustest.Record(t, b, posted)
	for range 25 {
		publish(t, b, &posting{Body: "x"})
	}
	f := run(t, func(tb testing.TB) { bustest.AssertCount(tb, rec, 0) })
	require.Len(t, f.errors, 1)
	assert.Contains(t, f.errors[0], "#19:")
	assert.NotContains(t, f.errors[0], "#20:")
	assert.Contains(t, f.errors[0], "... and 5 more")
}

// publisher is a module under test: it publishes on posted when it starts.
var publisher = fx.Module("publisher",
	bus.Publishes(posted),
	fx.Invoke(func(lc fx.Lifecycle, b *bus.Bus) {
		lc.Append(fx.StartHook(func(ctx context.Context) error {
			return posted.Publish(ctx, b, &posting{Body: "darn, started"})
		}))
	}),
)

func TestCaptureInAnFxApp(t *testing.T) {
	var rec, first *bustest.Recorder[posting]
	app := fxtest.New(t, publisher, bus.Module, fx.NopLogger,
		bus.Listen(posted, censor),
		bustest.Capture(&rec, posted),
		bustest.Capture(&first, posted, bus.Rank(math.MinInt)),
	)
	require.NotNil(t, rec, "Capture sets the recorder at once")
	assert.Equal(t, 0, rec.Len())
	app.RequireStart()
	bustest.AssertCount(t, rec, 1)
	bustest.AssertPublished(t, rec, func(p *posting) bool { return p.Body == "****, started" })
	bustest.AssertPublished(t, first, func(p *posting) bool { return p.Body == "darn, started" })
	app.RequireStop()
}

func TestCaptureMistakesFailTheApp(t *testing.T) {
	err := fx.New(bus.Module, fx.NopLogger, bustest.Capture[posting](nil, posted)).Err()
	assert.ErrorContains(t, err, "bustest.Capture: nil destination")

	var rec *bustest.Recorder[posting]
	err = fx.New(bus.Module, fx.NopLogger, bustest.Capture(&rec, nil)).Err()
	assert.ErrorContains(t, err, "bustest.Capture: nil topic")
}

type level3 struct{ Deep string }
type level2 struct{ L3 *level3 }
type level1 struct{ L2 level2 }

type rich struct {
	Err     error
	When    time.Time
	Addr    netip.Addr
	Labels  map[string]int
	Data    []byte
	Many    []int
	Fn      func()
	Nil     *thread
	Any     any
	Nested  level1
	private string
}

var richTopic = bus.NewTopic[rich]("bustest.rich")

func TestFailureReportDescribesValuesCompactly(t *testing.T) {
	b := newBus(t)
	rec := bustest.Record(t, b, richTopic)
	e := &rich{
		Err:     errors.New("boom"),
		When:    time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Addr:    netip.MustParseAddr("192.0.2.7"),
		Labels:  map[string]int{"b": 2, "a": 1},
		Data:    []byte("raw"),
		Many:    []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
		Fn:      func() {},
		Any:     &thread{ID: 9},
		Nested:  level1{L2: level2{L3: &level3{Deep: "hidden"}}},
		private: "secret",
	}
	require.NoError(t, richTopic.Publish(context.Background(), b, e))
	f := run(t, func(tb testing.TB) { bustest.AssertCount(tb, rec, 0) })
	require.Len(t, f.errors, 1)
	got := f.errors[0]
	for _, want := range []string{
		`Err:"boom"`,                         // an error by its message
		`When:2025-01-02 03:04:05 +0000 UTC`, // a Stringer by its String
		`Addr:192.0.2.7`,
		`Labels:map["a":1 "b":2]`, // keys sorted
		`Data:"raw"`,
		`Many:[0 1 2 3 4 5 6 7 8 9 …2 more]`,
		`Fn:(func())`,
		`Any:&{ID:9}`,                             // behind an interface and a pointer
		`Nested:{L2:{L3:(*bustest_test.level3)}}`, // not deeper than three levels
	} {
		assert.Contains(t, got, want)
	}
	assert.NotContains(t, got, "Nil:", "zero fields are left out")
	assert.NotContains(t, got, "secret", "unexported fields are left out")
	assert.NotContains(t, got, "0xc", "no pointer addresses")
}

// A recorder is an observer: it can record a topic that needs exactly one
// listener, and it is attributed to the test line that made it.
func TestRecorderOnExactlyOneTopic(t *testing.T) {
	auth := bus.NewTopic[thread]("test.bustest.auth", bus.ExactlyOne)
	b, err := bus.New([]bus.Listener{bus.On(auth, func(context.Context, *thread) error { return nil })})
	require.NoError(t, err)
	_, file, line, _ := runtime.Caller(0)
	rec := bustest.Record(t, b, auth)
	require.NoError(t, auth.Publish(context.Background(), b, &thread{}))
	bustest.AssertCount(t, rec, 1)

	var info bus.ListenerInfo
	for _, ti := range b.Catalog().Topics {
		if ti.Name == auth.Name() {
			info = ti.Listeners[1]
		}
	}
	assert.Equal(t, "bustest.Recorder", info.Name)
	assert.Equal(t, bus.Source{File: file, Line: line + 1}, info.Source)
	assert.True(t, info.Observer)
}
