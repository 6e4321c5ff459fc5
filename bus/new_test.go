package bus_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/bus"
)

type otherEvent struct{ N int }

// here is "new_test.go:<line>", the source that an error must name.
func here(line int) string { return fmt.Sprintf("new_test.go:%d", line) }

func TestNewWiringErrors(t *testing.T) {
	ok := record("ok")
	for _, tc := range []struct {
		name  string
		build func() ([]bus.Listener, []bus.Option, []string) // listeners, options, what the error must contain
		is    error
	}{
		{"nil handler", func() ([]bus.Listener, []bus.Option, []string) {
			topic := bus.NewTopic[event]("wiring.nilhandler")
			l, at := bus.On(topic, nil, bus.Name("forgotten")), line()
			return []bus.Listener{l}, nil, []string{`topic "wiring.nilhandler"`, "forgotten", here(at), "nil handler"}
		}, errors.New("nil handler")},

		{"nil handler without a name", func() ([]bus.Listener, []bus.Option, []string) {
			topic := bus.NewTopic[event]("wiring.nilhandler.unnamed")
			l, at := bus.On(topic, nil), line()
			return []bus.Listener{l}, nil, []string{`topic "wiring.nilhandler.unnamed"`, "listener at ", here(at), "nil handler"}
		}, errors.New("nil handler")},

		{"nil bus-wide handler", func() ([]bus.Listener, []bus.Option, []string) {
			l, at := bus.OnAll(nil), line()
			return []bus.Listener{l}, nil, []string{"listener at ", here(at), "on every topic: nil handler"}
		}, errors.New("nil handler")},

		{"Awaited at New", func() ([]bus.Listener, []bus.Option, []string) {
			topic := bus.NewTopic[event]("wiring.awaited")
			l, at := bus.On(topic, ok, bus.Name("waiter"), bus.Awaited()), line()
			return []bus.Listener{l}, nil, []string{`topic "wiring.awaited"`, "waiter", here(at), "Awaited is for runtime subscriptions"}
		}, nil},

		{"Awaited on a bus-wide listener at New", func() ([]bus.Listener, []bus.Option, []string) {
			l, at := bus.OnAll(func(context.Context, bus.Envelope) error { return nil }, bus.Name("everything"), bus.Awaited()), line()
			return []bus.Listener{l}, nil, []string{"everything", here(at), "not for New"}
		}, nil},

		{"nil topic", func() ([]bus.Listener, []bus.Option, []string) {
			var topic *bus.Topic[event]
			l, at := bus.On(topic, ok, bus.Name("orphan")), line()
			return []bus.Listener{l}, nil, []string{"nil topic", "orphan", here(at)}
		}, errors.New("nil topic")},

		{"nil listener", func() ([]bus.Listener, []bus.Option, []string) {
			topic := bus.NewTopic[event]("wiring.nillistener")
			return []bus.Listener{bus.On(topic, ok), nil}, nil, []string{"listener #1 is nil"}
		}, nil},

		{"same listener twice", func() ([]bus.Listener, []bus.Option, []string) {
			topic := bus.NewTopic[event]("wiring.twice")
			l, at := bus.On(topic, ok, bus.Name("dup")), line()
			return []bus.Listener{l, bus.On(topic, ok), l}, nil,
				[]string{`topic "wiring.twice"`, "dup", here(at), "given twice", "#0 and #2"}
		}, nil},

		{"When for another payload", func() ([]bus.Listener, []bus.Option, []string) {
			topic := bus.NewTopic[event]("wiring.when")
			l, at := bus.On(topic, ok, bus.Name("picky"), bus.NewTopic[otherEvent]("wiring.other").When(func(*otherEvent) bool { return true })), line()
			return []bus.Listener{l}, nil,
				[]string{`topic "wiring.when"`, "picky", here(at), `When of another topic, "wiring.other"`}
		}, nil},

		{"When of another topic with the same payload", func() ([]bus.Listener, []bus.Option, []string) {
			topic, sibling := bus.NewTopic[event]("wiring.when.mine"), bus.NewTopic[event]("wiring.when.sibling")
			l, at := bus.On(topic, ok, bus.Name("borrowed"), sibling.When(func(*event) bool { return true })), line()
			return []bus.Listener{l}, nil,
				[]string{`topic "wiring.when.mine"`, "borrowed", here(at), `When of another topic, "wiring.when.sibling"`}
		}, nil},

		{"nil When", func() ([]bus.Listener, []bus.Option, []string) {
			topic := bus.NewTopic[event]("wiring.nilwhen")
			l, at := bus.On(topic, ok, bus.Name("nowhen"), topic.When(nil)), line()
			return []bus.Listener{l}, nil, []string{`topic "wiring.nilwhen"`, "nowhen", here(at), "nil predicate"}
		}, nil},

		{"empty topic name", func() ([]bus.Listener, []bus.Option, []string) {
			topic, at := bus.NewTopic[event](""), line()
			return []bus.Listener{bus.On(topic, ok)}, nil, []string{"empty name", here(at)}
		}, nil},

		{"AtLeastOne with none", func() ([]bus.Listener, []bus.Option, []string) {
			topic := bus.NewTopic[event]("wiring.atleastone", bus.AtLeastOne)
			return nil, []bus.Option{bus.WithTopics(topic)},
				[]string{`topic "wiring.atleastone"`, "needs at least one listener, has none"}
		}, bus.ErrRequirement},

		{"ExactlyOne with none", func() ([]bus.Listener, []bus.Option, []string) {
			topic := bus.NewTopic[event]("wiring.exactlyone.none", bus.ExactlyOne)
			return nil, []bus.Option{bus.WithTopics(topic)},
				[]string{`topic "wiring.exactlyone.none"`, "needs exactly one listener, has none"}
		}, bus.ErrRequirement},

		{"ExactlyOne with two", func() ([]bus.Listener, []bus.Option, []string) {
			topic := bus.NewTopic[event]("wiring.exactlyone", bus.ExactlyOne)
			l1, at1 := bus.On(topic, ok, bus.Name("first")), line()
			l2, at2 := bus.On(topic, ok, bus.Name("second")), line()
			return []bus.Listener{l2, l1}, nil,
				[]string{`topic "wiring.exactlyone"`, "first", here(at1), "second", here(at2), "needs exactly one listener, has 2"}
		}, bus.ErrRequirement},

		{"nil WithTopics entry", func() ([]bus.Listener, []bus.Option, []string) {
			return nil, []bus.Option{bus.WithTopics(nil)}, []string{"WithTopics: topic #0: nil topic"}
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ls, opts, want := tc.build()
			var b *bus.Bus
			var err error
			require.NotPanics(t, func() { b, err = bus.New(ls, opts...) })
			require.Error(t, err)
			assert.Nil(t, b)
			for _, w := range want {
				assert.Contains(t, err.Error(), w)
			}
			if tc.is != nil {
				assert.ErrorContains(t, err, tc.is.Error())
				var werr *bus.WiringError
				assert.ErrorAs(t, err, &werr)
			}
		})
	}
}

