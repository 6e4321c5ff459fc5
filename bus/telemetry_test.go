package bus_test

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/fxbus/fxbus/bus"
)

// The conventions are pinned with literal keys, not the constants of
// internal/otelbus, so that renaming a constant cannot silently change what
// tracing tools read.

type order struct {
	ID    string
	Email string
}

func validateOrder(context.Context, *order) error { return nil }
func storeOrder(context.Context, *order) error    { return nil }
func notifyOrder(context.Context, *order) error   { return nil }

type declinedError struct{}

func (declinedError) Error() string { return "card declined" }

// thisFile is the absolute path of this file, as code.file.path shows it.
func thisFile() string {
	_, file, _, _ := runtime.Caller(0)
	return file
}

func newRecorder(t testing.TB, opts ...sdktrace.TracerProviderOption) (*tracetest.SpanRecorder, *sdktrace.TracerProvider) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(append(opts, sdktrace.WithSpanProcessor(rec))...)
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return rec, tp
}

func attrMap(kvs []attribute.KeyValue) map[string]any {
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.AsInterface()
	}
	return m
}

func spanNames(spans []sdktrace.ReadOnlySpan) []string {
	names := make([]string, len(spans))
	for i, s := range spans {
		names[i] = s.Name()
	}
	return names
}

func startedNames(rec *tracetest.SpanRecorder) []string {
	var names []string
	for _, s := range rec.Started() {
		names = append(names, s.Name())
	}
	return names
}

func spanNamed(t testing.TB, spans []sdktrace.ReadOnlySpan, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	for _, s := range spans {
		if s.Name() == name {
			return s
		}
	}
	require.Failf(t, "no span", "no span %q in %q", name, spanNames(spans))
	return nil
}

func publishAttrs(topic string, listeners, ran int) map[string]any {
	return map[string]any{
		"messaging.system":           "fxbus",
		"messaging.operation.name":   "publish",
		"messaging.operation.type":   "send",
		"messaging.destination.name": topic,
		"fxbus.listener.count":       int64(listeners),
		"fxbus.listener.ran":         int64(ran),
	}
}

func TestTelemetrySpans(t *testing.T) {
	rec, tp := newRecorder(t)
	topic := bus.NewTopic[order]("tel.order.placed")
	ln1 := line() + 1
	l1 := bus.On(topic, validateOrder, bus.Rank(-1), bus.Name("validate"))
	ln2 := line() + 1
	l2 := bus.On(topic, storeOrder)
	ln3 := line() + 1
	l3 := bus.On(topic, notifyOrder, bus.Rank(5), bus.Name("notify"))

	// The handler sees its own span in ctx.
	var seen trace.SpanContext
	l4 := bus.On(topic, func(ctx context.Context, _ *order) error {
		seen = trace.SpanContextFromContext(ctx)
		return nil
	}, bus.Rank(6), bus.Name("peek"))

	b := newBus(t, []bus.Listener{l3, l4, l1, l2}, bus.WithTracerProvider(tp))

	ctx, parent := tp.Tracer("test").Start(t.Context(), "request")
	require.NoError(t, topic.Publish(ctx, b, &order{ID: "o-1"}))
	parent.End()

	spans := rec.Ended()
	require.Len(t, spans, 6)

	pub := spanNamed(t, spans, "publish tel.order.placed")
	assert.Equal(t, trace.SpanKindProducer, pub.SpanKind())
	assert.Equal(t, publishAttrs("tel.order.placed", 4, 4), attrMap(pub.Attributes()))
	assert.Equal(t, parent.SpanContext().SpanID(), pub.Parent().SpanID(), "the publish span is a child of the caller's span")
	assert.Equal(t, codes.Unset, pub.Status().Code)

	handlerAttrs := func(name string, rank int, fn string, ln int) map[string]any {
		return map[string]any{
			"messaging.system":           "fxbus",
			"messaging.operation.name":   "process",
			"messaging.operation.type":   "process",
			"messaging.destination.name": "tel.order.placed",
			"fxbus.listener.name":        name,
			"fxbus.listener.rank":        int64(rank),
			"code.function.name":         fn,
			"code.file.path":             thisFile(),
			"code.line.number":           int64(ln),
		}
	}
	for _, tc := range []struct {
		span  string
		attrs map[string]any
	}{
		{"validate tel.order.placed", handlerAttrs("validate", -1, "github.com/fxbus/fxbus/bus_test.validateOrder", ln1)},
		{"bus_test.storeOrder tel.order.placed", handlerAttrs("bus_test.storeOrder", 0, "github.com/fxbus/fxbus/bus_test.storeOrder", ln2)},
		{"notify tel.order.placed", handlerAttrs("notify", 5, "github.com/fxbus/fxbus/bus_test.notifyOrder", ln3)},
	} {
		s := spanNamed(t, spans, tc.span)
		assert.Equal(t, trace.SpanKindConsumer, s.SpanKind(), tc.span)
		assert.Equal(t, tc.attrs, attrMap(s.Attributes()), tc.span)
		assert.Equal(t, pub.SpanContext().SpanID(), s.Parent().SpanID(), "%s is a child of the publish span", tc.span)
		assert.Equal(t, pub.SpanContext().TraceID(), s.SpanContext().TraceID())
		assert.Equal(t, codes.Unset, s.Status().Code)
		assert.Empty(t, s.Events())
	}

	// Handler spans start in rank order, each after the previous one ended.
	assert.Equal(t, []string{
		"request",
		"publish tel.order.placed",
		"validate tel.order.placed",
		"bus_test.storeOrder tel.order.placed",
		"notify tel.order.placed",
		"peek tel.order.placed",
	}, startedNames(rec))
	started := rec.Started()[2:]
	for i := 1; i < len(started); i++ {
		prev := spanNamed(t, spans, started[i-1].Name())
		assert.False(t, started[i].StartTime().Before(prev.EndTime()), "%s starts after %s ended", started[i].Name(), prev.Name())
	}
	assert.Equal(t, spanNamed(t, spans, "peek tel.order.placed").SpanContext(), seen)
}

