package bus_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
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
	require.ErrorContains(t, err, "nil handler")
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
	needOne := bus.NewTopic[message]("test.fx.auth", bus.ExactlyOne)
	l1 := line() + 1
	err := newErr(bus.Listen(needOne, trail("one"), bus.Name("one")),
		bus.Listen(needOne, trail("two"), bus.Name("two")))
	require.ErrorIs(t, err, bus.ErrRequirement)
	assert.Contains(t, err.Error(), `topic "test.fx.auth"`)
	assert.Contains(t, err.Error(), fmt.Sprintf("one (%s:%d)", callerFile(), l1))
	assert.Contains(t, err.Error(), fmt.Sprintf("two (%s:%d)", callerFile(), l1+1))

	// A published topic nobody listens to is known to the bus, so its
	// requirement is checked too.
	needSome := bus.NewTopic[message]("test.fx.needsome", bus.AtLeastOne)
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

// orders is a service that publishes through the bus: what listeners call
// in a real app.
type orders struct {
	b      *bus.Bus
	placed int
}

func newOrders(b *bus.Bus) *orders { return &orders{b: b} }

func (o *orders) ban(ctx context.Context, visitor string) error {
	return fxBanned.Publish(ctx, o.b, &banned{Visitor: visitor})
}

// newBanOnSecondStrike is a listener constructor taking a service that
// takes the bus.
func newBanOnSecondStrike(o *orders) func(context.Context, *message) error {
	return func(ctx context.Context, m *message) error {
		if o.placed++; o.placed < 2 {
			return nil
		}
		return o.ban(ctx, m.Body)
	}
}

// newBanDirectly is a listener constructor taking the bus itself.
func newBanDirectly(b *bus.Bus) func(context.Context, *message) error {
	return func(ctx context.Context, m *message) error {
		return fxBanned.Publish(ctx, b, &banned{Visitor: "direct:" + m.Body})
	}
}

func TestListenerDependingOnTheBus(t *testing.T) {
	tests := []struct {
		name string
		opts []fx.Option
		want []string
	}{
		{"directly", []fx.Option{bus.Listen(fxPosting, newBanDirectly)},
			[]string{"first:direct:v1", "second:direct:v1", "first:direct:v2", "second:direct:v2"}},
		{"through a service", []fx.Option{fx.Provide(newOrders), bus.Listen(fxPosting, newBanOnSecondStrike)},
			[]string{"first:v2", "second:v2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			record := func(name string) func(context.Context, *banned) error {
				return func(_ context.Context, e *banned) error { got = append(got, name+":"+e.Visitor); return nil }
			}
			b := startBus(t, append(tt.opts,
				bus.Publishes(fxBanned),
				bus.Listen(fxBanned, record("second"), bus.Rank(5)),
				bus.Listen(fxBanned, record("first"), bus.Rank(-5)),
			)...)
			for _, v := range []string{"v1", "v2"} {
				require.NoError(t, fxPosting.Publish(context.Background(), b, &message{Body: v}))
			}
			assert.Equal(t, tt.want, got, "follow-up events reach their listeners in rank order")
		})
	}
}

func TestPublishBeforeFxNewInstallsListeners(t *testing.T) {
	var got error
	err := newErr(
		bus.Listen(fxPosting, trail("x")),
		fx.Provide(func(b *bus.Bus) *orders {
			got = fxPosting.Publish(context.Background(), b, &message{}) // from a constructor: too early
			return newOrders(b)
		}),
		bus.Listen(fxBanned, func(*orders) func(context.Context, *banned) error {
			return func(context.Context, *banned) error { return nil }
		}),
	)
	require.NoError(t, err)
	require.ErrorIs(t, got, bus.ErrNotStarted)
	assert.Equal(t, `fxbus: publish "test.fx.posting": bus not started: its listeners are installed during fx.New`, got.Error())

	// An invoke after bus.Module's finds the bus complete.
	err = newErr(bus.Listen(fxPosting, trail("x")),
		fx.Invoke(func(b *bus.Bus) error { return fxPosting.Publish(context.Background(), b, &message{}) }))
	require.NoError(t, err)
}

// cycleEnv selects, in a subprocess, the cycle TestCycleIsAnFxError builds.
const cycleEnv = "FXBUS_TEST_CYCLE"

type auditLog struct{}

