package bus_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/bus"
)

// audited is a payload interface: topics whose payload implements it are
// heard by an OnImplementing[audited] listener.
type audited interface{ AuditLine() string }

type login struct{ User string }

func (l *login) AuditLine() string { return "login " + l.User }

type refund struct{ Cents int }

func (r refund) AuditLine() string { return fmt.Sprintf("refund %d", r.Cents) } // value receiver: *refund implements it too

type ping struct{}

// names collects what a bus-wide handler hears, as "topic:listener".
type heard struct {
	mu    sync.Mutex
	items []string
}

func (h *heard) add(s string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.items = append(h.items, s)
}

func (h *heard) get() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.items...)
}

func TestOnAllHearsEveryTopicRankedWithTheRest(t *testing.T) {
	a := bus.NewTopic[event]("wild.a")
	c := bus.NewTopic[event]("wild.c")
	later := bus.NewTopic[ping]("wild.later") // no listener, not declared: first met at its publish
	var got heard
	all := func(ctx context.Context, env bus.Envelope) error {
		got.add(env.Topic.Name() + ":" + env.Listener().Name)
		if e, ok := bus.PayloadOf(env, a); ok {
			e.Log = append(e.Log, "all")
		}
		return nil
	}
	b := newBus(t, []bus.Listener{
		bus.On(a, record("first"), bus.Rank(-1)),
		bus.On(a, record("last"), bus.Rank(1)),
		bus.OnAll(all, bus.Name("audit")),
		bus.On(c, record("c")),
	})
	assert.Equal(t, []string{"first", "all", "last"}, publishLog(t, a, b), "ranked with the topic's own listeners")
	require.NoError(t, c.Publish(context.Background(), b, &event{}))
	require.NoError(t, later.Publish(context.Background(), b, &ping{}))
	require.NoError(t, later.Publish(context.Background(), b, &ping{}))
	assert.Equal(t, []string{"wild.a:audit", "wild.c:audit", "wild.later:audit", "wild.later:audit"}, got.get())

	cat := b.Catalog()
	for _, ti := range cat.Topics {
		var names []string
		for _, l := range ti.Listeners {
			names = append(names, l.Name)
		}
		assert.Contains(t, names, "audit", "the catalogue lists the bus-wide listener on %s", ti.Name)
	}
}

func TestPayloadOf(t *testing.T) {
	a := bus.NewTopic[event]("payloadof.a")
	other := bus.NewTopic[event]("payloadof.other")
	e := &event{ID: "x"}
	env := bus.Envelope{Topic: a, Payload: e}
	p, ok := bus.PayloadOf(env, a)
	assert.True(t, ok)
	assert.Same(t, e, p)
	_, ok = bus.PayloadOf(env, other)
	assert.False(t, ok, "same payload type, another topic")
	_, ok = bus.PayloadOf[event](env, nil)
	assert.False(t, ok)
	assert.Equal(t, bus.ListenerInfo{}, env.Listener())
}

func TestOnImplementingHearsOnlyMatchingPayloads(t *testing.T) {
	logins := bus.NewTopic[login]("impl.login")
	refunds := bus.NewTopic[refund]("impl.refund")
	pings := bus.NewTopic[ping]("impl.ping")
	var got heard
	b := newBus(t, []bus.Listener{
		bus.On(pings, func(context.Context, *ping) error { return nil }),
		bus.OnImplementing[audited](func(_ context.Context, env bus.Envelope) error {
			got.add(env.Payload.(audited).AuditLine())
			return nil
		}),
	})
	require.NoError(t, logins.Publish(context.Background(), b, &login{User: "ada"}))
	require.NoError(t, refunds.Publish(context.Background(), b, &refund{Cents: 5}))
	require.NoError(t, pings.Publish(context.Background(), b, &ping{}))
	assert.Equal(t, []string{"login ada", "refund 5"}, got.get())
	for _, ti := range b.Catalog().Topics {
		if ti.Name == "impl.ping" {
			assert.Len(t, ti.Listeners, 1, "a topic whose payload does not match gets no instance")
		}
	}
}

func TestOnImplementingOfANonInterfaceFailsNew(t *testing.T) {
	_, err := bus.New([]bus.Listener{bus.OnImplementing[login](func(context.Context, bus.Envelope) error { return nil })})
	var we *bus.WiringError
	require.ErrorAs(t, err, &we)
	assert.Contains(t, err.Error(), "not an interface type")
	assert.Contains(t, we.Source.File, "envelope_test.go")

	_, err = bus.New([]bus.Listener{bus.OnAll(nil)})
	assert.ErrorContains(t, err, "nil handler")

	topic := bus.NewTopic[event]("impl.when")
	_, err = bus.New([]bus.Listener{bus.OnAll(func(context.Context, bus.Envelope) error { return nil },
		topic.When(func(*event) bool { return true }))})
	assert.ErrorContains(t, err, "When on a bus-wide listener")
}

