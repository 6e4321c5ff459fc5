package bus_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/fxbus/fxbus/bus"
)

// A small type hierarchy: animal > pet > *srcDog, *srcCat; *srcRock is no animal.
type (
	srcAnimal interface{ Legs() int }
	srcPet    interface {
		srcAnimal
		Owner() string
	}
	srcDog  struct{ owner string }
	srcCat  struct{ owner string }
	srcCow  struct{ Spots, Horns int } // a non-pointer source bigger than a word
	srcRock struct{}
	srcEv   struct{ N int }
)

func (*srcDog) Legs() int        { return 4 }
func (d *srcDog) Owner() string  { return d.owner }
func (*srcCat) Legs() int        { return 4 }
func (c *srcCat) Owner() string  { return c.owner }
func (srcCow) Legs() int         { return 4 }
func (*srcRock) String() string  { return "rock" }
func (e *srcEv) String() string  { return "ev" }
func (*srcRock) Weight() float64 { return 1 }

func TestFromSourceMatchesByAssignability(t *testing.T) {
	topic := bus.NewTopic[srcEv]("src.matches")
	var log notes
	b := newBus(t, []bus.Listener{
		bus.On(topic, note[srcEv](&log, "any")),
		bus.On(topic, note[srcEv](&log, "animal"), bus.FromSource[srcAnimal]()),
		bus.On(topic, note[srcEv](&log, "pet"), bus.FromSource[srcPet]()),
		bus.On(topic, note[srcEv](&log, "dog"), bus.FromSource[*srcDog]()),
		bus.On(topic, note[srcEv](&log, "cow"), bus.FromSource[srcCow]()),
		bus.On(topic, note[srcEv](&log, "rock-or-cow"), bus.FromSource[*srcRock](), bus.FromSource[srcCow]()),
	})
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		src  any
		want notes
	}{
		{"dog", &srcDog{}, notes{"any", "animal", "pet", "dog"}},
		{"cat", &srcCat{}, notes{"any", "animal", "pet"}},
		{"cow value", srcCow{}, notes{"any", "animal", "cow", "rock-or-cow"}},
		{"cow pointer", &srcCow{}, notes{"any", "animal"}}, // *srcCow has Legs too, but is not srcCow
		{"rock", &srcRock{}, notes{"any", "rock-or-cow"}},
		{"unrelated", "a string", notes{"any"}},
		{"nil source", nil, notes{"any"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log = nil
			require.NoError(t, topic.PublishFrom(ctx, b, tc.src, &srcEv{}))
			assert.Equal(t, tc.want, log)
			log = nil // a second publish is served from the cache, the same way
			require.NoError(t, topic.PublishFrom(ctx, b, tc.src, &srcEv{}))
			assert.Equal(t, tc.want, log)
		})
	}
	log = nil
	require.NoError(t, topic.Publish(ctx, b, &srcEv{}))
	assert.Equal(t, notes{"any"}, log, "Publish has no source: source-bound listeners stay silent")
}

func TestFromSourceKeepsRankOrderAcrossSources(t *testing.T) {
	topic := bus.NewTopic[srcEv]("src.rank")
	var log notes
	b := newBus(t, []bus.Listener{
		bus.On(topic, note[srcEv](&log, "pet+5"), bus.FromSource[srcPet](), bus.Rank(5)),
		bus.On(topic, note[srcEv](&log, "any+0"), bus.Rank(0)),
		bus.On(topic, note[srcEv](&log, "dog-5"), bus.FromSource[*srcDog](), bus.Rank(-5)),
		bus.On(topic, note[srcEv](&log, "any+9"), bus.Rank(9)),
	})
	require.NoError(t, topic.PublishFrom(context.Background(), b, &srcDog{}, &srcEv{}))
	assert.Equal(t, notes{"dog-5", "any+0", "pet+5", "any+9"}, log)
}

