package bus_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/fxbus/fxbus/bus"
)

type message struct {
	Body  string
	Trail []string
}

type banned struct{ Visitor string }

var (
	fxPosting = bus.NewTopic[message]("test.fx.posting")
	fxBanned  = bus.NewTopic[banned]("test.fx.banned")
)

func trail(name string) func(context.Context, *message) error {
	return func(_ context.Context, m *message) error {
		m.Trail = append(m.Trail, name)
		return nil
	}
}

type filter struct{ word string }

func newFilter() *filter { return &filter{word: "darn"} }

// newRewrite is a listener constructor with a dependency.
func newRewrite(f *filter) func(context.Context, *message) error {
	return func(_ context.Context, m *message) error {
		if m.Body == f.word {
			m.Body = "***"
		}
		m.Trail = append(m.Trail, "rewrite")
		return nil
	}
}

func startBus(t *testing.T, opts ...fx.Option) *bus.Bus {
	t.Helper()
	var b *bus.Bus
	app := fxtest.New(t, append(opts, bus.Module, fx.Populate(&b), fx.NopLogger)...)
	app.RequireStart()
	t.Cleanup(app.RequireStop)
	return b
}

func newErr(opts ...fx.Option) error {
	return fx.New(append(opts, bus.Module, fx.NopLogger)...).Err()
}

func TestModuleBuildsBusFromListeners(t *testing.T) {
	b := startBus(t,
		fx.Provide(newFilter),
		bus.Listen(fxPosting, trail("last"), bus.Rank(10)),
		bus.Listen(fxPosting, newRewrite, bus.Rank(-10)),
		bus.Listen(fxPosting, func() (func(context.Context, *message) error, error) { return trail("middle"), nil }),
	)
	m := &message{Body: "darn"}
	require.NoError(t, fxPosting.Publish(context.Background(), b, m))
	assert.Equal(t, "***", m.Body)
	assert.Equal(t, []string{"rewrite", "middle", "last"}, m.Trail)
}

func TestModuleOrderIsDeclarationOrderAcrossAppBuilds(t *testing.T) {
	names := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	var opts []fx.Option
	for _, n := range names {
		n := n
		// Constructors, so that fx builds them in its own (shuffled) group order.
		opts = append(opts, bus.Listen(fxPosting, func() func(context.Context, *message) error { return trail(n) }))
	}
	opts = append(opts, bus.Listen(fxPosting, trail("first"), bus.Rank(-1)))
	for i := 0; i < 25; i++ {
		b := startBus(t, opts...)
		m := &message{}
		require.NoError(t, fxPosting.Publish(context.Background(), b, m))
		require.Equal(t, append([]string{"first"}, names...), m.Trail, "app build %d", i)
	}
}

func TestListenMissingDependencyNamesTheConstructor(t *testing.T) {
	err := newErr(bus.Listen(fxPosting, newRewrite))
	require.Error(t, err)
	msg := err.Error()
	// fx reports the user's constructor with its own file:line.
	assert.Contains(t, msg, fmt.Sprintf(`missing dependencies for function "github.com/fxbus/fxbus/bus_test".newRewrite (%s:%d): missing type: *bus_test.filter`,
		callerFile(), declLine(newRewrite)))
	assert.NotContains(t, msg, "makeFuncStub")
}

func TestListenWrongShape(t *testing.T) {
	tests := []struct {
		name string
		ctor any
		want string
	}{
		{"not a func", 42, "ctor is int"},
		{"wrong payload", func(context.Context, *banned) error { return nil }, "ctor is func(context.Context, *bus_test.banned) error"},
		{"wrong result", func() string { return "" }, "ctor is func() string"},
		{"three results", func() (func(context.Context, *message) error, int, error) { return nil, 0, nil }, "ctor is func() (func(context.Context, *bus_test.message) error, int, error)"},
		{"nil", nil, "nil ctor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := line() + 1
			err := newErr(bus.Listen(fxPosting, tt.ctor))
			require.Error(t, err)
			assert.Contains(t, err.Error(), `Listen("test.fx.posting")`)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), fmt.Sprintf("fx_test.go:%d", l))
			if tt.ctor != nil {
				assert.Contains(t, err.Error(), "want func(context.Context, *bus_test.message) error, or a constructor")
			}
		})
	}
}

func TestListenConstructorErrorFailsStart(t *testing.T) {
	boom := errors.New("no config")
	err := newErr(bus.Listen(fxPosting, func() (func(context.Context, *message) error, error) { return nil, boom }))
	require.ErrorIs(t, err, boom)
}