func TestTelemetryNestedPublishSpans(t *testing.T) {
	rec, tp := newRecorder(t)
	outer := bus.NewTopic[event]("tel.nested.outer")
	inner := bus.NewTopic[event]("tel.nested.inner")
	var b *bus.Bus
	b = newBus(t, []bus.Listener{
		bus.On(outer, func(ctx context.Context, _ *event) error { return inner.Publish(ctx, b, &event{}) }, bus.Name("relay")),
		bus.On(inner, record("leaf"), bus.Name("leaf")),
	}, bus.WithTracerProvider(tp))
	require.NoError(t, outer.Publish(t.Context(), b, &event{}))

	spans := rec.Ended()
	require.Len(t, spans, 4)
	outerPub := spanNamed(t, spans, "publish tel.nested.outer")
	relay := spanNamed(t, spans, "relay tel.nested.outer")
	innerPub := spanNamed(t, spans, "publish tel.nested.inner")
	leaf := spanNamed(t, spans, "leaf tel.nested.inner")
	assert.False(t, outerPub.Parent().IsValid(), "the outer publish is a root")
	assert.Equal(t, outerPub.SpanContext().SpanID(), relay.Parent().SpanID())
	assert.Equal(t, relay.SpanContext().SpanID(), innerPub.Parent().SpanID(), "the nested publish is a child of the handler that published")
	assert.Equal(t, innerPub.SpanContext().SpanID(), leaf.Parent().SpanID())
}