func TestFromSourceCacheFollowsSubscriptions(t *testing.T) {
	topic := bus.NewTopic[srcEv]("src.subscribe")
	var log notes
	b := newBus(t, []bus.Listener{bus.On(topic, note[srcEv](&log, "pet"), bus.FromSource[srcPet]())})
	ctx := context.Background()
	require.NoError(t, topic.PublishFrom(ctx, b, &srcDog{}, &srcEv{})) // caches *srcDog
	sub, err := topic.Subscribe(b, note[srcEv](&log, "dog"), bus.FromSource[*srcDog]())
	require.NoError(t, err)
	log = nil
	require.NoError(t, topic.PublishFrom(ctx, b, &srcDog{}, &srcEv{}))
	assert.Equal(t, notes{"pet", "dog"}, log, "a subscription rebuilds the table and its cache")
	require.NoError(t, sub.Close())
	log = nil
	require.NoError(t, topic.PublishFrom(ctx, b, &srcDog{}, &srcEv{}))
	assert.Equal(t, notes{"pet"}, log)
}

func TestFromSourcePanicNamesTheRightListener(t *testing.T) {
	// The handlers for a source are a subset of the table: the panic of the
	// second handler that hears *srcCat must be blamed on it, not on the
	// table's second handler.
	topic := bus.NewTopic[srcEv]("src.panic", bus.RunAll)
	var log notes
	b := newBus(t, []bus.Listener{
		bus.On(topic, note[srcEv](&log, "any")),
		bus.On(topic, note[srcEv](&log, "dog"), bus.FromSource[*srcDog](), bus.Name("dog")),
		bus.On(topic, func(context.Context, *srcEv) error { panic("cat trouble") }, bus.FromSource[*srcCat](), bus.Name("cat")),
		bus.On(topic, note[srcEv](&log, "after")),
	})
	err := topic.PublishFrom(context.Background(), b, &srcCat{}, &srcEv{})
	var herr *bus.HandlerError
	require.ErrorAs(t, err, &herr)
	assert.Equal(t, "cat", herr.Listener)
	var perr *bus.PanicError
	require.ErrorAs(t, err, &perr)
	assert.Equal(t, "cat trouble", perr.Value)
	assert.Equal(t, notes{"any", "after"}, log, "dispatch resumes after the panicking handler")
}

func TestFromSourceHandlerSpansOnlyForHearers(t *testing.T) {
	rec, tp := newRecorder(t)
	tracing := bus.WithTracerProvider(tp)
	topic := bus.NewTopic[srcEv]("src.spans")
	b := newBus(t, []bus.Listener{
		bus.On(topic, func(context.Context, *srcEv) error { return nil }, bus.Name("pets"), bus.FromSource[srcPet]()),
		bus.On(topic, func(context.Context, *srcEv) error { return nil }, bus.Name("rocks"), bus.FromSource[*srcRock]()),
	}, tracing)
	require.NoError(t, topic.PublishFrom(context.Background(), b, &srcDog{}, &srcEv{}))
	assert.ElementsMatch(t, []string{"publish src.spans", "pets src.spans"}, spanNames(rec.Ended()))
}

func TestPublishFromChecksArguments(t *testing.T) {
	topic := bus.NewTopic[srcEv]("src.args")
	b := newBus(t, nil)
	ctx := context.Background()
	assert.ErrorContains(t, topic.PublishFrom(ctx, nil, &srcDog{}, &srcEv{}), "nil bus")
	assert.ErrorContains(t, topic.PublishFrom(ctx, b, &srcDog{}, nil), "nil payload")
	require.NoError(t, b.Close())
	assert.ErrorIs(t, topic.PublishFrom(ctx, b, &srcDog{}, &srcEv{}), bus.ErrClosed)
}

func TestPublishFromAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	topic := bus.NewTopic[srcEv]("src.alloc")
	var n int
	count := func(context.Context, *srcEv) error { n++; return nil }
	b := newBus(t, []bus.Listener{
		bus.On(topic, count),
		bus.On(topic, count, bus.FromSource[srcPet]()),
		bus.On(topic, count, bus.FromSource[*srcCat]()),
	})
	ctx := context.Background()
	dog, cow, e := &srcDog{}, srcCow{Spots: 3, Horns: 2}, &srcEv{}
	require.NoError(t, topic.PublishFrom(ctx, b, dog, e)) // resolves and caches *srcDog
	require.NoError(t, topic.PublishFrom(ctx, b, cow, e)) // and srcCow
	n = 0
	allocs := testing.AllocsPerRun(200, func() {
		if err := topic.PublishFrom(ctx, b, dog, e); err != nil {
			t.Fatal(err)
		}
		if err := topic.PublishFrom(ctx, b, cow, e); err != nil { // a non-pointer source
			t.Fatal(err)
		}
		if err := topic.Publish(ctx, b, e); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
	assert.Equal(t, 201*(2+1+1), n, "dog: any+pet, cow: any, none: any")
}

func TestFromSourceErrorsAreStillHandlerErrors(t *testing.T) {
	topic := bus.NewTopic[srcEv]("src.err")
	boom := errors.New("boom")
	b := newBus(t, []bus.Listener{
		bus.On(topic, func(context.Context, *srcEv) error { return boom }, bus.FromSource[srcAnimal](), bus.Name("animals")),
	})
	err := topic.PublishFrom(context.Background(), b, &srcCat{}, &srcEv{})
	require.ErrorIs(t, err, boom)
	var herr *bus.HandlerError
	require.ErrorAs(t, err, &herr)
	assert.Equal(t, "src.err", herr.Topic)
	assert.Equal(t, "animals", herr.Listener)
	assert.NoError(t, topic.PublishFrom(context.Background(), b, &srcRock{}, &srcEv{}))
}

// TestPublishFromResolvesConcurrently publishes new source types from
// several goroutines at once, while subscriptions rebuild the table: every
// publish must reach exactly the listeners its source type calls for, and
// -race sees no data race in the cache.
func TestPublishFromResolvesConcurrently(t *testing.T) {
	topic := bus.NewTopic[srcEv]("src.concurrent")
	var pets, everyone atomic.Int64
	b := newBus(t, []bus.Listener{
		bus.On(topic, func(context.Context, *srcEv) error { pets.Add(1); return nil }, bus.FromSource[srcPet]()),
		bus.On(topic, func(context.Context, *srcEv) error { everyone.Add(1); return nil }),
	})
	sources := []any{&srcDog{}, &srcCat{}, srcCow{}, &srcRock{}, "s", 1, 2.5, []int{}}
	const rounds = 200
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for i := range rounds {
				if err := topic.PublishFrom(ctx, b, sources[(g+i)%len(sources)], &srcEv{}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() { // churn: each subscription starts a new table, with an empty cache
		defer wg.Done()
		for range 20 {
			sub, err := topic.Subscribe(b, func(context.Context, *srcEv) error { return nil }, bus.FromSource[*srcRock]())
			if err != nil {
				t.Error(err)
				return
			}
			_ = sub.Close()
		}
	}()
	wg.Wait()
	assert.Equal(t, int64(4*rounds), everyone.Load())
	assert.Equal(t, int64(4*rounds/len(sources)*2), pets.Load(), "dogs and cats are a quarter of the sources")
}

// TestFromSourceThroughListen declares a listener with a source once, with
// Listen, and builds two fx apps from it: each app's bus honours it.
func TestFromSourceThroughListen(t *testing.T) {
	topic := bus.NewTopic[srcEv]("seeds.fx")
	var log notes
	module := fx.Module("seeds", bus.Listen(topic, note[srcEv](&log, "pets"), bus.FromSource[srcPet]()))
	ctx := context.Background()
	for range 2 {
		var b *bus.Bus
		app := fxtest.New(t, module, bus.Module, fx.Populate(&b), fx.NopLogger)
		app.RequireStart()
		log = nil
		require.NoError(t, topic.PublishFrom(ctx, b, &srcDog{}, &srcEv{N: 2}))
		require.NoError(t, topic.PublishFrom(ctx, b, &srcRock{}, &srcEv{N: 1}))
		assert.Equal(t, notes{"pets"}, log)
		app.RequireStop()
	}
}
