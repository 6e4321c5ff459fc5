package bustest

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.uber.org/fx"

	"github.com/fxbus/fxbus/bus"
)

// Log records everything published on a bus, in the order of the
// publishes, across topics: what Laravel's Event::fake() keeps. Get one
// from [RecordAll] or [CaptureAll]. It is safe for use by any number of
// goroutines.
type Log struct {
	mu      sync.Mutex
	entries []Entry
}

// Entry is one publish recorded by a [Log].
type Entry struct {
	// Topic is the topic published.
	Topic bus.AnyTopic
	// Payload is a shallow copy of the payload, a *T for a Topic[T], as
	// it was published.
	Payload any
}

// String returns the topic's name and the payload, as failure reports
// show them.
func (e Entry) String() string {
	return e.Topic.Name() + " " + describe(reflect.ValueOf(e.Payload), 0)
}

// RecordAll subscribes a new [Log] to every topic of bus b, those first
// published later included (see [bus.SubscribeAll]), and unsubscribes it
// when the test ends. It records at bus.Rank(math.MinInt), before every
// other listener, so that it keeps each payload as published, and records
// a publish that a listener stops or fails; and a nested publish, made by a
// handler, after the publish that made it. opts, such as [bus.Rank],
// override these. It fails the test at once if it cannot subscribe.
func RecordAll(tb testing.TB, b *bus.Bus, opts ...bus.ListenerOption) *Log {
	tb.Helper()
	l := &Log{}
	sub, err := bus.SubscribeAll(b, l.record, append(callerOptions(1), logOptions(opts)...)...)
	if err != nil {
		tb.Fatalf("bustest.RecordAll: %v", err)
		return nil
	}
	tb.Cleanup(func() { _ = sub.Close() })
	return l
}

// CaptureAll returns an fx option that adds a new [Log] to the app's bus
// (see [bus.Module]), as a bus-wide listener ([bus.OnAll]), and sets *dst
// to it at once. Its listener options are those of [RecordAll].
func CaptureAll(dst **Log, opts ...bus.ListenerOption) fx.Option {
	if dst == nil {
		return fx.Error(fmt.Errorf("bustest.CaptureAll: nil destination"))
	}
	l := &Log{}
	*dst = l
	ls := bus.OnAll(l.record, append(callerOptions(1), logOptions(opts)...)...)
	return fx.Provide(fx.Annotated{Group: bus.Group, Target: func() bus.Listener { return ls }})
}

func logOptions(opts []bus.ListenerOption) []bus.ListenerOption {
	return append([]bus.ListenerOption{bus.Rank(math.MinInt), bus.Name("bustest.Log")}, opts...)
}

func (l *Log) record(_ context.Context, env bus.Envelope) error {
	v := reflect.ValueOf(env.Payload)
	c := reflect.New(v.Elem().Type())
	c.Elem().Set(v.Elem())
	l.mu.Lock()
	l.entries = append(l.entries, Entry{Topic: env.Topic, Payload: c.Interface()})
	l.mu.Unlock()
	return nil
}

// Entries returns what was recorded so far, oldest first, in a new slice.
func (l *Log) Entries() []Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.entries)
}

// Len returns how many publishes were recorded.
func (l *Log) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

// Topics returns the names of the topics published, in order, one per
// publish.
func (l *Log) Topics() []string {
	es := l.Entries()
	names := make([]string, len(es))
	for i, e := range es {
		names[i] = e.Topic.Name()
	}
	return names
}

// Count returns how many publishes of topic t were recorded.
func (l *Log) Count(t bus.AnyTopic) int {
	n := 0
	for _, e := range l.Entries() {
		if e.Topic == t {
			n++
		}
	}
	return n
}

// Reset forgets what was recorded so far; the log goes on recording.
func (l *Log) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = nil
}

// Events returns the payloads of the publishes of topic t that l recorded,
// oldest first.
func Events[T any](l *Log, t *bus.Topic[T]) []T {
	var out []T
	for _, e := range l.Entries() {
		if e.Topic == bus.AnyTopic(t) {
			out = append(out, *e.Payload.(*T))
		}
	}
	return out
}

// Want is an expected publish, for [Expect] and [ExpectExactly]: a topic
// and, optionally, a test on its payload. Make one with [Published].
type Want struct {
	topic bus.AnyTopic
	match func(any) bool
}

// Published expects a publish of topic t whose payload satisfies every
// match (none: any payload).
func Published[T any](t *bus.Topic[T], match ...func(*T) bool) Want {
	return Want{topic: t, match: func(p any) bool {
		e, ok := p.(*T)
		if !ok {
			return false
		}
		for _, m := range match {
			if m != nil && !m(e) {
				return false
			}
		}
		return true
	}}
}