func TestListenConstructorReturningNilHandler(t *testing.T) {
	l := line() + 1
	err := newErr(bus.Listen(fxPosting, func() func(context.Context, *message) error { return nil }, bus.Name("nilmaker")))
	require.ErrorIs(t, err, bus.ErrNilHandler)
	assert.Contains(t, err.Error(), `topic "test.fx.posting"`)
	assert.Contains(t, err.Error(), fmt.Sprintf("nilmaker (%s:%d)", callerFile(), l))
}

// declLine is the line where function fn is declared, as fx reports it.
func declLine(fn any) int {
	f := runtime.FuncForPC(reflect.ValueOf(fn).Pointer())
	_, l := f.FileLine(f.Entry())
	return l
}

func callerFile() string {
	_, f, _, _ := runtime.Caller(1)
	return f
}

func TestRequirementFailsFxNew(t *testing.T) {
	needOne := bus.NewTopic[message]("test.fx.auth", bus.WithRequirement(bus.ExactlyOne))
	l1 := line() + 1
	err := newErr(bus.Listen(needOne, trail("one"), bus.Name("one")),
		bus.Listen(needOne, trail("two"), bus.Name("two")))
	require.ErrorIs(t, err, bus.ErrRequirement)
	assert.Contains(t, err.Error(), `topic "test.fx.auth"`)
	assert.Contains(t, err.Error(), fmt.Sprintf("one (%s:%d)", callerFile(), l1))
	assert.Contains(t, err.Error(), fmt.Sprintf("two (%s:%d)", callerFile(), l1+1))

	// A published topic nobody listens to is known to the bus, so its
	// requirement is checked too.
	needSome := bus.NewTopic[message]("test.fx.needsome", bus.WithRequirement(bus.AtLeastOne))
	err = newErr(bus.Publishes(needSome))
	require.ErrorIs(t, err, bus.ErrRequirement)
	assert.Contains(t, err.Error(), `topic "test.fx.needsome": listener requirement not met: needs at least one listener, has none`)
}

func TestPublishAfterStopReturnsErrClosed(t *testing.T) {
	var b *bus.Bus
	app := fxtest.New(t, bus.Module, bus.Listen(fxPosting, trail("x")), fx.Populate(&b), fx.NopLogger)
	app.RequireStart()
	require.NoError(t, fxPosting.Publish(context.Background(), b, &message{}))
	app.RequireStop()
	require.ErrorIs(t, fxPosting.Publish(context.Background(), b, &message{}), bus.ErrClosed)
}

func TestListenersInNestedModules(t *testing.T) {
	var b *bus.Bus
	app := fxtest.New(t,
		fx.Module("outer",
			fx.Module("audit", bus.Listen(fxPosting, trail("audit"), bus.InModule("audit"))),
			bus.Listen(fxPosting, trail("outer"), bus.Rank(1)),
		),
		bus.Module, fx.Populate(&b), fx.NopLogger)
	app.RequireStart()
	defer app.RequireStop()
	m := &message{}
	require.NoError(t, fxPosting.Publish(context.Background(), b, m))
	assert.Equal(t, []string{"audit", "outer"}, m.Trail)
}

func TestHandWrittenProviders(t *testing.T) {
	type out struct {
		fx.Out
		L bus.Listener `group:"fxbus.listeners"`
	}
	b := startBus(t,
		fx.Provide(fx.Annotate(func() bus.Listener { return bus.On(fxPosting, trail("annotated"), bus.Rank(1)) },
			fx.ResultTags(`group:"`+bus.Group+`"`))),
		fx.Provide(func() out { return out{L: bus.On(fxPosting, trail("out"), bus.Rank(2))} }),
		fx.Provide(fx.Annotate(func() []bus.Listener {
			return []bus.Listener{bus.On(fxPosting, trail("flat1"), bus.Rank(3)), bus.On(fxPosting, trail("flat2"), bus.Rank(3))}
		}, fx.ResultTags(`group:"`+bus.Group+`,flatten"`))),
	)
	m := &message{}
	require.NoError(t, fxPosting.Publish(context.Background(), b, m))
	assert.Equal(t, []string{"annotated", "out", "flat1", "flat2"}, m.Trail)
}

