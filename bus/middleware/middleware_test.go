package middleware_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/middleware"
)

type mail struct{ To string }

var sent = bus.NewTopic[mail]("middleware.sent")

func newBus(t *testing.T, h func(context.Context, *mail) error, mws ...bus.Middleware) *bus.Bus {
	t.Helper()
	b, err := bus.New([]bus.Listener{bus.On(sent, h, bus.Name("smtp"))}, bus.WithMiddleware(mws...))
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func TestTimeout(t *testing.T) {
	var deadline time.Time
	var ok bool
	b := newBus(t, func(ctx context.Context, _ *mail) error {
		deadline, ok = ctx.Deadline()
		<-ctx.Done()
		return ctx.Err()
	}, middleware.Timeout(time.Millisecond))
	start := time.Now()
	err := sent.Publish(context.Background(), b, &mail{})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	require.True(t, ok)
	assert.WithinDuration(t, start.Add(time.Millisecond), deadline, time.Second)

	b = newBus(t, func(ctx context.Context, _ *mail) error {
		_, ok = ctx.Deadline()
		return nil
	}, middleware.Timeout(0))
	require.NoError(t, sent.Publish(context.Background(), b, &mail{}))
	assert.False(t, ok, "no deadline for d <= 0")
}

func TestRetry(t *testing.T) {
	flaky := errors.New("connection refused")
	fast := middleware.RetryPolicy{Attempts: 4, Base: time.Nanosecond, Max: time.Nanosecond}
	for _, tc := range []struct {
		name    string
		failFor int
		err     error
		policy  middleware.RetryPolicy
		calls   int
		wantErr error
	}{
		{"succeeds at once", 0, flaky, fast, 1, nil},
		{"succeeds on the third call", 2, flaky, fast, 3, nil},
		{"gives up after the attempts", 10, flaky, fast, 4, flaky},
		{"stop is not retried", 10, bus.ErrStop, fast, 1, nil},
		{"a policy's predicate", 10, flaky, middleware.RetryPolicy{Attempts: 4, Base: time.Nanosecond,
			Retryable: func(err error) bool { return false }}, 1, flaky},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			b := newBus(t, func(context.Context, *mail) error {
				calls++
				if calls <= tc.failFor {
					return tc.err
				}
				return nil
			}, middleware.Retry(tc.policy))
			err := sent.Publish(context.Background(), b, &mail{})
			if tc.wantErr == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, tc.wantErr)
			}
			assert.Equal(t, tc.calls, calls)
		})
	}
}

func TestRetryGivesUpWhenTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	flaky := errors.New("flaky")
	b := newBus(t, func(context.Context, *mail) error {
		calls++
		cancel() // the publisher gives up during the backoff
		return flaky
	}, middleware.Retry(middleware.RetryPolicy{Attempts: 5, Base: time.Hour, Max: time.Hour}))
	err := sent.Publish(ctx, b, &mail{})
	assert.ErrorIs(t, err, flaky)
	assert.Equal(t, 1, calls)
}

func TestRecoverLogsAndReturnsAPanicError(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	calls := 0
	b := newBus(t, func(context.Context, *mail) error {
		calls++
		if calls == 1 {
			panic("nil map")
		}
		return nil
	}, middleware.Retry(middleware.RetryPolicy{Attempts: 2, Base: time.Nanosecond}), middleware.Recover(log))
	require.NoError(t, sent.Publish(context.Background(), b, &mail{}), "Retry outside Recover retries a panic")
	assert.Equal(t, 2, calls)
	out := buf.String()
	assert.Contains(t, out, "handler panicked")
	assert.Contains(t, out, "topic=middleware.sent")
	assert.Contains(t, out, "listener=smtp")
	assert.Contains(t, out, "middleware_test.go:")
	assert.Contains(t, out, "error.type=panic")
	assert.Contains(t, out, `panic="nil map"`)

	b = newBus(t, func(context.Context, *mail) error { panic("again") }, middleware.Recover(nil))
	err := sent.Publish(context.Background(), b, &mail{})
	var pe *bus.PanicError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "again", pe.Value)
	assert.Contains(t, string(pe.Stack), "middleware_test.go")
}

// trailMW returns a middleware that adds "name>" before the next handler
// and "<name" after it to log.
func trailMW(log *[]string, name string) bus.Middleware {
	return func(next bus.Handler) bus.Handler {
		return func(ctx context.Context, env bus.Envelope) error {
			*log = append(*log, name+">")
			err := next(ctx, env)
			*log = append(*log, "<"+name)
			return err
		}
	}
}

func TestForModuleAndForTopic(t *testing.T) {
	other := bus.NewTopic[mail]("middleware.other")
	var log []string
	h := func(name string) func(context.Context, *mail) error {
		return func(context.Context, *mail) error { log = append(log, name); return nil }
	}
	b, err := bus.New([]bus.Listener{
		bus.On(sent, h("billing"), bus.InModule("billing")),
		bus.On(sent, h("shipping"), bus.InModule("shipping"), bus.Rank(1)),
		bus.On(other, h("other"), bus.InModule("billing")),
		bus.On(other, h("nomodule"), bus.Rank(1)),
	}, bus.WithMiddleware(
		trailMW(&log, "all"),
		middleware.ForModule("billing", trailMW(&log, "mod1"), nil, trailMW(&log, "mod2")), // a nil one is skipped
		middleware.ForTopic(sent, trailMW(&log, "topic")),
		middleware.ForModule("", trailMW(&log, "empty")),
		middleware.ForTopic(nil, trailMW(&log, "nil")),
	))
	require.NoError(t, err)
	defer b.Close()

	require.NoError(t, sent.Publish(context.Background(), b, &mail{}))
	assert.Equal(t, []string{
		"all>", "mod1>", "mod2>", "topic>", "billing", "<topic", "<mod2", "<mod1", "<all",
		"all>", "topic>", "shipping", "<topic", "<all",
	}, log)

	log = nil
	require.NoError(t, other.Publish(context.Background(), b, &mail{}))
	assert.Equal(t, []string{
		"all>", "mod1>", "mod2>", "other", "<mod2", "<mod1", "<all",
		"all>", "nomodule", "<all",
	}, log, "a listener without a module is in no module's scope")

	sub, err := sent.Subscribe(b, h("late"), bus.InModule("billing"), bus.Rank(2))
	require.NoError(t, err)
	defer func() { _ = sub.Close() }()
	log = nil
	require.NoError(t, sent.Publish(context.Background(), b, &mail{}))
	assert.Equal(t, []string{"all>", "mod1>", "mod2>", "topic>", "late", "<topic", "<mod2", "<mod1", "<all"}, log[14:],
		"a subscription in the module gets its middleware")
}

func TestScopedNilHandlerIsAnError(t *testing.T) {
	broken := func(bus.Handler) bus.Handler { return nil }
	b := newBus(t, func(context.Context, *mail) error { return nil }, middleware.ForTopic(sent, broken))
	err := sent.Publish(context.Background(), b, &mail{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "middleware #0 returned a nil handler")
}
