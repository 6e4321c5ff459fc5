package benchmarks

import (
	"context"
	"slices"
	"testing"

	"go.uber.org/fx"

	"github.com/fxbus/fxbus/bus"
)

// BenchmarkStartup measures fx.New (which runs the invokes, and so installs
// the listeners in the bus) of an app with N listeners, up to 10,000: the
// target is at most twice fx's own cost (kind=fx-group) at the same N,
// measured in the same run. The options are made once, outside the timer,
// and reused, as an app declares its listeners once. Besides ns/op, each
// row reports cpu-ns/op, the CPU time of the process per fx.New (user and
// system, GC included): on a shared machine it is the steadier figure, and
// ratios of it compare like with like.
//
// Per listener, bus.Listen gives fx one provider (dig's graph grows by one
// node, as the baseline's does: dig's cycle check is quadratic in the
// nodes) and one invoke, which fails fx.New in an app without bus.Module
// (fx has no cheaper way to run code at every fx.New). A constructor
// listener's provider is a wrapper taking the constructor's parameters,
// annotated with fx.Annotate so that fx reports the constructor's own
// file:line; fx.Annotate's Build makes a dig container per provider at
// every fx.New, whose math/rand source (about 5 KB, seeded by some 1,800
// steps) is most of what a constructor listener costs above a handler.
// bus.Module is an fx.Module whose invoke installs the bus, so dig checks
// the graph for cycles twice, once per scope: at 10,000 listeners that
// second quadratic check is a visible part of the gap to the baseline.
//
//   - kind=fx-group: fx's own cost, N fx.Provide of plain values into a
//     value group and an invoke that takes the group. The baseline.
//   - kind=listen: N bus.Listen(topic, handler) and bus.Module.
//   - kind=listen-ctor: N bus.Listen(topic, constructor) whose constructor
//     takes a dependency from the container, and bus.Module.
//
// Every app logs nothing (fx.NopLogger). Before timing, each kind is built
// once and checked: the group has N values, or a publish reaches N handlers.
func BenchmarkStartup(b *testing.B) {
	kinds := []struct {
		name  string
		build func(tb testing.TB, n int) []fx.Option
		check func(tb testing.TB, n int, opts []fx.Option)
	}{
		{"fx-group", plainGroupApp, checkPlainGroup},
		{"listen", listenApp, checkListenApp},
		{"listen-ctor", listenCtorApp, checkListenApp},
	}
	for _, kind := range kinds {
		for _, n := range fxStartupSizes {
			b.Run("kind="+kind.name+"/"+sizeName("listeners", n), func(b *testing.B) {
				b.ReportAllocs()
				opts := kind.build(b, n)
				kind.check(b, n, opts)
				b.ResetTimer()
				cpu0, ok0 := processCPU()
				for range b.N {
					app := fx.New(opts...)
					if err := app.Err(); err != nil {
						b.Fatal(err)
					}
				}
				if cpu1, ok1 := processCPU(); ok0 && ok1 {
					b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
				}
			})
		}
	}
}

// fxStartupSizes are the numbers of listeners BenchmarkStartup builds
// with: startup must stay linear, at most twice fx's own cost for as many
// values in a group, up to 10,000.
var fxStartupSizes = []int{100, 1000, 10000}

// plainValue is what the baseline app puts in its value group.
type plainValue struct {
	h func(context.Context, *payload) error
}

type plainGroup struct {
	fx.In
	Values []plainValue `group:"bench.plain"`
}

func plainGroupApp(_ testing.TB, n int) []fx.Option {
	opts := make([]fx.Option, 0, n+2)
	opts = append(opts, fx.NopLogger)
	for range n {
		opts = append(opts, fx.Provide(fx.Annotated{
			Group:  "bench.plain",
			Target: func() plainValue { return plainValue{h: handle} },
		}))
	}
	return append(opts, fx.Invoke(func(plainGroup) {}))
}

func checkPlainGroup(tb testing.TB, n int, opts []fx.Option) {
	tb.Helper()
	var g plainGroup
	app := fx.New(append(slices.Clip(opts), fx.Populate(&g))...)
	if err := app.Err(); err != nil {
		tb.Fatal(err)
	}
	if len(g.Values) != n {
		tb.Fatalf("group has %d values, want %d", len(g.Values), n)
	}
}

func listenApp(_ testing.TB, n int) []fx.Option {
	opts := make([]fx.Option, 0, n+2)
	opts = append(opts, fx.NopLogger, bus.Module)
	for range n {
		opts = append(opts, bus.Listen(syncTopic, handle))
	}
	return opts
}

// counterDep is a dependency the listeners' constructors take.
type counterDep struct{ step int }

func newCountingHandler(d *counterDep) func(context.Context, *payload) error {
	return func(_ context.Context, p *payload) error {
		p.Count += d.step
		return nil
	}
}

func listenCtorApp(_ testing.TB, n int) []fx.Option {
	opts := make([]fx.Option, 0, n+3)
	opts = append(opts, fx.NopLogger, bus.Module, fx.Supply(&counterDep{step: 1}))
	for range n {
		opts = append(opts, bus.Listen(syncTopic, newCountingHandler))
	}
	return opts
}

func checkListenApp(tb testing.TB, n int, opts []fx.Option) {
	tb.Helper()
	var bs *bus.Bus
	app := fx.New(append(slices.Clip(opts), fx.Populate(&bs))...)
	if err := app.Err(); err != nil {
		tb.Fatal(err)
	}
	if bs == nil {
		tb.Fatalf("no *bus.Bus from bus.Module (group %q)", bus.Group)
	}
	checkOnce(tb, n, func(p *payload) error { return syncTopic.Publish(context.Background(), bs, p) })
}