// A listener of a nil topic is reported without a topic: "nil topic"
// once, after the listener.
func TestNewNilTopicSaidOnce(t *testing.T) {
	var topic *bus.Topic[event]
	l, at := bus.On(topic, func(context.Context, *event) error { return nil }, bus.Name("orphan")), line()
	_, err := bus.New([]bus.Listener{l})
	require.Error(t, err)
	assert.Regexp(t, `^fxbus: listener orphan \(.*`+regexp.QuoteMeta(here(at))+`\): nil topic$`, err.Error())
	var werr *bus.WiringError
	require.ErrorAs(t, err, &werr)
	assert.Empty(t, werr.Topic)
}

func TestNewReportsEveryMistake(t *testing.T) {
	good := bus.NewTopic[event]("wiring.all.good")
	one := bus.NewTopic[event]("wiring.all.one", bus.ExactlyOne)
	some := bus.NewTopic[event]("wiring.all.some", bus.AtLeastOne)

	nilHandler, at1 := bus.On(good, nil, bus.Name("nilh")), line()
	badWhen, at2 := bus.On(good, record("x"), bus.Name("badwhen"), bus.NewTopic[otherEvent]("wiring.all.other").When(func(*otherEvent) bool { return false })), line()
	oneA, at3 := bus.On(one, record("a"), bus.Name("oneA")), line()
	oneB, at4 := bus.On(one, record("b"), bus.Name("oneB")), line()

	var b *bus.Bus
	var err error
	require.NotPanics(t, func() {
		b, err = bus.New([]bus.Listener{
			bus.On(good, record("fine")),
			nilHandler, nil, badWhen, oneA, oneB,
		}, bus.WithTopics(some))
	})
	require.Error(t, err)
	assert.Nil(t, b)

	msg := err.Error()
	for _, w := range []string{
		"nilh (", here(at1), "nil handler",
		"badwhen (", here(at2), "When of another topic",
		"listener #2 is nil",
		`topic "wiring.all.one"`, here(at3), here(at4), "has 2",
		`topic "wiring.all.some"`, "has none",
	} {
		assert.Contains(t, msg, w)
	}
	assert.ErrorContains(t, err, "nil handler")
	assert.ErrorIs(t, err, bus.ErrRequirement)
	assert.Len(t, err.(interface{ Unwrap() []error }).Unwrap(), 5, "one error per mistake:\n%s", msg)
	assert.Equal(t, 5, strings.Count(msg, "\n")+1, "one line per mistake:\n%s", msg)
}

