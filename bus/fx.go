package bus

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"runtime"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"

	"github.com/fxbus/fxbus/internal/otelbus"
)

// Group is the name of the fx value group of listeners (each a [Listener])
// that [Module] builds the bus from. Hand-written providers put listeners
// in it with `group:"fxbus.listeners"` (a []Listener with
// `group:"fxbus.listeners,flatten"`).
const Group = "fxbus.listeners"

// Module provides the *[Bus] of an fx app. The bus itself depends on
// nothing but its telemetry and logger, so a listener's constructor may take
// the *Bus, or a service that takes it, and publish through it. Its
// listeners, every [Listener] in the value group [Group], are installed and
// validated by an invoke during fx.New, so that a wiring mistake fails
// fx.New; until then a publish returns [ErrNotStarted]. A dependency cycle
// is fx's error, as for any constructor.
//
// It takes from the container, when it has them, a trace.TracerProvider, a
// metric.MeterProvider and a *slog.Logger; without them it uses the
// OpenTelemetry globals, if they have been set (otel.SetTracerProvider,
// otel.SetMeterProvider) by the first publish, an OnStart hook included; and
// without a logger it logs nothing. A concrete SDK provider must be given as
// the interface: fx.Supply(fx.Annotate(tp, fx.As(new(trace.TracerProvider)))).
// When the app starts with telemetry off, the bus says so in one Debug line.
// Its wiring report goes to the logger at Debug, one line per finding: at
// fx.New, each topic listened to that nobody declared publishing (see
// [Publishes]); at its first publish that finds no listener, each topic
// declared published, so that a subscription made at start (a plugin's)
// counts. The bus is closed when the app stops.
var Module = fx.Module("fxbus",
	fx.Provide(newFxBus, func() *fxModule { return &fxModule{} }),
	fx.Invoke(installFxBus),
)

// fxModule is in the container of an app with [Module]; the invokes of
// [Listen] and [Publishes] look for it.
type fxModule struct{}

func newFxBus(lc fx.Lifecycle) *Bus {
	b := newNotStarted()
	lc.Append(fx.StopHook(b.Close))
	return b
}

type fxInstallParams struct {
	fx.In
	Bus            *Bus
	Lifecycle      fx.Lifecycle
	TracerProvider trace.TracerProvider `optional:"true"`
	MeterProvider  metric.MeterProvider `optional:"true"`
	Logger         *slog.Logger         `optional:"true"`
	Listeners      []Listener           `group:"fxbus.listeners"`
	Publishers     []publisherDecl      `group:"fxbus.publishers"`
	Options        []Option             `group:"fxbus.options"` // see Configure
}

// providers returns the providers from the container, or else the
// OpenTelemetry globals as they are now.
func (p *fxInstallParams) providers() (trace.TracerProvider, metric.MeterProvider) {
	tp, mp := p.TracerProvider, p.MeterProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	return tp, mp
}

// installFxBus gives the bus its listeners and validates them. Telemetry
// the container did not give waits for the first publish, so that the
// OpenTelemetry globals may be set until then, in an OnStart hook say. The
// wiring report goes to the app's logger: a topic nobody listens to when it
// is first published, whatever subscribed at start (a plugin, say).
func installFxBus(p fxInstallParams) error {
	log := cmp.Or(p.Logger, slog.New(slog.DiscardHandler))
	tp, mp := p.providers()
	b := p.Bus
	opts := append([]Option{WithTracerProvider(tp), WithMeterProvider(mp), withPublishers(p.Publishers...)}, p.Options...)
	err := b.install(p.Listeners, opts...)
	if err != nil {
		return err
	}
	b.reportWiring(log)
	if (!b.tracing && p.TracerProvider == nil) || (!b.metrics && p.MeterProvider == nil) {
		// The OpenTelemetry globals may yet be set.
		b.deferTelemetry(p.providers)
		p.Lifecycle.Append(fx.StartHook(func() {
			if msg := telemetryOff(p.providers()); msg != "" {
				log.Debug(msg)
			}
		}))
	}
	log.Debug("fxbus: bus built", "listeners", len(p.Listeners), "published_topics", len(p.Publishers))
	return nil
}

