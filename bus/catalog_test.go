package bus_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/fxbus/fxbus/bus"
)

type shipment struct {
	// Order is documented in the source only; the test supplies the doc.
	Order   string
	Parcels int
	secret  string // unexported fields stay out of catalogues
}

var _ = shipment{secret: "used only to show it stays out"}

func TestCatalog(t *testing.T) {
	shipped := bus.NewTopic[shipment]("test.catalog.shipped", bus.Description("A shipment left."),
		bus.RunAll)
	lost := bus.NewTopic[shipment]("test.catalog.lost", bus.Optional)
	l := line() + 1
	b := newBus(t, []bus.Listener{
		bus.On(shipped, record2("notify"), bus.Name("notify"), bus.Rank(5)),
		bus.On(shipped, record2("audit"), bus.Name("audit"), bus.Rank(-5)),
	}, bus.WithPublisher(shipped, "warehouse"), bus.WithTopics(lost), bus.WithPublisher(lost, "tracking"))
	sub, err := shipped.Subscribe(b, record2("late"), bus.Name("late"))
	require.NoError(t, err)

	c := b.Catalog()
	require.Len(t, c.Topics, 2)
	assert.Equal(t, "test.catalog.lost", c.Topics[0].Name, "topics by name")
	s := c.Topics[1]
	assert.Equal(t, "test.catalog.shipped", s.Name)
	assert.Equal(t, "A shipment left.", s.Description)
	assert.Equal(t, "bus_test.shipment", s.Payload)
	assert.Equal(t, bus.RunAll, s.ErrorPolicy)
	assert.Equal(t, []bus.FieldInfo{{Name: "Order", Type: "string"}, {Name: "Parcels", Type: "int"}}, s.Fields)
	var names []string
	for _, li := range s.Listeners {
		names = append(names, li.Name)
	}
	assert.Equal(t, []string{"audit", "late", "notify"}, names, "dispatch order, subscription included")
	assert.Equal(t, 1, s.Subscriptions)
	assert.True(t, s.Listeners[1].Subscribed)
	assert.Equal(t, bus.Source{File: callerFile(), Line: l + 2}, s.Listeners[0].Source, "audit is declared on the second line")
	require.Len(t, s.Publishers, 1)
	assert.Equal(t, "warehouse", s.Publishers[0].Module)
	assert.Equal(t, callerFile(), s.Publishers[0].Source.File)

	js, err := json.Marshal(c)
	require.NoError(t, err)
	assert.Contains(t, string(js), `"error_policy":"run-all"`)
	assert.Contains(t, string(js), `"requirement":"optional"`)
	assert.NotContains(t, string(js), "secret")

	require.NoError(t, sub.Close())
	assert.Zero(t, b.Catalog().Topics[1].Subscriptions)
	require.NoError(t, b.Close())
	assert.Empty(t, b.Catalog().Topics)
}

// A topic's Info is what a catalogue says of it, without what belongs to a
// bus: tools describe a topic that no bus knows the way the bus does.
func TestTopicInfo(t *testing.T) {
	shipped := bus.NewTopic[shipment]("test.info.shipped", bus.Description("A shipment left."),
		bus.RunAll, bus.AtLeastOne)
	assert.Equal(t, bus.TopicInfo{
		Name:        "test.info.shipped",
		Description: "A shipment left.",
		Payload:     "bus_test.shipment",
		Fields:      []bus.FieldInfo{{Name: "Order", Type: "string"}, {Name: "Parcels", Type: "int"}},
		ErrorPolicy: bus.RunAll,
		Requirement: bus.AtLeastOne,
	}, shipped.Info())

	b := newBus(t, []bus.Listener{bus.On(shipped, record2("notify"))}, bus.WithPublisher(shipped, "warehouse"))
	c := b.Catalog()
	require.Len(t, c.Topics, 1)
	want := c.Topics[0]
	want.Listeners, want.Subscriptions, want.Publishers = nil, 0, nil
	assert.Equal(t, want, shipped.Info(), "the catalogue's entry, bar listeners and publishers")

	var count bus.AnyTopic = bus.NewTopic[int]("test.info.count")
	assert.Equal(t, bus.TopicInfo{Name: "test.info.count", Payload: "int"}, count.Info(), "defaults; no fields but a struct's")
}

func record2(name string) func(context.Context, *shipment) error {
	return func(_ context.Context, s *shipment) error { s.Order += name; return nil }
}

