package middleware

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"time"

	"github.com/fxbus/fxbus/bus"
)

// Timeout gives each handler call a context that is done after d, and
// returns the handler's own result: a handler that honours its context
// returns context.DeadlineExceeded (or an error wrapping it) when it runs
// out of time. d <= 0 sets no deadline.
func Timeout(d time.Duration) bus.Middleware {
	return func(next bus.Handler) bus.Handler {
		if d <= 0 {
			return next
		}
		return func(ctx context.Context, env bus.Envelope) error {
			ctx, cancel := context.WithTimeout(ctx, d)
			defer cancel()
			return next(ctx, env)
		}
	}
}

// RetryPolicy says how [Retry] retries; its zero value is usable.
type RetryPolicy struct {
	// Attempts is how many calls in all, the first included; 0 means 3.
	Attempts int
	// Base is the backoff before the first retry, doubled before each
	// next one; 0 means 10ms.
	Base time.Duration
	// Max caps the backoff; 0 means 1s.
	Max time.Duration
	// Retryable says whether a failure is worth retrying; nil means every
	// error but [bus.ErrStop] and a done context.
	Retryable func(error) bool
}

// Retry calls a handler that fails again, up to p.Attempts calls in all,
// waiting a backoff between calls: a random duration up to Base·2ⁱ
// (capped at Max) before retry i, "full jitter", so that publishers that
// fail together do not retry together. It gives up, returning the last
// failure, when the attempts are spent, the failure is not retryable, or
// the publisher's context is done during a backoff. A panic is not
// retried: it passes through.
//
// Every call gets the same payload: a handler that changes it before it
// fails sees its own change on the retry.
func Retry(p RetryPolicy) bus.Middleware {
	if p.Attempts <= 0 {
		p.Attempts = 3
	}
	if p.Base <= 0 {
		p.Base = 10 * time.Millisecond
	}
	if p.Max <= 0 {
		p.Max = time.Second
	}
	retryable := p.Retryable
	if retryable == nil {
		retryable = defaultRetryable
	}
	return func(next bus.Handler) bus.Handler {
		return func(ctx context.Context, env bus.Envelope) error {
			err := next(ctx, env)
			for i := 1; i < p.Attempts && err != nil && retryable(err); i++ {
				t := time.NewTimer(backoff(p.Base, p.Max, i-1, rand.Int64N))
				select {
				case <-ctx.Done():
					t.Stop()
					return err
				case <-t.C:
				}
				err = next(ctx, env)
			}
			return err
		}
	}
}

func defaultRetryable(err error) bool {
	return !errors.Is(err, bus.ErrStop) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// backoff is the wait before retry i (from 0): a random duration in
// [0, min(max, base·2ⁱ)], drawn with rnd (rand.Int64N).
func backoff(base, max time.Duration, i int, rnd func(int64) int64) time.Duration {
	ceil := max
	if i < 62 && base <= max>>i {
		ceil = min(max, base<<i)
	}
	return time.Duration(rnd(int64(ceil) + 1))
}

// Recover turns a panic of the handler (or of the middleware inside
// Recover) into a [*bus.PanicError] the topic's error policy handles, as
// the bus itself does, and logs it first to log at level Error: the topic,
// the listener with its source, the failure class (error.type, as spans
// record it), the
// panic value and the stack. A nil log logs nothing.
//
// The bus recovers panics anyway; Recover adds the log line, and, placed
// inside other middleware (after it in the list), lets them see the panic
// as an error: a [Retry] outside Recover retries a panicking handler.
func Recover(log *slog.Logger) bus.Middleware {
	return func(next bus.Handler) bus.Handler {
		return func(ctx context.Context, env bus.Envelope) (err error) {
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				p := &bus.PanicError{Value: v, Stack: debug.Stack()}
				if log != nil {
					l := env.Listener()
					log.ErrorContext(ctx, "fxbus: handler panicked",
						slog.String("topic", env.Topic.Name()),
						slog.String("listener", l.Name),
						slog.String("source", l.Source.String()),
						slog.String("error.type", bus.ErrorType(p)),
						slog.Any("panic", v),
						slog.String("stack", string(p.Stack)))
				}
				err = p
			}()
			return next(ctx, env)
		}
	}
}
