package desk

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/fxbus/fxbus/bus"
)

type ping struct{ fail bool }

func TestSummarizeReadsBusSpans(t *testing.T) {
	store := NewSpanStore(1000)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(store))
	topic := bus.NewTopic[ping]("test.ping", bus.WithErrorPolicy(bus.RunAll))
	b, err := bus.New([]bus.Listener{
		bus.On(topic, func(context.Context, *ping) error { return nil }, bus.Name("second"), bus.Rank(5)),
		bus.On(topic, func(_ context.Context, p *ping) error {
			if p.fail {
				return errors.New("no")
			}
			return nil
		}, bus.Name("first"), bus.Rank(-5)),
	}, bus.WithTracerProvider(tp))
	require.NoError(t, err)
	// An unrelated span must be ignored.
	_, other := tp.Tracer("x").Start(context.Background(), "GET /")
	other.End()
	for i := 0; i < 4; i++ {
		_ = topic.Publish(context.Background(), b, &ping{fail: i == 0})
	}

	spans, dropped := store.Ended()
	require.Zero(t, dropped)
	rows := Summarize(spans)
	require.Len(t, rows, 3)
	assert.Equal(t, Row{Topic: "test.ping", Kind: KindPublish, Calls: 4, Errors: 1}, withoutTimes(rows[0]))
	assert.Equal(t, Row{Topic: "test.ping", Kind: KindProcess, Listener: "first", Rank: -5, Calls: 4, Errors: 1}, withoutTimes(rows[1]))
	assert.Equal(t, Row{Topic: "test.ping", Kind: KindProcess, Listener: "second", Rank: 5, Calls: 4}, withoutTimes(rows[2]))
	for _, r := range rows {
		assert.Positive(t, r.P50)
		assert.GreaterOrEqual(t, r.P99, r.P50)
	}

	var out bytes.Buffer
	require.NoError(t, PrintSummary(&out, rows))
	assert.Contains(t, out.String(), "TOPIC")
	assert.Regexp(t, `test\.ping\s+\(publish\)\s+4\s+1`, out.String())
	assert.Regexp(t, `test\.ping\s+first\s+-5\s+4\s+1`, out.String())
}

func withoutTimes(r Row) Row {
	r.P50, r.P99 = 0, 0
	return r
}

func TestPercentile(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		var d []time.Duration
		for _, v := range n {
			d = append(d, time.Duration(v)*time.Millisecond)
		}
		return d
	}
	tests := []struct {
		in       []time.Duration
		p        float64
		expected time.Duration
	}{
		{nil, 0.5, 0},
		{ms(7), 0.99, 7 * time.Millisecond},
		{ms(1, 2, 3, 4), 0.5, 2 * time.Millisecond},
		{ms(1, 2, 3, 4), 0.99, 4 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.5, 5 * time.Millisecond},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.expected, percentile(tt.in, tt.p), "%v p%v", tt.in, tt.p)
	}
}

func TestSpanStoreLimit(t *testing.T) {
	store := NewSpanStore(2)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(store))
	for i := 0; i < 5; i++ {
		_, s := tp.Tracer("x").Start(context.Background(), "s")
		s.End()
	}
	spans, dropped := store.Ended()
	assert.Len(t, spans, 2)
	assert.Equal(t, 3, dropped)
}

func TestSummarizeHooks(t *testing.T) {
	store := NewSpanStore(1000)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(store))
	hook := bus.NewHook[ping, ping]("test.op")
	b, err := bus.New([]bus.Listener{
		bus.On(hook.Before(), func(context.Context, *ping) error { return nil }, bus.Name("check")),
	}, bus.WithTracerProvider(tp))
	require.NoError(t, err)
	for _, fail := range []bool{false, true} {
		_, _ = hook.Run(context.Background(), b, &ping{fail: fail}, func(_ context.Context, p *ping) (*ping, error) {
			if p.fail {
				return nil, errors.New("no")
			}
			return p, nil
		})
	}
	spans, _ := store.Ended()
	var got []Row
	for _, r := range Summarize(spans) {
		got = append(got, withoutTimes(r))
	}
	assert.Equal(t, []Row{
		{Topic: "test.op", Kind: KindHook, Calls: 2, Errors: 1},
		{Topic: "test.op", Kind: KindOperation, Calls: 2, Errors: 1},
		// test.op.after has no listener: no publish span, no row.
		{Topic: "test.op.before", Kind: KindPublish, Calls: 2},
		{Topic: "test.op.before", Kind: KindProcess, Listener: "check", Calls: 2},
	}, got)
	var out bytes.Buffer
	require.NoError(t, PrintSummary(&out, Summarize(spans)))
	assert.Regexp(t, `test\.op\s+\(hook\)\s+2\s+1`, out.String())
	assert.Regexp(t, `test\.op\s+\(operation\)\s+2\s+1`, out.String())
}
