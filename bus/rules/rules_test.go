package rules_test

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/rules"
	"github.com/fxbus/fxbus/internal/race"
	"github.com/fxbus/fxbus/internal/spantest"
)

type ruleEv struct {
	ID   int
	Name string
}

func ruleIDIs(id int) func(*ruleEv) bool     { return func(e *ruleEv) bool { return e.ID == id } }
func ruleNameIs(n string) func(*ruleEv) bool { return func(e *ruleEv) bool { return e.Name == n } }
func ruleEven(e *ruleEv) bool                { return e.ID%2 == 0 }
func ruleDiv3(e *ruleEv) bool                { return e.ID%3 == 0 }
func ruleNever(*ruleEv) bool                 { return false }
func ruleTopics() (a, b *bus.Topic[ruleEv]) {
	return bus.NewTopic[ruleEv]("rule.a"), bus.NewTopic[ruleEv]("rule.b")
}
func ruleCounter(n *atomic.Int64) func(context.Context, *ruleEv) error {
	return func(context.Context, *ruleEv) error { n.Add(1); return nil }
}

func TestRuleSetPolicies(t *testing.T) {
	a, b := ruleTopics()
	for _, tc := range []struct {
		name         string
		policy       rules.Policy
		given        []rules.Rule
		wantA, wantB bool
	}{
		{"include one topic", rules.Include, []rules.Rule{rules.Match("1", a)}, true, false},
		{"include both", rules.Include, []rules.Rule{rules.Match("1", a), rules.Match("2", b)}, true, true},
		{"include none blocks all", rules.Include, nil, false, false},
		{"include, predicate fails", rules.Include, []rules.Rule{rules.Match("1", a, ruleNever)}, false, false},
		{"exclude one topic", rules.Exclude, []rules.Rule{rules.Match("1", a)}, false, true},
		{"exclude none passes all", rules.Exclude, nil, true, true},
		{"exclude, predicate fails", rules.Exclude, []rules.Rule{rules.Match("1", a, ruleNever)}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := rules.New("sub", tc.policy, tc.given...)
			require.NoError(t, err)
			var log spantest.Trail
			bb := spantest.NewBus(t, []bus.Listener{
				bus.On(a, spantest.Note[ruleEv](&log, "a"), rules.When(rs, a)),
				bus.On(b, spantest.Note[ruleEv](&log, "b"), rules.When(rs, b)),
				bus.On(b, spantest.Note[ruleEv](&log, "b unfiltered")),
			})
			ctx := context.Background()
			require.NoError(t, a.Publish(ctx, bb, &ruleEv{}))
			require.NoError(t, b.Publish(ctx, bb, &ruleEv{}))
			var want spantest.Trail
			if tc.wantA {
				want = append(want, "a")
			}
			if tc.wantB {
				want = append(want, "b")
			}
			want = append(want, "b unfiltered")
			assert.Equal(t, want, log)
		})
	}
}

func TestRuleAnyOfAllOf(t *testing.T) {
	a, _ := ruleTopics()
	rs, err := rules.New("sub", rules.Include, rules.Match("r", a,
		rules.AllOf(ruleIDIs(42), ruleNameIs("the best name ever")),
		rules.AllOf(ruleIDIs(7), ruleNameIs("seven")),
	))
	require.NoError(t, err)
	var heard []ruleEv
	b := spantest.NewBus(t, []bus.Listener{bus.On(a, func(_ context.Context, e *ruleEv) error { heard = append(heard, *e); return nil }, rules.When(rs, a))})
	for _, e := range []ruleEv{{42, "the best name ever"}, {42, "other"}, {7, "seven"}, {7, "the best name ever"}, {1, ""}} {
		require.NoError(t, a.Publish(context.Background(), b, &e))
	}
	assert.Equal(t, []ruleEv{{42, "the best name ever"}, {7, "seven"}}, heard)
	assert.True(t, rules.AllOf[ruleEv]()(&ruleEv{}), "AllOf of nothing holds")
}