func TestTelemetryFailures(t *testing.T) {
	t.Run("error", func(t *testing.T) {
		rec, tp := newRecorder(t)
		topic := bus.NewTopic[order]("tel.fail")
		b := newBus(t, []bus.Listener{
			bus.On(topic, func(context.Context, *order) error { return declinedError{} }, bus.Name("charge")),
			bus.On(topic, validateOrder, bus.Name("never"), bus.Rank(1)),
		}, bus.WithTracerProvider(tp))
		require.Error(t, topic.Publish(t.Context(), b, &order{}))

		spans := rec.Ended()
		require.Equal(t, []string{"charge tel.fail", "publish tel.fail"}, spanNames(spans))
		h, pub := spans[0], spans[1]
		assert.Equal(t, codes.Error, h.Status().Code)
		assert.Equal(t, "card declined", h.Status().Description)
		assert.Equal(t, "github.com/fxbus/fxbus/bus_test.declinedError", attrMap(h.Attributes())["error.type"])
		require.Len(t, h.Events(), 1)
		assert.Equal(t, "exception", h.Events()[0].Name)
		assert.Equal(t, "card declined", attrMap(h.Events()[0].Attributes)["exception.message"])

		assert.Equal(t, codes.Error, pub.Status().Code)
		assert.Contains(t, pub.Status().Description, "card declined")
		assert.Equal(t, "github.com/fxbus/fxbus/bus_test.declinedError", attrMap(pub.Attributes())["error.type"],
			"the publish span's error.type is the handler's error, not the wrapper")
	})

	t.Run("RunAll", func(t *testing.T) {
		rec, tp := newRecorder(t)
		topic := bus.NewTopic[order]("tel.fail.runall", bus.RunAll)
		b := newBus(t, []bus.Listener{
			bus.On(topic, func(context.Context, *order) error { return declinedError{} }, bus.Name("a")),
			bus.On(topic, validateOrder, bus.Name("b")),
			bus.On(topic, func(context.Context, *order) error { return errors.New("c failed") }, bus.Name("c")),
		}, bus.WithTracerProvider(tp))
		require.Error(t, topic.Publish(t.Context(), b, &order{}))
		spans := rec.Ended()
		require.Equal(t, []string{"a tel.fail.runall", "b tel.fail.runall", "c tel.fail.runall", "publish tel.fail.runall"}, spanNames(spans))
		assert.Equal(t, []codes.Code{codes.Error, codes.Unset, codes.Error, codes.Error},
			[]codes.Code{spans[0].Status().Code, spans[1].Status().Code, spans[2].Status().Code, spans[3].Status().Code})
		assert.Equal(t, "_OTHER", attrMap(spans[2].Attributes())["error.type"], "errors.New's text names no class")
		assert.Equal(t, "github.com/fxbus/fxbus/bus_test.declinedError", attrMap(spans[3].Attributes())["error.type"], "the first failure")
	})

	t.Run("panic", func(t *testing.T) {
		rec, tp := newRecorder(t)
		topic := bus.NewTopic[event]("tel.panic")
		b := newBus(t, []bus.Listener{bus.On(topic, panicBoom, bus.Name("boom"))}, bus.WithTracerProvider(tp))
		require.Error(t, topic.Publish(t.Context(), b, &event{}))

		spans := rec.Ended()
		require.Equal(t, []string{"boom tel.panic", "publish tel.panic"}, spanNames(spans))
		h := spans[0]
		assert.Equal(t, codes.Error, h.Status().Code)
		assert.Equal(t, "panic: boom", h.Status().Description)
		a := attrMap(h.Attributes())
		assert.Equal(t, true, a["fxbus.panic"])
		assert.Equal(t, "panic", a["error.type"])
		require.Len(t, h.Events(), 1)
		ev := h.Events()[0]
		assert.Equal(t, "exception", ev.Name)
		ea := attrMap(ev.Attributes)
		assert.Equal(t, "panic", ea["exception.type"])
		assert.Equal(t, "panic: boom", ea["exception.message"])
		assert.Contains(t, ea["exception.stacktrace"], "bus_test.panicBoom")
		assert.Equal(t, codes.Error, spans[1].Status().Code)
		assert.Equal(t, "panic", attrMap(spans[1].Attributes())["error.type"])
	})

	t.Run("stop", func(t *testing.T) {
		rec, tp := newRecorder(t)
		topic := bus.NewTopic[event]("tel.stop")
		b := newBus(t, []bus.Listener{
			bus.On(topic, record("a"), bus.Name("a")),
			bus.On(topic, failWith("stopper", bus.ErrStop), bus.Name("stopper")),
			bus.On(topic, record("never"), bus.Name("never")),
		}, bus.WithTracerProvider(tp))
		require.NoError(t, topic.Publish(t.Context(), b, &event{}))

		spans := rec.Ended()
		require.Equal(t, []string{"a tel.stop", "stopper tel.stop", "publish tel.stop"}, spanNames(spans))
		assert.NotContains(t, attrMap(spans[0].Attributes()), "fxbus.stopped")
		stopper := spans[1]
		assert.Equal(t, true, attrMap(stopper.Attributes())["fxbus.stopped"])
		assert.Equal(t, codes.Unset, stopper.Status().Code, "a stop is not a failure")
		assert.Empty(t, stopper.Events())
		pub := spans[2]
		assert.Equal(t, "stopper", attrMap(pub.Attributes())["fxbus.stopped_by"])
		assert.Equal(t, codes.Unset, pub.Status().Code)
	})

	t.Run("cancelled", func(t *testing.T) {
		rec, tp := newRecorder(t)
		topic := bus.NewTopic[event]("tel.cancel")
		b := newBus(t, []bus.Listener{bus.On(topic, record("a"))}, bus.WithTracerProvider(tp))
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		require.ErrorIs(t, topic.Publish(ctx, b, &event{}), context.Canceled)
		spans := rec.Ended()
		require.Equal(t, []string{"publish tel.cancel"}, spanNames(spans))
		assert.Equal(t, codes.Error, spans[0].Status().Code)
	})
}