// telemetryOff says what a bus with providers tp and mp leaves off, and how
// to turn it on, in one line; "" when both are on.
func telemetryOff(tp trace.TracerProvider, mp metric.MeterProvider) string {
	inst, _ := otelbus.New(tp, mp, nil)
	switch {
	case !inst.Tracing() && !inst.Metrics():
		return "fxbus: tracing and metrics are off: no trace.TracerProvider or metric.MeterProvider in the container, " +
			"and no OpenTelemetry global set; supply them, as fx.Supply(fx.Annotate(tp, fx.As(new(trace.TracerProvider)))) " +
			"for an SDK provider, or set the globals before the first publish (otel.SetTracerProvider, otel.SetMeterProvider)"
	case !inst.Tracing():
		return "fxbus: tracing is off: no trace.TracerProvider in the container, and no OpenTelemetry global set; " +
			"supply one, as fx.Supply(fx.Annotate(tp, fx.As(new(trace.TracerProvider)))) for an SDK provider, " +
			"or set the global before the first publish (otel.SetTracerProvider)"
	case !inst.Metrics():
		return "fxbus: metrics are off: no metric.MeterProvider in the container, and no OpenTelemetry global set; " +
			"supply one, as fx.Supply(fx.Annotate(mp, fx.As(new(metric.MeterProvider)))) for an SDK provider, " +
			"or set the global before the first publish (otel.SetMeterProvider)"
	}
	return ""
}

// moduleCheck is the invoke that [Listen] and [Publishes] add: it fails
// fx.New, naming what and where, in an app without [Module]. It is a method
// of a non-generic type, and fx.Invoke is called by Listen or Publishes
// itself: fx names the invoke and formats its call stack at every fx.New,
// and a short name and stack cost less there (see BenchmarkStartup).
type moduleCheck struct {
	what string
	at   Source
}

type moduleCheckParams struct {
	fx.In
	M *fxModule `optional:"true"`
}

func (c *moduleCheck) run(p moduleCheckParams) error {
	if p.M == nil {
		return fmt.Errorf("fxbus: %s at %s, but the app has no bus.Module: add bus.Module to fx.New", c.what, c.at)
	}
	return nil
}

// fxListener makes, for each fx app, the listener that [Listen] declared,
// from its handler h or from the handler its constructor returns. Its
// methods are the providers fx is given, rather than closures in the
// generic Listen: fx and dig name a provider at every fx.New, and the name
// of a closure in a generic function spells out its type arguments.
type fxListener struct {
	decl   *listener
	module ListenerOption
	h      any // the handler, for a handler given as such
}

// out provides the listener of a handler given as such. It returns [Out]
// rather than being given to fx in an fx.Annotated: fx then names one
// function at every fx.New, not an fx.Annotated.
func (d *fxListener) out() Out { return Out{Listener: d.build(d.h)} }

