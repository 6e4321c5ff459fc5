package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"runtime"
	"strings"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"
)

// Group is the name of the fx value group of [Listener]s that [Module]
// builds the bus from. Hand-written providers put listeners in it with
// `group:"fxbus.listeners"` (a []Listener with `group:"fxbus.listeners,flatten"`).
const Group = "fxbus.listeners"

// Module provides the *[Bus], built during fx.New from every [Listener] in
// the value group [Group], so that a wiring mistake fails fx.New. It takes
// from the container, when it has them, a trace.TracerProvider, a
// metric.MeterProvider and a *slog.Logger; without them it uses the
// OpenTelemetry globals, if they have been set (otel.SetTracerProvider,
// otel.SetMeterProvider) by the time the bus is built, and slog.Default.
// The bus is closed when the app stops.
//
// It also provides what [Publishes] needs, so that listeners can publish
// follow-up events without depending on the bus they belong to.
var Module = fx.Module("fxbus",
	fx.Provide(newCell, newFxBus),
	fx.Invoke(func(*Bus) {}),
)

// cell holds the bus once it is built, for the publishers made before it.
type cell struct{ bus atomic.Pointer[Bus] }

func newCell() *cell { return &cell{} }

type fxBusParams struct {
	fx.In
	Lifecycle      fx.Lifecycle
	Cell           *cell
	Listeners      []Listener           `group:"fxbus.listeners"`
	Publishers     []publisherDecl      `group:"fxbus.publishers"`
	TracerProvider trace.TracerProvider `optional:"true"`
	MeterProvider  metric.MeterProvider `optional:"true"`
	Logger         *slog.Logger         `optional:"true"`
	Options        []Option             `group:"fxbus.options"`
}

func newFxBus(p fxBusParams) (*Bus, error) {
	tp, mp, log := p.TracerProvider, p.MeterProvider, p.Logger
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	if log == nil {
		log = slog.Default()
	}
	opts := append([]Option{WithTracerProvider(tp), WithMeterProvider(mp), WithLogger(log),
		withPublishers(p.Publishers...)}, p.Options...)
	b, err := New(p.Listeners, opts...)
	if err != nil {
		return nil, err
	}
	p.Cell.bus.Store(b)
	log.Debug("fxbus: bus built", "listeners", len(p.Listeners), "published_topics", len(p.Publishers))
	p.Lifecycle.Append(fx.StopHook(b.Close))
	return b, nil
}

var (
	errorType = reflect.TypeFor[error]()
)

// Listen contributes a listener on topic t to the fx app, for [Module]'s
// bus. ctor is either the handler itself, a func(context.Context, *T)
// error, or a constructor of it whose parameters come from the container:
//
//	func(deps...) func(context.Context, *T) error
//	func(deps...) (func(context.Context, *T) error, error)
//
// The constructor is handed to fx as it is, so fx's errors about it, a
// missing dependency say, name it and its file:line. The listener's rank and
// declaration order are fixed here, at the call of Listen: dispatch order
// never depends on the order fx builds the group in. Its name defaults to
// the constructor's, and its module to the calling package's name (see
// [InModule]).
//
// A ctor of another shape is an fx error naming the topic, what was given
// and what is accepted.
func Listen[T any](t *Topic[T], ctor any, opts ...ListenerOption) fx.Option {
	decl := declare(t, 1, opts, nil)
	module := InModule(callerPackage(1))
	if t == nil {
		return fx.Error(fmt.Errorf("fxbus: Listen at %s: nil topic", decl.info.Source))
	}
	handlerType := reflect.TypeFor[func(context.Context, *T) error]()
	if ctor == nil {
		return fx.Error(fmt.Errorf("fxbus: Listen(%q) at %s: nil ctor; want %s, or a constructor returning it",
			t.name, decl.info.Source, handlerType))
	}
	ct := reflect.TypeOf(ctor)
	if h, ok := ctor.(func(context.Context, *T) error); ok {
		decl.info.Function, decl.info.Name = funcName(ctor)
		return fx.Provide(fx.Annotated{Group: Group, Target: func() Listener {
			l := decl.instance()
			l.setHandler(h, []ListenerOption{module})
			return l
		}})
	}
	if ct.Kind() != reflect.Func || ct.NumOut() < 1 || ct.NumOut() > 2 || ct.Out(0) != handlerType ||
		(ct.NumOut() == 2 && ct.Out(1) != errorType) {
		return fx.Error(fmt.Errorf("fxbus: Listen(%q) at %s: ctor is %s; want %s, "+
			"or a constructor func(deps...) (%s[, error])", t.name, decl.info.Source, ct, handlerType, handlerType))
	}
	decl.info.Function, decl.info.Name = funcName(ctor)

	// The user's constructor goes to fx unwrapped, so that fx's errors name
	// it and its file:line. It is private to a module of its own, where a
	// plain adapter of ours turns its handler into the group's listener;
	// listeners with the same payload type thus never clash.
	return fx.Module(fmt.Sprintf("fxbus.Listen(%s)@%s", t.name, decl.info.Source),
		fx.Provide(ctor, fx.Private),
		fx.Provide(fx.Annotated{Group: Group, Target: func(h func(context.Context, *T) error) Listener {
			l := decl.instance()
			l.setHandler(h, []ListenerOption{module})
			return l
		}}),
	)
}

