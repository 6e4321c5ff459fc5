package functions_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/goleak"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/modules/functions"
	"github.com/fxbus/fxbus/topics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func start(t *testing.T, opts ...fx.Option) *bus.Bus {
	t.Helper()
	var b *bus.Bus
	app := fxtest.New(t, append([]fx.Option{fx.NopLogger, bus.Module, functions.Module, fx.Populate(&b)}, opts...)...)
	app.RequireStart()
	t.Cleanup(app.RequireStop)
	return b
}

func TestModuleImplementsItsFunctions(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	clock := functions.Clock(func() time.Time { return time.Date(2025, 3, 1, 13, 30, 0, 0, paris) })
	// Another plugin's function, implemented by a listener after the module.
	other := bus.Listen(topics.ThreadFunctionCall, func(_ context.Context, c *topics.FunctionCall) error {
		if c.Function == "other" {
			c.Results["answer"] = 42
		}
		return nil
	}, bus.Rank(10))
	b := start(t, fx.Supply(clock), other)

	for _, tc := range []struct {
		function string
		args     map[string]any
		want     map[string]any
	}{
		{functions.Echo, map[string]any{"text": "hello"}, map[string]any{"text": "hello"}},
		{functions.Echo, map[string]any{"text": 7}, map[string]any{"text": 7}},
		{functions.Now, nil, map[string]any{"time": "2025-03-01T12:30:00Z"}},
		{"other", map[string]any{"text": "hello"}, map[string]any{"answer": 42}}, // untouched by the module
		{"unknown", map[string]any{"text": "hello"}, map[string]any{}},
	} {
		t.Run(tc.function, func(t *testing.T) {
			c := &topics.FunctionCall{Function: tc.function, Arguments: tc.args, Results: map[string]any{}}
			require.NoError(t, topics.ThreadFunctionCall.Publish(context.Background(), b, c))
			assert.Equal(t, tc.want, c.Results)
		})
	}
}

// A result someone else put there stays, for functions the module does not
// know.
func TestModuleLeavesOtherCallsAlone(t *testing.T) {
	b := start(t)
	c := &topics.FunctionCall{Function: "mine", Arguments: map[string]any{"text": "x"}, Results: map[string]any{"kept": true}}
	require.NoError(t, topics.ThreadFunctionCall.Publish(context.Background(), b, c))
	assert.Equal(t, map[string]any{"kept": true}, c.Results)
}

func TestEchoNeedsText(t *testing.T) {
	b := start(t)
	c := &topics.FunctionCall{Function: functions.Echo, Arguments: map[string]any{}, Results: map[string]any{}}
	err := topics.ThreadFunctionCall.Publish(context.Background(), b, c)
	assert.ErrorIs(t, err, functions.ErrMissingArgument)
	assert.ErrorContains(t, err, `functions: echo: missing argument "text"`)
	assert.Empty(t, c.Results)
}

// Without a Clock, Now tells the real time; nil Results are made.
func TestNowDefaultClock(t *testing.T) {
	b := start(t)
	before := time.Now().Truncate(time.Second)
	c := &topics.FunctionCall{Function: functions.Now}
	require.NoError(t, topics.ThreadFunctionCall.Publish(context.Background(), b, c))
	got, err := time.Parse(time.RFC3339, c.Results["time"].(string))
	require.NoError(t, err)
	assert.Equal(t, time.UTC, got.Location())
	assert.False(t, got.Before(before))
	assert.False(t, got.After(time.Now()))
}