func TestCycleIsAnFxError(t *testing.T) {
	if os.Getenv(cycleEnv) != "" {
		return // the subprocess runs TestCycleSubprocess only
	}
	tests := []struct{ name, want string }{
		// A service takes the listeners (to list them, say), and a
		// listener takes the service.
		{"service takes the listener group", `provided by "github.com/fxbus/fxbus/bus_test".newAuditLog (`},
		// Two services take each other, one behind a listener.
		{"services take each other", `depends on func(*bus.Bus, *bus_test.auditLog) *bus_test.orders provided by`},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCycleSubprocess$", "-test.v")
			cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", cycleEnv, i))
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "the subprocess must not crash:\n%s", tail(out))
			assert.Contains(t, string(out), "cycle detected in dependency graph")
			assert.Contains(t, string(out), tt.want)
			assert.NotContains(t, string(out), "makeFuncStub (")
		})
	}
}

func tail(b []byte) string {
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// TestCycleSubprocess builds a cycle when run by TestCycleIsAnFxError, with
// a small stack: a cycle that dig would not see overflows it at once.
func TestCycleSubprocess(t *testing.T) {
	which := os.Getenv(cycleEnv)
	if which == "" {
		t.Skip("run by TestCycleIsAnFxError")
	}
	debug.SetMaxStack(64 << 20)
	var opts []fx.Option
	switch which {
	case "0":
		type in struct {
			fx.In
			Listeners []bus.Listener `group:"fxbus.listeners"`
		}
		opts = []fx.Option{
			fx.Provide(func(in) *auditLog { return &auditLog{} }),
			bus.Listen(fxPosting, newAuditLog),
		}
	case "1":
		opts = []fx.Option{
			fx.Provide(func(*orders) *auditLog { return &auditLog{} }, func(b *bus.Bus, _ *auditLog) *orders { return newOrders(b) }),
			bus.Listen(fxPosting, newAuditLog),
		}
	}
	err := newErr(opts...)
	require.Error(t, err)
	t.Log(err)
}

func newAuditLog(*auditLog) func(context.Context, *message) error { return trail("audit") }

func TestNoModule(t *testing.T) {
	l := line() + 2
	err := fx.New(fx.NopLogger,
		bus.Listen(fxPosting, trail("a")),
		bus.Listen(fxPosting, newRewrite),
		fx.Provide(newFilter),
	).Err()
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf(`fxbus: bus.Listen("test.fx.posting") at %s:%d, but the app has no bus.Module: add bus.Module to fx.New`, callerFile(), l))
	assert.NotContains(t, err.Error(), "*bus.", "no internal type name")

	l = line() + 1
	err = fx.New(fx.NopLogger, bus.Publishes(fxBanned)).Err()
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf(`fxbus: bus.Publishes at %s:%d, but the app has no bus.Module: add bus.Module to fx.New`, callerFile(), l))
	assert.NotContains(t, err.Error(), "*bus.", "no internal type name")
}

func TestPublishesTopicsOfOnePayloadFromOneModule(t *testing.T) {
	first := bus.NewTopic[banned]("test.fx.samepayload.first")
	second := bus.NewTopic[banned]("test.fx.samepayload.second")
	var got []string
	b := startBus(t, fx.Module("moderation",
		bus.Publishes(first),
		bus.Publishes(second),
		bus.Listen(first, func(_ context.Context, e *banned) error { got = append(got, "first:"+e.Visitor); return nil }),
		bus.Listen(second, func(_ context.Context, e *banned) error { got = append(got, "second:"+e.Visitor); return nil }),
	))
	require.NoError(t, first.Publish(context.Background(), b, &banned{Visitor: "a"}))
	require.NoError(t, second.Publish(context.Background(), b, &banned{Visitor: "b"}))
	assert.Equal(t, []string{"first:a", "second:b"}, got)
	c := b.Catalog()
	require.Len(t, c.Topics, 2)
	for _, ti := range c.Topics {
		assert.Len(t, ti.Publishers, 1, ti.Name)
	}
}