func TestRuleSetEditsByID(t *testing.T) {
	a, b := ruleTopics()
	rs, err := rules.New("sub", rules.Include, rules.Match("1", a), rules.Match("2", b, ruleEven))
	require.NoError(t, err)
	ids := func() []string {
		var s []string
		for _, r := range rs.Rules() {
			s = append(s, r.ID())
		}
		return s
	}
	assert.Equal(t, "sub", rs.Name())
	assert.Equal(t, rules.Include, rs.Policy())
	assert.Equal(t, []string{"1", "2"}, ids())

	require.NoError(t, rs.Put(rules.Match("1", b), rules.Match("", a), rules.Match("3", a)))
	assert.Equal(t, []string{"1", "2", "", "3"}, ids(), "a replaced rule keeps its place; others are added")
	assert.Same(t, b, rs.Rules()[0].Topic(), "rule 1 now matches topic b")

	err = rs.Remove("3", "nope")
	var rerr *rules.Error
	require.ErrorAs(t, err, &rerr)
	assert.ErrorIs(t, err, rules.ErrUnknownRule)
	assert.Equal(t, "sub", rerr.Set)
	assert.Contains(t, err.Error(), `"nope"`)
	assert.Equal(t, []string{"1", "2", "", "3"}, ids(), "a failed Remove removes nothing")
	require.ErrorIs(t, rs.Remove(""), rules.ErrUnknownRule, "anonymous rules cannot be named")

	require.NoError(t, rs.Remove("3", "1"))
	assert.Equal(t, []string{"2", ""}, ids())

	require.NoError(t, rs.Reset(rules.Exclude, rules.Match("x", a)))
	assert.Equal(t, rules.Exclude, rs.Policy())
	assert.Equal(t, []string{"x"}, ids())
}

func TestRuleSetRejectsBadRules(t *testing.T) {
	a, _ := ruleTopics()
	var nilTopic *bus.Topic[ruleEv]
	for _, tc := range []struct {
		name  string
		given []rules.Rule
		cause string
		rule  string
		topic string
	}{
		{"nil topic", []rules.Rule{rules.Match("r", nilTopic)}, "nil topic", `"r"`, ""},
		{"nil predicate", []rules.Rule{rules.Match("r", a, ruleEven, nil)}, "nil predicate", `"r"`, "rule.a"},
		{"nil in AllOf", []rules.Rule{rules.Match("", a, rules.AllOf(ruleEven, nil))}, "nil predicate", "#0", "rule.a"},
		{"duplicate id", []rules.Rule{rules.Match("r", a), rules.Match("r", a, ruleEven)}, rules.ErrDuplicateRule.Error(), `"r"`, "rule.a"},
		{"zero rule", []rules.Rule{rules.Match("ok", a), {}}, "zero Rule", "#1", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rules.New("sub", rules.Include, tc.given...)
			var rerr *rules.Error
			require.ErrorAs(t, err, &rerr)
			assert.ErrorContains(t, err, tc.cause)
			assert.Equal(t, "sub", rerr.Set)
			assert.Equal(t, tc.rule, rerr.Rule)
			assert.Equal(t, tc.topic, rerr.Topic)

			rs, err := rules.New("sub", rules.Include, rules.Match("keep", a))
			require.NoError(t, err)
			require.Error(t, rs.Put(tc.given...))
			require.Error(t, rs.Reset(rules.Exclude, tc.given...))
			assert.Len(t, rs.Rules(), 1, "a failed change changes nothing")
			assert.Equal(t, rules.Include, rs.Policy())
		})
	}
	_, err := rules.New("sub", rules.Policy(9))
	assert.ErrorContains(t, err, "Policy(9)")
}

func TestWhenNilIsAWiringError(t *testing.T) {
	a, _ := ruleTopics()
	_, err := bus.New([]bus.Listener{bus.On(a, func(context.Context, *ruleEv) error { return nil }, rules.When(nil, a))})
	var werr *bus.WiringError
	require.ErrorAs(t, err, &werr)
	assert.Equal(t, "rule.a", werr.Topic)
	assert.ErrorContains(t, err, "nil predicate")
}