func TestNewAcceptsValidWiring(t *testing.T) {
	one := bus.NewTopic[event]("wiring.ok.one", bus.ExactlyOne)
	some := bus.NewTopic[event]("wiring.ok.some", bus.AtLeastOne)
	free := bus.NewTopic[event]("wiring.ok.free")
	l := bus.On(one, record("one"))
	b := newBus(t, []bus.Listener{l, bus.On(some, record("s1")), bus.On(some, record("s2"))},
		bus.WithTopics(free, one), bus.WithMaxDepth(5))
	require.NoError(t, one.Publish(t.Context(), b, &event{}))

	// A listener is immutable and may serve several buses.
	b2 := newBus(t, []bus.Listener{l})
	e := &event{}
	require.NoError(t, one.Publish(t.Context(), b2, e))
	assert.Equal(t, []string{"one"}, e.Log)
}

func TestOnDescribesTheListener(t *testing.T) {
	topic := bus.NewTopic[event]("wiring.info")
	l, at := bus.On(topic, namedHandler, bus.Rank(-3)), line()
	info := l.Info()
	assert.Equal(t, "bus_test.namedHandler", info.Name, "derived from the handler")
	assert.Equal(t, "github.com/fxbus/fxbus/bus_test.namedHandler", info.Function)
	assert.Equal(t, -3, info.Rank)
	assert.True(t, strings.HasSuffix(info.Source.String(), here(at)), info.Source.String())
	assert.Equal(t, "wiring.info", l.Topic().Name())

	named := bus.On(topic, namedHandler, bus.Name("custom"), bus.Name(""))
	assert.Equal(t, "custom", named.Info().Name, "an empty Name keeps the previous one")

	var m recorder
	method := bus.On(topic, m.handle)
	assert.Equal(t, "bus_test.recorder.handle", method.Info().Name, "a method value is named without -fm")
}

func namedHandler(context.Context, *event) error { return nil }

type recorder struct{}

func (recorder) handle(context.Context, *event) error { return nil }

func TestNewIgnoresNilOptions(t *testing.T) {
	topic := bus.NewTopic[event]("wiring.nilopts", nil)
	b := newBus(t, []bus.Listener{bus.On(topic, record("a"), nil)}, nil)
	e := &event{}
	require.NoError(t, topic.Publish(t.Context(), b, e))
	assert.Equal(t, []string{"a"}, e.Log)
}

func TestNewErrorsAreTyped(t *testing.T) {
	topic := bus.NewTopic[event]("wiring.typed")
	_, err := bus.New([]bus.Listener{bus.On(topic, nil, bus.Name("n"))})
	var werr *bus.WiringError
	require.ErrorAs(t, err, &werr)
	assert.Equal(t, "wiring.typed", werr.Topic)
	assert.Equal(t, "n", werr.Listener, "the listener's name, as in HandlerError")
	assert.True(t, strings.HasSuffix(werr.Source.File, "new_test.go"), werr.Source.File)
	assert.ErrorContains(t, werr, "nil handler")
}

// Observers watch without serving: they never count toward a requirement,
// at New or at Subscribe.
func TestObserverDoesNotCountTowardRequirement(t *testing.T) {
	one := bus.NewTopic[event]("test.observer.one", bus.ExactlyOne)
	some := bus.NewTopic[event]("test.observer.some", bus.AtLeastOne)

	b, err := bus.New([]bus.Listener{
		bus.On(one, record("impl")),
		bus.On(one, record("watch"), bus.Observer(), bus.Rank(1)),
	})
	require.NoError(t, err)
	_, err = one.Subscribe(b, record("late-watch"), bus.Observer())
	require.NoError(t, err, "another observer is fine")
	_, err = one.Subscribe(b, record("second-impl"))
	require.ErrorIs(t, err, bus.ErrRequirement)
	assert.NotContains(t, err.Error(), "watch", "observers are not named as serving")

	e := &event{}
	require.NoError(t, one.Publish(context.Background(), b, e))
	assert.Equal(t, []string{"impl", "late-watch", "watch"}, e.Log, "observers still hear, by rank")

	_, err = bus.New([]bus.Listener{bus.On(some, record("watch"), bus.Observer())})
	require.ErrorIs(t, err, bus.ErrRequirement, "an observer alone does not satisfy AtLeastOne")

	info := bus.On(one, record("x"), bus.Observer()).Info()
	assert.True(t, info.Observer)
}

func TestDeclaredAt(t *testing.T) {
	topic := bus.NewTopic[event]("test.declared_at")
	l := bus.On(topic, nil, bus.DeclaredAt("helper_test.go", 7), bus.Name("h"))
	assert.Equal(t, bus.Source{File: "helper_test.go", Line: 7}, l.Info().Source)
	_, err := bus.New([]bus.Listener{l})
	require.ErrorContains(t, err, "listener h (helper_test.go:7): nil handler")
}

// The payload-typed options take their type from the topic: a predicate
// or attribute function of another payload type does not compile.
var (
	_ func(func(*event) bool) bus.ListenerOption                = (*bus.Topic[event])(nil).When
	_ func(func(*event) []attribute.KeyValue) *bus.Topic[event] = (*bus.Topic[event])(nil).SpanAttributes
)
