package benchmarks

import (
	"context"
	"testing"
)

type ctxKey int

// BenchmarkContext repeats the 10-handler synchronous case of BenchmarkSync
// for the plain loop and fxbus with contexts shaped like a server's, which
// context.Background hides:
//
//   - ctx=deep: a long-lived context eight values and a cancel deep, as
//     middleware leaves it. A done channel means a cancellation check per
//     handler, and fxbus's depth bookkeeping (ctx.Value) walks the chain.
//   - ctx=fresh: a new context per publish (a value added to the deep one),
//     as each request brings. Every row pays for making it; fxbus cannot
//     reuse its cached depth frame.
//
// lib=plain-checked is the plain loop plus what fxbus promises about a done
// context: it checks, before each handler, whether the context is done.
func BenchmarkContext(b *testing.B) {
	deep, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	for i := range 8 {
		deep = context.WithValue(deep, ctxKey(i), i)
	}
	const n = 10
	for _, shape := range []string{"deep", "fresh"} {
		for _, lib := range []string{"plain", "plain-checked", "fxbus"} {
			b.Run("ctx="+shape+"/lib="+lib+"/"+sizeName("handlers", n), func(b *testing.B) {
				b.ReportAllocs()
				var publish func(context.Context, *payload) error
				switch lib {
				case "plain":
					hs := make([]func(context.Context, *payload) error, n)
					for i := range hs {
						hs[i] = handle
					}
					publish = func(ctx context.Context, p *payload) error { return publishPlain(ctx, hs, p) }
				case "plain-checked":
					hs := make([]func(context.Context, *payload) error, n)
					for i := range hs {
						hs[i] = handle
					}
					publish = func(ctx context.Context, p *payload) error { return publishPlainChecked(ctx, hs, p) }
				case "fxbus":
					bs := newFxbus(b, n)
					publish = func(ctx context.Context, p *payload) error { return syncTopic.Publish(ctx, bs, p) }
				}
				checkOnce(b, n, func(p *payload) error { return publish(deep, p) })

				p := &payload{ID: 1, Name: "bench"}
				b.ResetTimer()
				for i := range b.N {
					ctx := deep
					if shape == "fresh" {
						ctx = context.WithValue(deep, ctxKey(100), i)
					}
					if err := publish(ctx, p); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				checkTotal(b, p, b.N, n)
			})
		}
	}
}

// publishPlainChecked is publishPlain that stops, with the context's error,
// when the context is done before a handler.
func publishPlainChecked(ctx context.Context, hs []func(context.Context, *payload) error, p *payload) error {
	done := ctx.Done()
	for _, h := range hs {
		if done != nil {
			select {
			case <-done:
				return ctx.Err()
			default:
			}
		}
		if err := h(ctx, p); err != nil {
			return err
		}
	}
	return nil
}