func TestWiringReport(t *testing.T) {
	published := bus.NewTopic[shipment]("test.report.published")
	listened := bus.NewTopic[shipment]("test.report.listened")
	both := bus.NewTopic[shipment]("test.report.both")
	listeners := []bus.Listener{bus.On(listened, record2("x"), bus.Name("x")), bus.On(both, record2("y"))}
	pubs := []bus.Option{bus.WithPublisher(published, "producer"), bus.WithPublisher(both, "producer")}

	t.Run("logged", func(t *testing.T) {
		var buf bytes.Buffer
		_, err := bus.New(listeners, append(pubs, bus.WithLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))))...)
		require.NoError(t, err)
		out := buf.String()
		assert.Equal(t, 2, strings.Count(out, "level=DEBUG"), "one line per finding:\n%s", out)
		assert.Contains(t, out, `test.report.published\": published, but nobody listens (published by producer (`)
		assert.Contains(t, out, `test.report.listened\": listened to, but nobody declared publishing it (listeners: x (`)
		assert.NotContains(t, out, "test.report.both")
	})
	t.Run("strict", func(t *testing.T) {
		_, err := bus.New(listeners, append(pubs, bus.WithStrictWiring())...)
		require.ErrorContains(t, err, "published, but nobody listens")
		require.ErrorContains(t, err, "listened to, but nobody declared publishing it")
		var we *bus.WiringError
		require.ErrorAs(t, err, &we)
		assert.Equal(t, "test.report.published", we.Topic, "reports in declaration order of the topics")
	})
	t.Run("no publishers declared, nothing to report", func(t *testing.T) {
		_, err := bus.New(listeners, bus.WithStrictWiring())
		require.NoError(t, err)
	})
	t.Run("nil topic", func(t *testing.T) {
		_, err := bus.New(nil, bus.WithPublisher(nil, "m"))
		require.ErrorContains(t, err, "publisher #0 (m, ")
	})
}

func TestPublishesIsInTheCatalog(t *testing.T) {
	var b *bus.Bus
	l := line() + 1
	app := fx.New(bus.Module, bus.Publishes(fxBanned), bus.Listen(fxBanned, func(context.Context, *banned) error { return nil }),
		fx.Populate(&b), fx.NopLogger)
	require.NoError(t, app.Err())
	var found bool
	for _, ti := range b.Catalog().Topics {
		if ti.Name == fxBanned.Name() {
			found = true
			require.Len(t, ti.Publishers, 1)
			assert.Equal(t, bus.PublisherInfo{Module: "bus_test", Source: bus.Source{File: callerFile(), Line: l}}, ti.Publishers[0])
		}
	}
	assert.True(t, found)
}

func TestPolicyAndRequirementText(t *testing.T) {
	for p, want := range map[bus.ErrorPolicy]string{bus.StopOnError: "stop-on-error", bus.RunAll: "run-all"} {
		b, err := p.MarshalText()
		require.NoError(t, err)
		assert.Equal(t, want, string(b))
		var back bus.ErrorPolicy
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, p, back)
	}
	for r, want := range map[bus.Requirement]string{bus.Optional: "optional", bus.AtLeastOne: "at least one listener", bus.ExactlyOne: "exactly one listener"} {
		b, err := r.MarshalText()
		require.NoError(t, err)
		assert.Equal(t, want, string(b))
		var back bus.Requirement
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, r, back)
	}
	var p bus.ErrorPolicy
	require.EqualError(t, p.UnmarshalText([]byte("sometimes")), `fxbus: unknown error policy "sometimes"`)
	var r bus.Requirement
	require.EqualError(t, r.UnmarshalText([]byte("two")), `fxbus: unknown requirement "two"`)
}

func TestPublishesSeveral(t *testing.T) {
	started := bus.NewTopic[banned]("test.fx.all.started")
	ended := bus.NewTopic[banned]("test.fx.all.ended") // same payload type: one payload type, one declaration
	var b *bus.Bus
	l := line() + 1
	app := fx.New(bus.Module, bus.Publishes(started, ended), fx.Populate(&b), fx.NopLogger)
	require.NoError(t, app.Err())
	pubs := map[string][]bus.PublisherInfo{}
	for _, ti := range b.Catalog().Topics {
		pubs[ti.Name] = ti.Publishers
	}
	want := []bus.PublisherInfo{{Module: "bus_test", Source: bus.Source{File: callerFile(), Line: l}}}
	for _, name := range []string{"test.fx.all.started", "test.fx.all.ended"} {
		assert.Equal(t, want, pubs[name], name)
	}
	require.ErrorContains(t, fx.New(bus.Module, bus.Publishes(started, nil), fx.NopLogger).Err(), "Publishes: topic #1 is nil")
}

// Publishers come in the order of an fx value group, which dig shuffles;
// the catalogue sorts them by module, then source.
func TestCatalogPublishersAreSorted(t *testing.T) {
	topic := bus.NewTopic[shipment]("test.catalog.sorted")
	decls := []bus.Option{bus.WithPublisher(topic, "zeta"), bus.WithPublisher(topic, "alpha"), bus.WithPublisher(topic, "mid")}
	for i := 0; i < 3; i++ {
		opts := append(decls[i:], decls[:i]...)
		b := newBus(t, nil, opts...)
		var mods []string
		for _, p := range b.Catalog().Topics[0].Publishers {
			mods = append(mods, p.Module)
		}
		assert.Equal(t, []string{"alpha", "mid", "zeta"}, mods, "rotation %d", i)
	}
}