func TestTopicsWithOneName(t *testing.T) {
	l := line() + 1
	a := bus.NewTopic[message]("test.fx.samename")
	b := bus.NewTopic[banned]("test.fx.samename")
	c := bus.NewTopic[message]("test.fx.samename")
	err := newErr(bus.Listen(a, trail("a")), bus.Publishes(b))
	var we *bus.WiringError
	require.ErrorAs(t, err, &we)
	require.ErrorContains(t, err, "two topics have this name")
	assert.Contains(t, err.Error(), fmt.Sprintf(`fxbus: topic "test.fx.samename": two topics have this name: declared at %[1]s:%[2]d (payload bus_test.message) and %[1]s:%[3]d (payload bus_test.banned)`,
		callerFile(), l, l+1))

	// Without fx, and at run time, too.
	_, err = bus.New([]bus.Listener{bus.On(a, trail("a")), bus.On(c, trail("c"))})
	require.ErrorContains(t, err, "two topics have this name")
	assert.Contains(t, err.Error(), fmt.Sprintf("declared at %[1]s:%[2]d (payload bus_test.message) and %[1]s:%[3]d (payload bus_test.message)", callerFile(), l, l+2))
	bs, err := bus.New([]bus.Listener{bus.On(a, trail("a"))})
	require.NoError(t, err)
	_, err = c.Subscribe(bs, trail("c"))
	require.ErrorContains(t, err, "two topics have this name")
}

// globalEnv makes TestGlobalProviderSetOnStart run its app: it sets the
// OpenTelemetry globals, for good, so it runs in a process of its own.
const globalEnv = "FXBUS_TEST_GLOBAL_PROVIDER"

func TestGlobalProviderSetOnStart(t *testing.T) {
	if os.Getenv(globalEnv) == "" {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestGlobalProviderSetOnStart$", "-test.v")
		cmd.Env = append(os.Environ(), globalEnv+"=1")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", tail(out))
		require.Contains(t, string(out), "--- PASS: TestGlobalProviderSetOnStart")
		return
	}
	var logs logRecorder
	rec := tracetest.NewSpanRecorder()
	var b *bus.Bus
	app := fxtest.New(t,
		bus.Module,
		fx.Supply(slog.New(&logs)),
		bus.Listen(fxPosting, trail("a"), bus.Name("audit")),
		fx.Populate(&b),
		// A hook of the app's that runs after the bus's own: the bus
		// decides on its telemetry at the first publish, not at start.
		fx.Invoke(func(lc fx.Lifecycle) {
			lc.Append(fx.StartHook(func() { otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))) }))
		}),
	)
	app.RequireStart()
	defer app.RequireStop()
	assert.Contains(t, logs.lines(), "DEBUG fxbus: tracing and metrics are off: no trace.TracerProvider or metric.MeterProvider in the container, "+
		"and no OpenTelemetry global set; supply them, as fx.Supply(fx.Annotate(tp, fx.As(new(trace.TracerProvider)))) "+
		"for an SDK provider, or set the globals before the first publish (otel.SetTracerProvider, otel.SetMeterProvider)")

	require.NoError(t, fxPosting.Publish(context.Background(), b, &message{}))
	assert.Equal(t, []string{"audit test.fx.posting", "publish test.fx.posting"}, spanNames(rec.Ended()))
}

// logRecorder is a slog.Handler that keeps "LEVEL message" lines.
type logRecorder struct {
	mu  sync.Mutex
	got []string
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, rec.Level.String()+" "+rec.Message)
	return nil
}
func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *logRecorder) WithGroup(string) slog.Handler      { return r }