// A private listener stays in its module: a bus provided outside it does
// not see it (fx's rule for value groups), one inside it does.
func TestPrivateListenerStaysInItsModule(t *testing.T) {
	private := fx.Provide(fx.Annotate(func() bus.Listener { return bus.On(fxPosting, trail("private")) },
		fx.ResultTags(`group:"`+bus.Group+`"`)), fx.Private)

	b := startBus(t, fx.Module("m", private), bus.Listen(fxPosting, trail("public")))
	m := &message{}
	require.NoError(t, fxPosting.Publish(context.Background(), b, m))
	assert.Equal(t, []string{"public"}, m.Trail)

	var inner *bus.Bus
	app := fxtest.New(t, fx.Module("m", private, bus.Module, fx.Populate(&inner)), fx.NopLogger)
	app.RequireStart()
	defer app.RequireStop()
	m = &message{}
	require.NoError(t, fxPosting.Publish(context.Background(), inner, m))
	assert.Equal(t, []string{"private"}, m.Trail)
}

type abuseCounter struct {
	n   map[string]int
	ban *bus.Publisher[banned]
}

// newCountAbuse publishes a follow-up event through a Publisher: it needs no
// *bus.Bus, so there is no cycle between the bus and its own listeners.
func newCountAbuse(ban *bus.Publisher[banned]) func(context.Context, *message) error {
	c := &abuseCounter{n: map[string]int{}, ban: ban}
	return func(ctx context.Context, m *message) error {
		if m.Body != "***" {
			return nil
		}
		c.n[m.Trail[0]]++
		if c.n[m.Trail[0]] == 2 {
			return c.ban.Publish(ctx, &banned{Visitor: m.Trail[0]})
		}
		return nil
	}
}

func TestListenerPublishesFollowUpWithoutCycle(t *testing.T) {
	var bans []string
	b := startBus(t,
		fx.Provide(newFilter),
		bus.Publishes(fxBanned),
		bus.Listen(fxPosting, newRewrite, bus.Rank(-10)),
		bus.Listen(fxPosting, newCountAbuse),
		bus.Listen(fxBanned, func(_ context.Context, e *banned) error { bans = append(bans, e.Visitor); return nil }),
	)
	for i := 0; i < 3; i++ {
		require.NoError(t, fxPosting.Publish(context.Background(), b, &message{Body: "darn", Trail: []string{"visitor-7"}}))
	}
	assert.Equal(t, []string{"visitor-7"}, bans)
}

func TestPublisherBeforeBusIsBuilt(t *testing.T) {
	var got error
	err := fx.New(
		bus.Publishes(fxBanned),
		fx.Invoke(func(p *bus.Publisher[banned]) { got = p.Publish(context.Background(), &banned{}) }),
		fx.NopLogger,
	).Err()
	// Without bus.Module, the cell the publisher needs is missing.
	require.Error(t, err)

	err = fx.New(bus.Module, bus.Publishes(fxBanned),
		fx.Invoke(func(p *bus.Publisher[banned]) { got = p.Publish(context.Background(), &banned{}) }),
		fx.NopLogger).Err()
	require.NoError(t, err)
	require.NoError(t, got, "bus.Module's invoke builds the bus before later invokes run")
}

func TestPublisherNeedsDeclaration(t *testing.T) {
	err := newErr(fx.Invoke(func(*bus.Publisher[banned]) {}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing type: *bus.Publisher[")
}

func TestTracerProviderFromContainer(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	b := startBus(t,
		fx.Supply(fx.Annotate(tp, fx.As(new(trace.TracerProvider)))),
		bus.Listen(fxPosting, trail("a"), bus.Name("audit")),
	)
	require.NoError(t, fxPosting.Publish(context.Background(), b, &message{}))
	spans := rec.Ended()
	require.Len(t, spans, 2)
	assert.Equal(t, "audit test.fx.posting", spans[0].Name())
	assert.Equal(t, "publish test.fx.posting", spans[1].Name())
	assert.Equal(t, spans[1].SpanContext().SpanID(), spans[0].Parent().SpanID())
	var module string
	for _, kv := range spans[0].Attributes() {
		if kv.Key == "fxbus.listener.module" {
			module = kv.Value.AsString()
		}
	}
	assert.Equal(t, "bus_test", module, "the module defaults to the package that called Listen")
}

func TestListenerInfoFromListen(t *testing.T) {
	var got bus.ListenerInfo
	l := line() + 1
	lopt := bus.Listen(fxPosting, newRewrite, bus.Rank(-3))
	startBus(t, fx.Provide(newFilter), lopt,
		fx.Invoke(fx.Annotate(func(ls []bus.Listener) { got = ls[0].Info() }, fx.ParamTags(`group:"`+bus.Group+`"`))))
	assert.Equal(t, "bus_test.newRewrite", got.Name)
	assert.Equal(t, -3, got.Rank)
	assert.Equal(t, "bus_test", got.Module)
	assert.Equal(t, "github.com/fxbus/fxbus/bus_test.newRewrite", got.Function)
	assert.Equal(t, bus.Source{File: callerFile(), Line: l}, got.Source)
}