func TestTelemetryNoPayloadOnSpans(t *testing.T) {
	const secret = "alice@example.com"
	rec, tp := newRecorder(t)
	topic := bus.NewTopic[order]("tel.private")
	b := newBus(t, []bus.Listener{bus.On(topic, validateOrder), bus.On(topic, storeOrder)}, bus.WithTracerProvider(tp))
	require.NoError(t, topic.Publish(t.Context(), b, &order{ID: secret, Email: secret}))

	spans := rec.Ended()
	require.Len(t, spans, 3)
	for _, s := range spans {
		assert.NotContains(t, s.Name(), secret)
		for _, kv := range s.Attributes() {
			assert.NotContains(t, kv.Value.String(), secret, "%s: %s", s.Name(), kv.Key)
		}
		for _, ev := range s.Events() {
			for _, kv := range ev.Attributes {
				assert.NotContains(t, kv.Value.String(), secret, "%s: event %s: %s", s.Name(), ev.Name, kv.Key)
			}
		}
	}
}

func TestTelemetryWithSpanAttributes(t *testing.T) {
	rec, tp := newRecorder(t)
	topic := bus.NewTopic[order]("tel.attrs").SpanAttributes(func(o *order) []attribute.KeyValue {
		return []attribute.KeyValue{attribute.String("order.id", o.ID)}
	})
	b := newBus(t, []bus.Listener{bus.On(topic, validateOrder, bus.Name("v"))}, bus.WithTracerProvider(tp))
	require.NoError(t, topic.Publish(t.Context(), b, &order{ID: "o-42", Email: "bob@example.com"}))

	spans := rec.Ended()
	require.Len(t, spans, 2)
	want := publishAttrs("tel.attrs", 1, 1)
	want["order.id"] = "o-42"
	assert.Equal(t, want, attrMap(spanNamed(t, spans, "publish tel.attrs").Attributes()))
	assert.NotContains(t, attrMap(spanNamed(t, spans, "v tel.attrs").Attributes()), "order.id")

	// Without listeners the publish span is still there, with the attributes.
	quiet := bus.NewTopic[order]("tel.attrs.quiet").SpanAttributes(func(o *order) []attribute.KeyValue {
		return []attribute.KeyValue{attribute.String("order.id", o.ID)}
	})
	rec.Reset()
	require.NoError(t, quiet.Publish(t.Context(), b, &order{ID: "o-43"}))
	spans = rec.Ended()
	require.Len(t, spans, 1)
	want = publishAttrs("tel.attrs.quiet", 0, 0)
	want["order.id"] = "o-43"
	assert.Equal(t, want, attrMap(spans[0].Attributes()))
}

func TestTelemetryListenerCountFollowsSubscriptions(t *testing.T) {
	rec, tp := newRecorder(t)
	topic := bus.NewTopic[event]("tel.count")
	b := newBus(t, []bus.Listener{bus.On(topic, record("static"))}, bus.WithTracerProvider(tp))
	s := subscribe(t, topic, b, record("dyn"), bus.Name("dyn"))
	require.NoError(t, topic.Publish(t.Context(), b, &event{}))
	assert.Equal(t, int64(2), attrMap(spanNamed(t, rec.Ended(), "publish tel.count").Attributes())["fxbus.listener.count"])
	spanNamed(t, rec.Ended(), "dyn tel.count")

	require.NoError(t, s.Close())
	rec.Reset()
	require.NoError(t, topic.Publish(t.Context(), b, &event{}))
	assert.Equal(t, int64(1), attrMap(spanNamed(t, rec.Ended(), "publish tel.count").Attributes())["fxbus.listener.count"])
}

// countingTracerProvider counts the calls the bus makes.
type countingTracerProvider struct {
	trace.TracerProvider
	tracers, starts atomic.Int64
}

func (c *countingTracerProvider) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	c.tracers.Add(1)
	return countingTracer{c.TracerProvider.Tracer(name, opts...), c}
}

type countingTracer struct {
	trace.Tracer
	c *countingTracerProvider
}