// A rule set's filter for topic a would apply a's rules to b's events: a
// listener of b refuses it, although the payload types match.
func TestWhenOfAnotherTopicIsAWiringError(t *testing.T) {
	a, b := ruleTopics()
	rs, err := rules.New("sub", rules.Include, rules.Match("1", a))
	require.NoError(t, err)
	_, err = bus.New([]bus.Listener{bus.On(b, func(context.Context, *ruleEv) error { return nil }, rules.When(rs, a))})
	var werr *bus.WiringError
	require.ErrorAs(t, err, &werr)
	assert.Equal(t, "rule.b", werr.Topic)
	assert.ErrorContains(t, err, `When of another topic, "rule.a"`)
}

func TestRuleBlockedHandlerHasNoSpan(t *testing.T) {
	rec, tp := spantest.Tracing(t)
	a, _ := ruleTopics()
	rs, err := rules.New("sub", rules.Include, rules.Match("even", a, ruleEven))
	require.NoError(t, err)
	b := spantest.NewBus(t, []bus.Listener{
		bus.On(a, func(context.Context, *ruleEv) error { return nil }, bus.Name("filtered"), rules.When(rs, a)),
		bus.On(a, func(context.Context, *ruleEv) error { return nil }, bus.Name("plain")),
	}, tp)
	ctx := context.Background()
	require.NoError(t, a.Publish(ctx, b, &ruleEv{ID: 1}))
	assert.Equal(t, []string{"publish rule.a", "plain rule.a"}, spantest.SpanNames(rec), "blocked: no span")
	rec.Reset()
	require.NoError(t, a.Publish(ctx, b, &ruleEv{ID: 2}))
	assert.Equal(t, []string{"publish rule.a", "filtered rule.a", "plain rule.a"}, spantest.SpanNames(rec))
}

func TestRuleSetSharedByListenersOfSeveralBuses(t *testing.T) {
	a, b := ruleTopics()
	rs, err := rules.New("shared", rules.Include, rules.Match("a", a))
	require.NoError(t, err)
	var n1, n2 atomic.Int64
	b1 := spantest.NewBus(t, []bus.Listener{bus.On(a, ruleCounter(&n1), rules.When(rs, a)), bus.On(b, ruleCounter(&n1), rules.When(rs, b))})
	b2 := spantest.NewBus(t, nil)
	_, err = b.Subscribe(b2, ruleCounter(&n2), rules.When(rs, b)) // b bound after the set was made
	require.NoError(t, err)
	ctx := context.Background()
	publishAll := func() {
		for _, bb := range []*bus.Bus{b1, b2} {
			require.NoError(t, a.Publish(ctx, bb, &ruleEv{}))
			require.NoError(t, b.Publish(ctx, bb, &ruleEv{}))
		}
	}
	publishAll()
	assert.Equal(t, []int64{1, 0}, []int64{n1.Load(), n2.Load()})
	require.NoError(t, rs.Put(rules.Match("b", b)))
	publishAll()
	assert.Equal(t, []int64{3, 1}, []int64{n1.Load(), n2.Load()}, "one change reaches every listener on every bus")
}

