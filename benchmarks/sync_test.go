package benchmarks

import (
	"context"
	"fmt"
	"testing"

	eventbus "github.com/asaskevich/EventBus"
	gookit "github.com/gookit/event"
	"github.com/maniartech/signals"
	mbus "github.com/mustafaturan/bus/v3"
)

// BenchmarkSync publishes a small struct synchronously to 1, 10 and 100
// handlers that each add one to a counter in it. Every row hands the
// publisher's context to the handlers and runs them in the publisher's
// goroutine; what each peer cannot express (rank order, errors) is noted in
// RESULTS.md rather than worked around here.
func BenchmarkSync(b *testing.B) {
	libs := []struct {
		name string
		run  func(b *testing.B, n int)
	}{
		{"plain", benchPlain},
		{"fxbus", benchFxbus},
		{"signals", benchSignals},
		{"gookit-typed", benchGookitTyped},
		{"gookit-map", benchGookitMap},
		{"mustafaturan", benchMustafaturan},
		{"asaskevich", benchAsaskevich},
	}
	for _, lib := range libs {
		for _, n := range sizes {
			b.Run("lib="+lib.name+"/"+sizeName("handlers", n), func(b *testing.B) {
				b.ReportAllocs()
				lib.run(b, n)
			})
		}
	}
}

// publishPlain is the floor: what any bus must do at the least. It stops at
// the first error, as fxbus does by default.
func publishPlain(ctx context.Context, hs []func(context.Context, *payload) error, p *payload) error {
	for _, h := range hs {
		if err := h(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

func benchPlain(b *testing.B, n int) {
	hs := make([]func(context.Context, *payload) error, n)
	for i := range hs {
		hs[i] = handle
	}
	ctx := context.Background()
	checkOnce(b, n, func(p *payload) error { return publishPlain(ctx, hs, p) })

	p := &payload{ID: 1, Name: "bench"}
	b.ResetTimer()
	for range b.N {
		if err := publishPlain(ctx, hs, p); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	checkTotal(b, p, b.N, n)
}

func benchFxbus(b *testing.B, n int) {
	bs := newFxbus(b, n)
	ctx := context.Background()
	checkOnce(b, n, func(p *payload) error { return syncTopic.Publish(ctx, bs, p) })

	p := &payload{ID: 1, Name: "bench"}
	b.ResetTimer()
	for range b.N {
		if err := syncTopic.Publish(ctx, bs, p); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	checkTotal(b, p, b.N, n)
}

// benchSignals uses maniartech/signals' SyncSignal with error-returning
// listeners and TryEmit, which stops at the first error like the others.
func benchSignals(b *testing.B, n int) {
	sig := signals.NewSync[*payload]()
	for range n {
		sig.AddListenerWithErr(handle)
	}
	ctx := context.Background()
	checkOnce(b, n, func(p *payload) error { return sig.TryEmit(ctx, p) })

	p := &payload{ID: 1, Name: "bench"}
	b.ResetTimer()
	for range b.N {
		if err := sig.TryEmit(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	checkTotal(b, p, b.N, n)
}

// gookitEvent is a typed event for gookit/event: its Event interface plus
// the payload. ContextTrait makes it ContextAble, so FireEventCtx hands it
// the context without wrapping it in a new event.
type gookitEvent struct {
	gookit.BasicEvent
	gookit.ContextTrait
	P *payload
}

const gookitName = "bench.sync"

func newGookit(n int, h gookit.ListenerFunc) *gookit.Manager {
	em := gookit.NewManager("bench")
	for range n {
		em.On(gookitName, h)
	}
	return em
}

// benchGookitTyped fires one reused typed event object, as the API intends
// (the event carries the payload; building one per publish would add an
// allocation that fxbus, given a pointer, does not pay either).
func benchGookitTyped(b *testing.B, n int) {
	em := newGookit(n, func(e gookit.Event) error {
		e.(*gookitEvent).P.Count++
		return nil
	})
	ctx := context.Background()
	fire := func(p *payload) error {
		ev := &gookitEvent{P: p}
		ev.SetName(gookitName)
		return em.FireEventCtx(ctx, ev)
	}
	checkOnce(b, n, fire)

	p := &payload{ID: 1, Name: "bench"}
	ev := &gookitEvent{P: p}
	ev.SetName(gookitName)
	b.ResetTimer()
	for range b.N {
		if err := em.FireEventCtx(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	checkTotal(b, p, b.N, n)
}

// benchGookitMap fires by name with a map of parameters (built once, outside
// the loop). FireCtx makes a BasicEvent and wraps it with the context on
// every call: that is the map API's own cost.
func benchGookitMap(b *testing.B, n int) {
	em := newGookit(n, func(e gookit.Event) error {
		e.Get("payload").(*payload).Count++
		return nil
	})
	ctx := context.Background()
	fire := func(p *payload) error {
		err, _ := em.FireCtx(ctx, gookitName, gookit.M{"payload": p})
		return err
	}
	checkOnce(b, n, fire)

	p := &payload{ID: 1, Name: "bench"}
	params := gookit.M{"payload": p}
	b.ResetTimer()
	for range b.N {
		if err, _ := em.FireCtx(ctx, gookitName, params); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	checkTotal(b, p, b.N, n)
}

// benchMustafaturan uses mustafaturan/bus v3. Its handlers return nothing,
// so it cannot report or stop on an error. The id generator returns a
// constant and the transaction id comes in the context, as in the library's
// own BenchmarkEmit: the cheapest setup it allows.
func benchMustafaturan(b *testing.B, n int) {
	mb, err := mbus.NewBus(mbus.Next(func() string { return "id" }))
	if err != nil {
		b.Fatal(err)
	}
	const topic = "bench.sync"
	mb.RegisterTopics(topic) // before the handlers, so they run in registration order
	for i := range n {
		mb.RegisterHandler(fmt.Sprintf("h%d", i), mbus.Handler{
			Matcher: `^bench\.sync$`,
			Handle:  func(_ context.Context, e mbus.Event) { e.Data.(*payload).Count++ },
		})
	}
	ctx := context.WithValue(context.Background(), mbus.CtxKeyTxID, "tx")
	checkOnce(b, n, func(p *payload) error { return mb.Emit(ctx, topic, p) })

	p := &payload{ID: 1, Name: "bench"}
	b.ResetTimer()
	for range b.N {
		if err := mb.Emit(ctx, topic, p); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	checkTotal(b, p, b.N, n)
}

// benchAsaskevich uses asaskevich/EventBus: a string topic, arguments as
// ...interface{}, handlers called by reflection. Results are discarded, so
// it cannot report or stop on an error; the context travels as an argument.
func benchAsaskevich(b *testing.B, n int) {
	eb := eventbus.New()
	const topic = "bench.sync"
	for range n {
		if err := eb.Subscribe(topic, func(_ context.Context, p *payload) { p.Count++ }); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	checkOnce(b, n, func(p *payload) error { eb.Publish(topic, ctx, p); return nil })

	p := &payload{ID: 1, Name: "bench"}
	b.ResetTimer()
	for range b.N {
		eb.Publish(topic, ctx, p)
	}
	b.StopTimer()
	checkTotal(b, p, b.N, n)
}