func (r *logRecorder) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// The wiring report goes to the app's logger, at Debug, one line per
// finding: a listened topic nobody declared publishing, at once; a declared
// topic without listeners, at its first publish that finds none, so that a
// subscription made at start counts.
func TestWiringReportUnderFx(t *testing.T) {
	heardAtStart := bus.NewTopic[banned]("test.fx.report.heard_at_start")
	unheard := bus.NewTopic[banned]("test.fx.report.unheard")
	undeclared := bus.NewTopic[banned]("test.fx.report.undeclared")
	var logs logRecorder
	var b *bus.Bus
	pubLine := line() + 3
	app := fxtest.New(t, bus.Module, fx.NopLogger, fx.Populate(&b),
		fx.Supply(slog.New(&logs)),
		bus.Publishes(fxPosting, heardAtStart, unheard),
		bus.Listen(fxPosting, trail("a"), bus.Name("a")),
		bus.Listen(undeclared, func(context.Context, *banned) error { return nil }, bus.Name("u")),
		fx.Invoke(func(lc fx.Lifecycle, b *bus.Bus) {
			lc.Append(fx.StartHook(func() error {
				_, err := heardAtStart.Subscribe(b, func(context.Context, *banned) error { return nil })
				return err
			}))
		}),
	)
	report := func() []string {
		var r []string
		for _, l := range logs.lines() {
			if strings.Contains(l, "nobody") {
				r = append(r, l)
			}
		}
		return r
	}
	noPublisher := fmt.Sprintf(`DEBUG fxbus: topic "test.fx.report.undeclared": listened to, but nobody declared publishing it (listeners: u (%s:%d))`,
		callerFile(), pubLine+2)
	assert.Equal(t, []string{noPublisher}, report(), "at fx.New")

	app.RequireStart()
	defer app.RequireStop()
	for range 2 {
		require.NoError(t, fxPosting.Publish(context.Background(), b, &message{}))
		require.NoError(t, heardAtStart.Publish(context.Background(), b, &banned{}))
		require.NoError(t, unheard.Publish(context.Background(), b, &banned{}))
	}
	assert.Equal(t, []string{noPublisher,
		fmt.Sprintf(`DEBUG fxbus: topic "test.fx.report.unheard": published, but nobody listens (published by bus_test (%s:%d))`, callerFile(), pubLine),
	}, report())
}

// Without a *slog.Logger in the container, the bus logs nothing: not to
// slog.Default.
func TestNoLoggerNoLines(t *testing.T) {
	var logs logRecorder
	prev := slog.Default()
	slog.SetDefault(slog.New(&logs))
	t.Cleanup(func() { slog.SetDefault(prev) })
	unheard := bus.NewTopic[banned]("test.fx.nologger.unheard")
	b := startBus(t, bus.Publishes(unheard), bus.Listen(fxPosting, trail("a")))
	require.NoError(t, fxPosting.Publish(context.Background(), b, &message{}))
	require.NoError(t, unheard.Publish(context.Background(), b, &banned{}))
	assert.Empty(t, logs.lines())
}

var (
	fxDeferredLate = bus.NewTopic[message]("test.fx.deferred.late")
)

// While the bus waits for the first publish to decide on its telemetry, a
// subscription made then is kept, shows in the catalogue, and is traced
// once the global provider set in OnStart is there; StartSpan (a hook's
// Run) decides as a publish does, so that its first call is traced too.
func TestDeferredTelemetrySubscriptionsAndHooks(t *testing.T) {
	const name = "TestDeferredTelemetrySubscriptionsAndHooks"
	if os.Getenv(globalEnv) == "" {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+name+"$", "-test.v")
		cmd.Env = append(os.Environ(), globalEnv+"=1")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", tail(out))
		require.Contains(t, string(out), "--- PASS: "+name)
		return
	}
	rec := tracetest.NewSpanRecorder()
	var b *bus.Bus
	app := fxtest.New(t,
		bus.Module,
		bus.Listen(fxPosting, trail("a"), bus.Name("audit")),
		fx.Populate(&b),
		// Top-level invokes run after the bus's own: the bus is installed,
		// its telemetry not yet decided.
		fx.Invoke(func(b *bus.Bus) error {
			_, err := fxDeferredLate.Subscribe(b, trail("late"), bus.Name("late"))
			return err
		}),
		fx.Invoke(func(lc fx.Lifecycle) {
			lc.Append(fx.StartHook(func() { otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))) }))
		}),
	)
	var names []string
	for _, ti := range b.Catalog().Topics {
		names = append(names, ti.Name)
	}
	assert.Contains(t, names, "test.fx.deferred.late", "the catalogue sees a subscription made before the first publish")
	assert.Contains(t, names, "test.fx.posting")

	app.RequireStart()
	defer app.RequireStop()
	_, end := b.StartSpan(context.Background(), "hook test.fx.deferred.hook")
	end(nil)
	assert.Contains(t, spanNames(rec.Ended()), "hook test.fx.deferred.hook", "the first StartSpan is traced")

	rec.Reset()
	require.NoError(t, fxDeferredLate.Publish(context.Background(), b, &message{}))
	assert.Equal(t, []string{"late test.fx.deferred.late", "publish test.fx.deferred.late"}, spanNames(rec.Ended()))
}