// TestRuleSetChangesRaceWithPublishes changes rules while publishes run:
// every event a handler hears must be passed by some version of the rules,
// a publish begun after a change obeys it, and -race sees no data race.
func TestRuleSetChangesRaceWithPublishes(t *testing.T) {
	a, b := ruleTopics()
	evens := rules.Match("r", a, ruleEven)
	thirds := rules.Match("r", a, ruleDiv3)
	rs, err := rules.New("sub", rules.Include, evens)
	require.NoError(t, err)
	var bad, heard atomic.Int64
	bb := spantest.NewBus(t, []bus.Listener{bus.On(a, func(_ context.Context, e *ruleEv) error {
		heard.Add(1)
		if !ruleEven(e) && !ruleDiv3(e) {
			bad.Add(1)
		}
		return nil
	}, rules.When(rs, a))})

	var stop atomic.Bool
	var published atomic.Int64
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for i := 0; !stop.Load(); i++ {
				if err := a.Publish(ctx, bb, &ruleEv{ID: i}); err != nil {
					bad.Add(1)
				}
				published.Add(1)
			}
		}()
	}
	// Change the rules only once publishes are under way (ID 0 is even, so
	// the first one is heard), and go on until many ran alongside.
	for heard.Load() == 0 {
		runtime.Gosched()
	}
	for i := 0; i < 2000 || published.Load() < 5000; i++ {
		var err error
		switch i % 4 {
		case 0:
			err = rs.Put(thirds)
		case 1:
			err = rs.Remove("r") // nothing included: blocks all
		case 2:
			err = rs.Put(evens, rules.Match("b", b))
		case 3:
			err = rs.Reset(rules.Include, thirds)
		}
		require.NoError(t, err)
	}
	stop.Store(true)
	wg.Wait()
	assert.Zero(t, bad.Load(), "a handler heard an event no version of the rules passes")
	assert.Positive(t, heard.Load())

	require.NoError(t, rs.Reset(rules.Include, evens))
	heard.Store(0)
	for i := range 10 {
		require.NoError(t, a.Publish(context.Background(), bb, &ruleEv{ID: i}))
	}
	assert.Equal(t, int64(5), heard.Load(), "after the last change, only evens")
}

// TestRuleSetChangeIsAtomicAcrossTopics publishes a then b while one Reset
// blocks both: no iteration may see a blocked and then b still passed.
func TestRuleSetChangeIsAtomicAcrossTopics(t *testing.T) {
	// Topics declared in an order and bound in another, so that the set's
	// slots and the topics' ids disagree.
	b, a := ruleTopics()
	for round := range 50 {
		rs, err := rules.New("sub", rules.Include, rules.Match("a", a), rules.Match("b", b))
		require.NoError(t, err)
		var heardA, heardB atomic.Bool
		bb := spantest.NewBus(t, []bus.Listener{
			bus.On(b, func(context.Context, *ruleEv) error { heardB.Store(true); return nil }, rules.When(rs, b)),
			bus.On(a, func(context.Context, *ruleEv) error { heardA.Store(true); return nil }, rules.When(rs, a)),
		})
		done := make(chan int)
		go func() {
			torn, ctx := 0, context.Background()
			for i := 0; ; i++ {
				heardA.Store(false)
				heardB.Store(false)
				_ = a.Publish(ctx, bb, &ruleEv{})
				_ = b.Publish(ctx, bb, &ruleEv{})
				if !heardA.Load() && heardB.Load() {
					torn++
				}
				if !heardA.Load() && !heardB.Load() && i > 0 {
					done <- torn
					return
				}
			}
		}()
		require.NoError(t, rs.Reset(rules.Include), "round %d", round)
		assert.Zero(t, <-done, "round %d: a publish saw the change on a but not on b", round)
	}
}

func TestRulesAllocateNothing(t *testing.T) {
	if race.Enabled {
		t.Skip("the race detector allocates")
	}
	a, b := ruleTopics()
	rs, err := rules.New("sub", rules.Include,
		rules.Match("a", a, rules.AllOf(ruleEven, ruleDiv3), ruleIDIs(5)),
		rules.Match("b", b))
	require.NoError(t, err)
	var n atomic.Int64
	bb := spantest.NewBus(t, []bus.Listener{
		bus.On(a, ruleCounter(&n), rules.When(rs, a)),
		bus.On(a, ruleCounter(&n), rules.When(rs, a), a.When(ruleEven)),
		bus.On(b, ruleCounter(&n), rules.When(rs, b)),
	})
	ctx := context.Background()
	e6, e5, e1 := &ruleEv{ID: 6}, &ruleEv{ID: 5}, &ruleEv{ID: 1}
	allocs := testing.AllocsPerRun(200, func() {
		_ = a.Publish(ctx, bb, e6) // both a listeners
		_ = a.Publish(ctx, bb, e5) // the first
		_ = a.Publish(ctx, bb, e1) // none
		_ = b.Publish(ctx, bb, e1) // the b listener
	})
	assert.Zero(t, allocs)
	assert.Equal(t, int64(201*4), n.Load())
}