func (d *fxListener) build(h any) *listener {
	l := d.decl.instance()
	l.setHandler(eraseValue(h), []ListenerOption{d.module})
	return l
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
// The constructor may take the *[Bus], or a service that does, to publish
// follow-up events. fx sees its parameters and reports it under its own
// name and file:line, so fx's errors about it, a missing dependency or a
// dependency cycle say, name it as they name any constructor. The listener's rank and
// declaration order are fixed here, at the call of Listen: dispatch order
// never depends on the order fx builds the group in. Its name defaults to
// the constructor's, and its module to the calling package's name (see
// [InModule]).
//
// A ctor of another shape is an fx error naming the topic, what was given
// and what is accepted; so is an app without [Module].
func Listen[T any](t *Topic[T], ctor any, opts ...ListenerOption) fx.Option {
	return listen(anyTopic(t), reflect.TypeFor[func(context.Context, *T) error](), ctor, opts)
}

// listen is Listen without the payload type: handlerType is
// func(context.Context, *T) error.
func listen(t topicCore, handlerType reflect.Type, ctor any, opts []ListenerOption) fx.Option {
	decl := declare(t, 2, opts, nil)
	module := InModule(callerPackage(2))
	if t == nil {
		return fx.Error(fmt.Errorf("fxbus: Listen at %s: nil topic", decl.info.Source))
	}
	name := t.Name()
	if ctor == nil {
		return fx.Error(fmt.Errorf("fxbus: bus.Listen(%q) at %s: nil ctor; want %s, or a constructor returning it",
			name, decl.info.Source, handlerType))
	}
	check := fx.Invoke((&moduleCheck{what: fmt.Sprintf("bus.Listen(%q)", name), at: decl.info.Source}).run)
	ct := reflect.TypeOf(ctor)
	d := &fxListener{decl: decl, module: module}
	if ct == handlerType {
		decl.info.Function, decl.info.Name = funcName(ctor)
		d.h = ctor
		return fx.Options(fx.Provide(d.out), check)
	}
	if ct.Kind() != reflect.Func || ct.NumOut() < 1 || ct.NumOut() > 2 || ct.Out(0) != handlerType ||
		(ct.NumOut() == 2 && ct.Out(1) != errorType) {
		return fx.Error(fmt.Errorf("fxbus: bus.Listen(%q) at %s: ctor is %s; want %s, "+
			"or a constructor func(deps...) (%s[, error])", name, decl.info.Source, ct, handlerType, handlerType))
	}
	decl.info.Function, decl.info.Name = funcName(ctor)
	return fx.Options(fx.Provide(listenerCtor(ctor, d.build)), check)
}

// Out is the result of a provider that puts a [Listener] in the value group
// [Group] for [Module]'s bus: the result of the providers [Listen] makes,
// which fx's errors show, and a shorthand for hand-written ones:
//
//	fx.Provide(func(f *Filter) bus.Out { return bus.Out{Listener: bus.On(topic, f.Handle)} })
type Out struct {
	fx.Out
	Listener Listener `group:"fxbus.listeners"`
}

var (
	listenerOutType = reflect.TypeFor[Out]()
	errorNil        = reflect.Zero(errorType)
)

// listenerCtor returns, for fx.Provide, a constructor of the listener that
// build makes from the handler ctor returns. It takes the parameters of
// ctor, so that dig sees every dependency, and reports a cycle as one; and
// it is one node of dig's graph, as a provider of plain values is, so that
// startup stays linear in practice.
//
// fx's errors must name ctor and its file:line, not a wrapper's (fx #983):
// fx.Annotate hands dig the location of its FuncPtr, which this sets to
// ctor's. If fx drops that field, errors name reflect.makeFuncStub instead,
// and the tests that pin fx's messages fail.
func listenerCtor(ctor any, build func(h any) *listener) any {
	cv := reflect.ValueOf(ctor)
	ct := cv.Type()
	in := make([]reflect.Type, ct.NumIn())
	for i := range in {
		in[i] = ct.In(i)
	}
	out := []reflect.Type{listenerOutType}
	if ct.NumOut() == 2 {
		out = append(out, errorType)
	}
	fn := reflect.MakeFunc(reflect.FuncOf(in, out, ct.IsVariadic()), func(args []reflect.Value) []reflect.Value {
		var res []reflect.Value
		if ct.IsVariadic() {
			res = cv.CallSlice(args)
		} else {
			res = cv.Call(args)
		}
		if len(res) == 2 {
			if !res[1].IsNil() {
				return []reflect.Value{reflect.Zero(listenerOutType), res[1]}
			}
			return []reflect.Value{reflect.ValueOf(Out{Listener: build(res[0].Interface())}), errorNil}
		}
		return []reflect.Value{reflect.ValueOf(Out{Listener: build(res[0].Interface())})}
	})
	ann := reflect.ValueOf(fx.Annotate(fn.Interface()))
	c := reflect.New(ann.Type()).Elem()
	c.Set(ann)
	if f := c.FieldByName("FuncPtr"); f.IsValid() && f.CanSet() && f.Kind() == reflect.Uintptr {
		f.SetUint(uint64(cv.Pointer()))
	}
	return c.Interface()
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

// ErrNotStarted is returned by a publish or a subscription on the bus of
// [Module] before fx.New has installed its listeners: from a listener's
// constructor, which runs while they are being installed. Publish from a
// handler, an invoke or an OnStart hook instead.
var ErrNotStarted = errors.New("bus not started: its listeners are installed during fx.New")

// Publishes declares that the enclosing fx module publishes topics. The bus
// then knows them, enforces their [Requirement] even when nobody listens,
// lists the module as a publisher in its [Catalog] and graphs, and reports
// the topics nobody listens to. The module is named after the Go package
// that calls Publishes, as [Listen]'s default is: the fx module's name in
// the usual layout of one module per package. The module publishes through the *[Bus],
// which its constructors take from the container.
func Publishes(topics ...AnyTopic) fx.Option {
	opts := make([]fx.Option, 0, len(topics)+1)
	for i, t := range topics {
		if t == nil || reflect.ValueOf(t).IsNil() {
			return fx.Error(fmt.Errorf("fxbus: Publishes: topic #%d is nil", i))
		}
		opts = append(opts, declarePublisher(t, 1))
	}
	at := Source{}
	if _, file, line, ok := runtime.Caller(1); ok {
		at = Source{File: file, Line: line}
	}
	return fx.Options(append(opts, fx.Invoke((&moduleCheck{what: "bus.Publishes", at: at}).run))...)
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
