package telemetry

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
	"github.com/fxbus/fxbus/bus/hook"
)

type ping struct{ fail bool }

func TestSummarizeReadsBusSpans(t *testing.T) {
	store := NewSpanStore(1000)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(store))
	topic := bus.NewTopic[ping]("test.ping", bus.RunAll)
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
	r.P50, r.P99, r.Max = 0, 0, 0
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
	hook := hook.New[ping, ping]("test.op")
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

// Latency shows what the number of calls supports: one call its duration,
// a few a median and a maximum, a p99 only from MinCallsP99 calls on.
func TestPrintSummaryLatencyByCount(t *testing.T) {
	store := NewSpanStore(1000)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(store))
	once := bus.NewTopic[ping]("test.once")
	few := bus.NewTopic[ping]("test.few")
	many := bus.NewTopic[ping]("test.many")
	b, err := bus.New(nil, bus.WithTracerProvider(tp), bus.WithTopics(once, few, many))
	require.NoError(t, err)
	require.NoError(t, once.Publish(t.Context(), b, &ping{}))
	for range 7 {
		require.NoError(t, few.Publish(t.Context(), b, &ping{}))
	}
	for range MinCallsP99 {
		require.NoError(t, many.Publish(t.Context(), b, &ping{}))
	}
	spans, _ := store.Ended()
	var out bytes.Buffer
	require.NoError(t, PrintSummary(&out, Summarize(spans)))
	t.Log("\n" + out.String())
	dur := `\d[\d.]*(ns|µs|ms|s)`
	assert.Regexp(t, `test\.once\s+\(publish\)\s+1\s+0\s+`+dur+`\s+-\s+-\n`, out.String(), "one call: its duration")
	assert.Regexp(t, `test\.few\s+\(publish\)\s+7\s+0\s+`+dur+`\s+`+dur+`\s+-\n`, out.String(), "seven: median and max, no p99")
	assert.Regexp(t, `test\.many\s+\(publish\)\s+100\s+0\s+`+dur+`\s+`+dur+`\s+`+dur+`\n`, out.String(), "a hundred: a p99")
	assert.Regexp(t, `\(publish\)\s+the topic's publishes`, out.String(), "the kinds of rows are explained")
	assert.NotContains(t, out.String(), "(hook) ", "only the kinds present")
}

// A step links to its trace: the topics its request fired, and errors in
// the trace of a request the desk refused read as refusals.
func TestTraceStepsAndRefusals(t *testing.T) {
	store := NewSpanStore(1000)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(store))
	first := bus.NewTopic[ping]("test.first")
	then := bus.NewTopic[ping]("test.then")
	b, err := bus.New([]bus.Listener{
		bus.On(first, func(ctx context.Context, p *ping) error {
			if p.fail {
				return errors.New("refused")
			}
			return then.Publish(ctx, b0, p)
		}, bus.Name("l")),
	}, bus.WithTracerProvider(tp), bus.WithTopics(then))
	require.NoError(t, err)
	b0 = b
	request := func(fail bool) string {
		ctx, span := tp.Tracer("http").Start(context.Background(), "POST /x")
		defer span.End()
		_ = first.Publish(ctx, b, &ping{fail: fail})
		return span.SpanContext().TraceID().String()
	}
	ok, refused, broken := request(false), request(true), request(true)
	steps := []Step{
		{Name: "ok", Status: 201, TraceID: ok},
		{Name: "refused", Status: 401, TraceID: refused},
		{Name: "broken", Status: 500, TraceID: broken},
		{Name: "skipped", Skipped: true},
	}
	spans, _ := store.Ended()

	rows := Summarize(spans, steps...)
	require.NotEmpty(t, rows)
	for _, r := range rows {
		if r.Topic == "test.first" {
			assert.Equal(t, 2, r.Errors, r.Kind)
			assert.Equal(t, 1, r.Refused, "%s: the 401's error is a refusal, the 500's is not", r.Kind)
		}
	}
	var out bytes.Buffer
	require.NoError(t, PrintSummary(&out, rows))
	assert.Regexp(t, `test\.first\s+l\s+0\s+3\s+2 \(1 refused\)`, out.String())

	traced := TraceSteps(spans, steps)
	require.Len(t, traced, 4)
	assert.Equal(t, []string{"test.first", "test.then"}, traced[0].Topics, "in the order they started")
	assert.Zero(t, traced[0].Errors)
	assert.Equal(t, []string{"test.first"}, traced[1].Topics)
	assert.Equal(t, 2, traced[1].Errors, "the handler span and the publish span")
	assert.Empty(t, traced[3].Topics)
	out.Reset()
	require.NoError(t, PrintSteps(&out, traced))
	assert.Regexp(t, ` 1 ok\s+201\s+`+ok+`\s+test\.first, test\.then\n`, out.String())
	assert.Regexp(t, ` 2 refused\s+401 refused\s+`+refused+`\s+test\.first\n`, out.String())
	assert.Regexp(t, ` 4 skipped\s+skipped\s+-\s+-\n`, out.String())
}

// b0 is the bus of TestTraceStepsAndRefusals, for its listener to publish on.
var b0 *bus.Bus