func (t countingTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	t.c.starts.Add(1)
	return t.Tracer.Start(ctx, name, opts...)
}

func TestTelemetryUnsampledParent(t *testing.T) {
	rec, sdk := newRecorder(t, sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.NeverSample())))
	tp := &countingTracerProvider{TracerProvider: sdk}
	attrCalls := 0
	topic := bus.NewTopic[event]("tel.unsampled").SpanAttributes(func(*event) []attribute.KeyValue {
		attrCalls++
		return nil
	})
	b := newBus(t, []bus.Listener{bus.On(topic, record("a")), bus.On(topic, record("b")), bus.On(topic, record("c"))},
		bus.WithTracerProvider(tp))

	remote := func(flags trace.TraceFlags) context.Context {
		return trace.ContextWithRemoteSpanContext(t.Context(), trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: flags, Remote: true,
		}))
	}

	e := &event{}
	require.NoError(t, topic.Publish(remote(0), b, e))
	assert.Equal(t, []string{"a", "b", "c"}, e.Log, "handlers run")
	assert.Empty(t, rec.Started(), "no span recorded")
	assert.EqualValues(t, 1, tp.starts.Load(), "only the publish span was started; no handler span")
	assert.Zero(t, attrCalls, "span attributes are not computed for a span that does not record")

	// Control: a sampled parent gets every span.
	require.NoError(t, topic.Publish(remote(trace.FlagsSampled), b, &event{}))
	assert.Len(t, rec.Ended(), 4)
	assert.EqualValues(t, 1+4, tp.starts.Load())
	assert.Equal(t, 1, attrCalls)
	assert.Equal(t, trace.SpanID{2}, spanNamed(t, rec.Ended(), "publish tel.unsampled").Parent().SpanID())
}

func TestTracingOff(t *testing.T) {
	// A provider set globally must not be picked up: the bus traces only
	// with the provider it is given.
	rec, global := newRecorder(t)
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(global)
	t.Cleanup(func() { otel.SetTracerProvider(prev) })

	topic := bus.NewTopic[event]("tel.off")
	ls := []bus.Listener{bus.On(topic, record("a")), bus.On(topic, failWith("b", errors.New("b failed")))}
	for _, tc := range []struct {
		name string
		opts []bus.Option
	}{
		{"no provider", nil},
		{"nil providers", []bus.Option{bus.WithTracerProvider(nil), bus.WithMeterProvider(nil)}},
		{"noop providers", []bus.Option{bus.WithTracerProvider(tracenoop.NewTracerProvider()), bus.WithMeterProvider(metricnoop.NewMeterProvider())}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBus(t, ls, tc.opts...)
			e := &event{}
			require.Error(t, topic.Publish(t.Context(), b, e))
			assert.Equal(t, []string{"a", "b"}, e.Log)
			assert.Empty(t, rec.Started())
		})
	}

	// Control: a provider the bus cannot recognise as a no-op (here a
	// wrapped one) does get called, once at New and once per publish (the
	// no-op publish span does not record, so no handler span starts). The
	// bare no-op above is detected and never called: alloc_test.go shows it
	// costs no allocation, which a Start call would.
	counting := &countingTracerProvider{TracerProvider: tracenoop.NewTracerProvider()}
	b := newBus(t, ls, bus.WithTracerProvider(counting))
	assert.EqualValues(t, 1, counting.tracers.Load())
	require.Error(t, topic.Publish(t.Context(), b, &event{}))
	assert.EqualValues(t, 1, counting.starts.Load())
}