// callerPackage returns the name of the Go package of the function skip
// frames above callerPackage's caller.
func callerPackage(skip int) string {
	pc, _, _, ok := runtime.Caller(skip + 1)
	if !ok {
		return ""
	}
	f := runtime.FuncForPC(pc)
	if f == nil {
		return ""
	}
	name := f.Name()
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	if i := strings.IndexByte(name, '.'); i >= 0 {
		name = name[:i]
	}
	return name
}

// ErrNotStarted is returned by [Publisher.Publish] before the bus is built:
// from a constructor, say.
var ErrNotStarted = errors.New("fxbus: bus not built yet")

// Publisher publishes one topic on the bus of an fx app. Get one from the
// container after declaring it with [Publishes]. Because it does not depend
// on the [Bus] itself, a listener's constructor can take one without a
// dependency cycle between the bus and its own listeners.
type Publisher[T any] struct {
	topic *Topic[T]
	cell  *cell
}

// Publish publishes e on the topic, like [Topic.Publish] on the app's bus.
// It returns [ErrNotStarted] while the bus is not built yet.
func (p *Publisher[T]) Publish(ctx context.Context, e *T) error {
	b := p.cell.bus.Load()
	if b == nil {
		return fmt.Errorf("fxbus: publish %q: %w", p.topic.name, ErrNotStarted)
	}
	return p.topic.Publish(ctx, b, e)
}

// Topic returns the topic the publisher publishes.
func (p *Publisher[T]) Topic() *Topic[T] { return p.topic }

// Publishes declares that the enclosing fx module publishes topic t, and
// provides a *[Publisher] for it to that module (privately: each module
// that publishes t declares so itself). The bus then knows the topic, and
// enforces its [Requirement], even when nobody listens.
//
// A Publisher is found by its payload type, so a module gets one per
// payload type: to publish two topics of one payload type, declare them
// with [PublishesAll] and publish through the bus.
func Publishes[T any](t *Topic[T]) fx.Option {
	if t == nil {
		return fx.Error(errors.New("fxbus: Publishes: nil topic"))
	}
	return fx.Options(
		fx.Provide(func(c *cell) *Publisher[T] { return &Publisher[T]{topic: t, cell: c} }, fx.Private),
		declarePublisher(t, 1),
	)
}

// declarePublisher tells the bus that the package skip frames above
// declarePublisher's caller publishes t.
func declarePublisher(t AnyTopic, skip int) fx.Option {
	d := publisherDecl{topic: t, info: PublisherInfo{Module: callerPackage(skip + 1)}}
	if _, file, line, ok := runtime.Caller(skip + 1); ok {
		d.info.Source = Source{File: file, Line: line}
	}
	return fx.Provide(fx.Annotated{Group: "fxbus.publishers", Target: func() publisherDecl { return d }})
}

// PublishesAll declares that the enclosing fx module publishes each of
// topics, like [Publishes], but provides no [Publisher]: for a module that
// publishes through the *[Bus] itself, or publishes several topics of one
// payload type (a module gets one *Publisher[T] per payload type).
func PublishesAll(topics ...AnyTopic) fx.Option {
	opts := make([]fx.Option, len(topics))
	for i, t := range topics {
		if t == nil {
			return fx.Error(fmt.Errorf("fxbus: PublishesAll: topic #%d is nil", i))
		}
		opts[i] = declarePublisher(t, 1)
	}
	return fx.Options(opts...)
}

// Runs declares that the enclosing fx module runs hook h: that it publishes
// both of its stages, as [PublishesAll] declares topics.
func Runs[Req, Res any](h *Hook[Req, Res]) fx.Option {
	if h == nil {
		return fx.Error(errors.New("fxbus: Runs: nil hook"))
	}
	return fx.Options(declarePublisher(h.before, 1), declarePublisher(h.after, 1))
}