func (w Want) String() string {
	if w.topic == nil {
		return "<nil topic>"
	}
	return w.topic.Name()
}

func (w Want) matches(e Entry) bool {
	return w.topic != nil && e.Topic == w.topic && w.match(e.Payload)
}

// Expect asserts that l recorded publishes matching want, in that order,
// with any others between them, as tailscale's eventbustest.Expect reads.
// On failure it reports, with tb.Errorf, the first expectation not met and
// everything recorded. It returns whether the assertion held.
func Expect(tb testing.TB, l *Log, want ...Want) bool {
	tb.Helper()
	es := l.Entries()
	i := 0
	for _, e := range es {
		if i < len(want) && want[i].matches(e) {
			i++
		}
	}
	if i == len(want) {
		return true
	}
	tb.Errorf("%s", logReport(fmt.Sprintf("want, in order, %s; no match for #%d (%s) after the ones before it",
		wantList(want), i, want[i]), es, nil))
	return false
}

// ExpectExactly asserts that l recorded exactly the publishes matching
// want, in that order, and nothing else. It returns whether the assertion
// held.
func ExpectExactly(tb testing.TB, l *Log, want ...Want) bool {
	tb.Helper()
	es := l.Entries()
	ok := len(es) == len(want)
	for i := 0; ok && i < len(es); i++ {
		ok = want[i].matches(es[i])
	}
	if ok {
		return true
	}
	tb.Errorf("%s", logReport(fmt.Sprintf("want exactly %s", wantList(want)), es, nil))
	return false
}

// AssertNothingPublished asserts that l recorded no publish at all, as
// Laravel's Event::assertNothingDispatched. It returns whether the
// assertion held.
func AssertNothingPublished(tb testing.TB, l *Log, msgAndArgs ...any) bool {
	tb.Helper()
	es := l.Entries()
	if len(es) == 0 {
		return true
	}
	tb.Errorf("%s", logReport("want nothing published", es, msgAndArgs))
	return false
}

// AssertOnlyPublished asserts that l recorded publishes of the given topics
// only: nothing else was published (some of them may not have been). It
// returns whether the assertion held.
func AssertOnlyPublished(tb testing.TB, l *Log, topics ...bus.AnyTopic) bool {
	tb.Helper()
	es := l.Entries()
	var others []int
	for i, e := range es {
		if !slices.Contains(topics, e.Topic) {
			others = append(others, i)
		}
	}
	if len(others) == 0 {
		return true
	}
	names := make([]string, len(topics))
	for i, t := range topics {
		names[i] = t.Name()
	}
	tb.Errorf("%s", logReport(fmt.Sprintf("want only [%s] published, %d other publish(es)", strings.Join(names, ", "), len(others)),
		pick(es, others), nil))
	return false
}

// AssertCounts asserts how many publishes of each topic l recorded: a
// topic in counts with 0 must not have been published; topics not in
// counts are not checked. It returns whether the assertion held.
func AssertCounts(tb testing.TB, l *Log, counts map[bus.AnyTopic]int) bool {
	tb.Helper()
	es := l.Entries()
	got := map[bus.AnyTopic]int{}
	for _, e := range es {
		got[e.Topic]++
	}
	var bad []string
	for t, n := range counts {
		if got[t] != n {
			bad = append(bad, fmt.Sprintf("%s: want %d, got %d", t.Name(), n, got[t]))
		}
	}
	if len(bad) == 0 {
		return true
	}
	slices.Sort(bad)
	tb.Errorf("%s", logReport("counts by topic differ: "+strings.Join(bad, "; "), es, nil))
	return false
}

func wantList(want []Want) string {
	s := make([]string, len(want))
	for i, w := range want {
		s[i] = w.String()
	}
	return "[" + strings.Join(s, ", ") + "]"
}

func pick(es []Entry, at []int) []Entry {
	out := make([]Entry, len(at))
	for i, j := range at {
		out[i] = es[j]
	}
	return out
}

// logReport describes a failed assertion on a log: what was wrong, the
// entries (at most maxListed), and the user's message.
func logReport(what string, es []Entry, msgAndArgs []any) string {
	var b strings.Builder
	fmt.Fprintf(&b, "bustest: %s; recorded %d", what, len(es))
	if len(es) > 0 {
		b.WriteString(":")
	}
	for i, e := range es {
		if i == maxListed {
			fmt.Fprintf(&b, "\n\t... and %d more", len(es)-maxListed)
			break
		}
		fmt.Fprintf(&b, "\n\t#%d: %s", i, e)
	}
	if msg := message(msgAndArgs); msg != "" {
		b.WriteString("\n\t" + msg)
	}
	return b.String()
}