func TestTelemetryMetrics(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })

	topic := bus.NewTopic[event]("tel.metrics", bus.RunAll)
	other := bus.NewTopic[event]("tel.metrics.other")
	b := newBus(t, []bus.Listener{
		bus.On(topic, record("ok"), bus.Name("ok")),
		bus.On(topic, func(context.Context, *event) error { return declinedError{} }, bus.Name("bad")),
		bus.On(topic, panicBoom, bus.Name("panicky")),
		bus.On(topic, failWith("stopper", bus.ErrStop), bus.Name("stopper")),
		bus.On(topic, record("never"), bus.Name("never")),
		bus.On(other, record("ok"), bus.Name("ok")),
	}, bus.WithMeterProvider(mp))
	for range 2 {
		require.Error(t, topic.Publish(t.Context(), b, &event{}))
	}
	require.NoError(t, other.Publish(t.Context(), b, &event{}))

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(t.Context(), &rm))
	var hist *metricdata.Metrics
	for _, sm := range rm.ScopeMetrics {
		for i, m := range sm.Metrics {
			if m.Name == "messaging.process.duration" {
				assert.Equal(t, "github.com/fxbus/fxbus", sm.Scope.Name)
				hist = &sm.Metrics[i]
			}
		}
	}
	require.NotNil(t, hist, "messaging.process.duration recorded")
	assert.Equal(t, "s", hist.Unit)
	data, ok := hist.Data.(metricdata.Histogram[float64])
	require.True(t, ok, "a float64 histogram, got %T", hist.Data)

	key := func(topic, listener, errType string) string {
		a := map[string]any{
			"messaging.system":           "fxbus",
			"messaging.operation.name":   "process",
			"messaging.destination.name": topic,
			"fxbus.listener.name":        listener,
		}
		if errType != "" {
			a["error.type"] = errType
		}
		set := attribute.NewSet(mapToKVs(a)...)
		return set.Encoded(attribute.DefaultEncoder())
	}
	got := map[string]uint64{}
	for _, dp := range data.DataPoints {
		set := dp.Attributes
		got[set.Encoded(attribute.DefaultEncoder())] += dp.Count
		assert.GreaterOrEqual(t, dp.Sum, 0.0)
	}
	assert.Equal(t, map[string]uint64{
		key("tel.metrics", "ok", ""): 2,
		key("tel.metrics", "bad", "github.com/fxbus/fxbus/bus_test.declinedError"): 2,
		key("tel.metrics", "panicky", "panic"):                                     2,
		key("tel.metrics", "stopper", ""):                                          2,
		key("tel.metrics.other", "ok", ""):                                         1,
	}, got)
}

func mapToKVs(m map[string]any) []attribute.KeyValue {
	var kvs []attribute.KeyValue
	for k, v := range m {
		switch v := v.(type) {
		case string:
			kvs = append(kvs, attribute.String(k, v))
		default:
			panic("unexpected attribute type")
		}
	}
	return kvs
}

func TestTelemetryMetricsWithTracing(t *testing.T) {
	// Both signals on: spans and measurements from the same publish.
	rec, tp := newRecorder(t)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	topic := bus.NewTopic[event]("tel.both")
	b := newBus(t, []bus.Listener{bus.On(topic, record("a"), bus.Name("a"))}, bus.WithTracerProvider(tp), bus.WithMeterProvider(mp))
	require.NoError(t, topic.Publish(t.Context(), b, &event{}))
	assert.Len(t, rec.Ended(), 2)
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(t.Context(), &rm))
	require.Len(t, rm.ScopeMetrics, 1)
	require.Len(t, rm.ScopeMetrics[0].Metrics, 1)
	data := rm.ScopeMetrics[0].Metrics[0].Data.(metricdata.Histogram[float64])
	require.Len(t, data.DataPoints, 1)
	assert.EqualValues(t, 1, data.DataPoints[0].Count)
	assert.Equal(t, "messaging.process.duration", rm.ScopeMetrics[0].Metrics[0].Name)
}

// A publish stopped by its context reports the cancellation itself, not a
// joined error, and names it in error.type.
func TestTelemetryCancelledPublish(t *testing.T) {
	rec, tp := newRecorder(t)
	topic := bus.NewTopic[order]("test.telemetry.cancel")
	ctx, cancel := context.WithCancel(context.Background())
	b := newBus(t, []bus.Listener{
		bus.On(topic, func(context.Context, *order) error { cancel(); return nil }, bus.Name("canceller")),
		bus.On(topic, storeOrder, bus.Name("store")),
	}, bus.WithTracerProvider(tp))

	err := topic.Publish(ctx, b, &order{})
	require.ErrorIs(t, err, context.Canceled)
	assert.NotContains(t, err.Error(), "\n", "a lone cancellation is not joined")
	assert.Contains(t, err.Error(), `publish "test.telemetry.cancel" stopped before listener store`)

	pub := spanNamed(t, rec.Ended(), "publish test.telemetry.cancel")
	assert.Equal(t, codes.Error, pub.Status().Code)
	assert.Equal(t, "context.Canceled", attrMap(pub.Attributes())["error.type"])
	assert.Equal(t, []string{"canceller test.telemetry.cancel", "publish test.telemetry.cancel"}, spanNames(rec.Ended()))
}