func TestBusWideListenerDoesNotCountTowardARequirement(t *testing.T) {
	one := bus.NewTopic[event]("wild.exactly", bus.ExactlyOne)
	b := newBus(t, []bus.Listener{
		bus.On(one, record("the one")),
		bus.OnAll(func(context.Context, bus.Envelope) error { return nil }),
	})
	assert.Equal(t, []string{"the one"}, publishLog(t, one, b))
}

func TestSubscribeAllAndClose(t *testing.T) {
	a := bus.NewTopic[event]("suball.a")
	logins := bus.NewTopic[login]("suball.login")
	b := newBus(t, []bus.Listener{bus.On(a, record("static"))})
	var all, impl heard
	sub, err := bus.SubscribeAll(b, func(_ context.Context, env bus.Envelope) error {
		all.add(env.Topic.Name())
		return nil
	}, bus.Rank(-1))
	require.NoError(t, err)
	isub, err := bus.SubscribeImplementing[audited](b, func(_ context.Context, env bus.Envelope) error {
		impl.add(env.Topic.Name())
		return nil
	})
	require.NoError(t, err)
	assert.True(t, sub.Info().Subscribed)

	require.NoError(t, a.Publish(context.Background(), b, &event{}))
	require.NoError(t, logins.Publish(context.Background(), b, &login{}))
	assert.Equal(t, []string{"suball.a", "suball.login"}, all.get())
	assert.Equal(t, []string{"suball.login"}, impl.get())

	require.NoError(t, sub.Close())
	require.NoError(t, isub.Close())
	require.NoError(t, a.Publish(context.Background(), b, &event{}))
	require.NoError(t, logins.Publish(context.Background(), b, &login{}))
	assert.Len(t, all.get(), 2, "a closed bus-wide subscription hears no topic")
	assert.Len(t, impl.get(), 1)
	assert.Equal(t, []string{"static"}, publishLog(t, a, b))

	_, err = bus.SubscribeImplementing[login](b, func(context.Context, bus.Envelope) error { return nil })
	assert.ErrorContains(t, err, "not an interface type")
	require.NoError(t, b.Close())
	_, err = bus.SubscribeAll(b, func(context.Context, bus.Envelope) error { return nil })
	assert.ErrorIs(t, err, bus.ErrClosed)
	_, err = bus.SubscribeAll(nil, func(context.Context, bus.Envelope) error { return nil })
	assert.ErrorContains(t, err, "nil bus")
}

func TestBusWideListenerIsSpannedLikeTheRest(t *testing.T) {
	rec, tp := newRecorder(t)
	a := bus.NewTopic[event]("wild.spanned")
	b := newBus(t, []bus.Listener{
		bus.On(a, record("own"), bus.Name("own")),
		bus.OnAll(func(context.Context, bus.Envelope) error { return nil }, bus.Name("audit")),
	}, bus.WithTracerProvider(tp))
	require.NoError(t, a.Publish(context.Background(), b, &event{}))
	var names []string
	for _, s := range rec.Ended() {
		names = append(names, s.Name())
	}
	assert.Len(t, names, 3)
	joined := strings.Join(names, "|")
	assert.Contains(t, joined, "audit")
	assert.Contains(t, joined, "own")
}

func TestBusWideConcurrentSubscribeAndPublishOfNewTopics(t *testing.T) {
	b := newBus(t, nil)
	var n sync.Map
	sub, err := bus.SubscribeAll(b, func(_ context.Context, env bus.Envelope) error {
		n.Store(env.Topic.Name(), true)
		return nil
	})
	require.NoError(t, err)
	defer sub.Close()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 25 {
				topic := bus.NewTopic[event](fmt.Sprintf("wild.conc.%d.%d", g, i))
				if err := topic.Publish(context.Background(), b, &event{}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	count := 0
	n.Range(func(any, any) bool { count++; return true })
	assert.Equal(t, 100, count)
}

// TestAllocTopicNobodyTaps asserts that a bus-wide listener on an
// interface costs nothing to a topic whose payload does not implement it.
func TestAllocTopicNobodyTaps(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	topic := bus.NewTopic[tick]("alloc.untapped")
	b := newBus(t, []bus.Listener{
		bus.On(topic, count),
		bus.OnImplementing[audited](func(context.Context, bus.Envelope) error { return nil }),
	})
	assertNoAllocs(t, context.Background(), topic, b, 1)
	assert.Len(t, b.Catalog().Topics[0].Listeners, 1)
}
