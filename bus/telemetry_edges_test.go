package bus_test

import (
	"context"
	"errors"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/internal/otelbus"
)

// StartSpan opens a span beside the bus's own, with messaging.system, and
// records a failure as the bus does; without tracing it returns the
// context itself.
func TestTelemetryStartSpan(t *testing.T) {
	rec, tp := newRecorder(t)
	b := newBus(t, nil, bus.WithTracerProvider(tp))
	ctx, end := b.StartSpan(t.Context(), "op x", attribute.String("k", "v"))
	require.True(t, trace.SpanFromContext(ctx).SpanContext().IsValid())
	end(errors.New("broken"))
	s := spanNamed(t, rec.Ended(), "op x")
	assert.Equal(t, codes.Error, s.Status().Code)
	assert.Equal(t, "broken", s.Status().Description)
	a := attrMap(s.Attributes())
	assert.Equal(t, "fxbus", a["messaging.system"])
	assert.Equal(t, "v", a["k"])
	assert.Equal(t, "_OTHER", a["error.type"])

	off := newBus(t, nil)
	ctx = t.Context()
	got, end := off.StartSpan(ctx, "op y")
	assert.Equal(t, ctx, got, "no tracing, no new context")
	end(errors.New("ignored"))
	var nilBus *bus.Bus
	got, end = nilBus.StartSpan(ctx, "op z")
	assert.Equal(t, ctx, got)
	end(nil)
	assert.Len(t, rec.Ended(), 1)
}

// A publish nobody hears shows as an empty publish span, unless its topic
// is Quiet; a Quiet topic with a listener is traced as any other.
func TestTelemetryQuietTopic(t *testing.T) {
	rec, tp := newRecorder(t)
	quiet := bus.NewTopic[event]("tel.quiet", bus.Quiet())
	heard := bus.NewTopic[event]("tel.quiet.heard", bus.Quiet())
	b := newBus(t, []bus.Listener{bus.On(heard, record("x"), bus.Name("x"))}, bus.WithTracerProvider(tp))
	require.NoError(t, quiet.Publish(t.Context(), b, &event{}))
	assert.Empty(t, spanNames(rec.Ended()))
	require.NoError(t, heard.Publish(t.Context(), b, &event{}))
	assert.Equal(t, []string{"x tel.quiet.heard", "publish tel.quiet.heard"}, spanNames(rec.Ended()))

	rec.Reset()
	require.NoError(t, bus.NewTopic[event]("tel.nobody").Publish(t.Context(), b, &event{}))
	assert.Equal(t, []string{"publish tel.nobody"}, spanNames(rec.Ended()))
}

// fxbus.listener.count is the topic's dispatch table; fxbus.listener.ran
// the handlers this publish called.
func TestTelemetryListenerRan(t *testing.T) {
	rec, tp := newRecorder(t)
	topic := bus.NewTopic[event]("tel.ran")
	b := newBus(t, []bus.Listener{
		bus.On(topic, record("a"), bus.Name("a")),
		bus.On(topic, record("skipped"), bus.Name("skipped"), topic.When(func(e *event) bool { return len(e.Log) > 5 })),
		bus.On(topic, record("c"), bus.Name("c")),
		bus.On(topic, failWith("stopper", bus.ErrStop), bus.Name("stopper")),
		bus.On(topic, record("never"), bus.Name("never")),
	}, bus.WithTracerProvider(tp))
	require.NoError(t, topic.Publish(t.Context(), b, &event{}))
	a := attrMap(spanNamed(t, rec.Ended(), "publish tel.ran").Attributes())
	assert.Equal(t, int64(5), a["fxbus.listener.count"])
	assert.Equal(t, int64(3), a["fxbus.listener.ran"], "a, c and the stopper; not the filtered one nor the one after the stop")
}

// The tracer says which fxbus made the spans, and which conventions they
// follow.
func TestTelemetryScope(t *testing.T) {
	rec, tp := newRecorder(t)
	topic := bus.NewTopic[event]("tel.scope")
	b := newBus(t, []bus.Listener{bus.On(topic, record("a"))}, bus.WithTracerProvider(tp))
	require.NoError(t, topic.Publish(t.Context(), b, &event{}))
	require.NotEmpty(t, otelbus.Version(), "the test binary has build information")
	for _, s := range rec.Ended() {
		assert.Equal(t, "github.com/fxbus/fxbus", s.InstrumentationScope().Name)
		assert.Equal(t, otelbus.Version(), s.InstrumentationScope().Version)
		assert.Equal(t, semconv.SchemaURL, s.InstrumentationScope().SchemaURL)
	}
}

// A handler that calls runtime.Goexit (t.FailNow does) unwinds the
// publisher's goroutine; its span and the publish span still end.
func TestTelemetryGoexit(t *testing.T) {
	rec, tp := newRecorder(t)
	topic := bus.NewTopic[event]("tel.goexit")
	b := newBus(t, []bus.Listener{
		bus.On(topic, record("a"), bus.Name("a")),
		bus.On(topic, func(context.Context, *event) error { runtime.Goexit(); return nil }, bus.Name("quitter")),
		bus.On(topic, record("never"), bus.Name("never")),
	}, bus.WithTracerProvider(tp))
	done := make(chan bool)
	go func() {
		returned := false
		defer func() { done <- returned }()
		_ = topic.Publish(context.Background(), b, &event{})
		returned = true
	}()
	require.False(t, <-done, "Publish did not return: the goroutine exited")

	assert.Len(t, rec.Ended(), len(rec.Started()), "every span started has ended")
	assert.Equal(t, []string{"a tel.goexit", "quitter tel.goexit", "publish tel.goexit"}, spanNames(rec.Ended()))
	for _, name := range []string{"quitter tel.goexit", "publish tel.goexit"} {
		s := spanNamed(t, rec.Ended(), name)
		assert.Equal(t, codes.Error, s.Status().Code, name)
		assert.Equal(t, "runtime.Goexit", attrMap(s.Attributes())["error.type"], name)
	}

	// The bus goes on working.
	rec.Reset()
	topic2 := bus.NewTopic[event]("tel.goexit.after")
	b2 := newBus(t, []bus.Listener{bus.On(topic2, record("a"), bus.Name("a"))}, bus.WithTracerProvider(tp))
	require.NoError(t, topic2.Publish(t.Context(), b2, &event{}))
	assert.Len(t, rec.Ended(), 2)
}

// A panicking SpanAttributes function costs the span its attributes,
// never the publish.
func TestTelemetrySpanAttributesPanic(t *testing.T) {
	rec, tp := newRecorder(t)
	attrs := func(*event) []attribute.KeyValue { panic("no attributes today") }
	topic := bus.NewTopic[event]("tel.attrs.panic").SpanAttributes(attrs)
	quiet := bus.NewTopic[event]("tel.attrs.panic.quiet").SpanAttributes(attrs)
	b := newBus(t, []bus.Listener{bus.On(topic, record("a"), bus.Name("a"))}, bus.WithTracerProvider(tp))
	e := &event{}
	require.NoError(t, topic.Publish(t.Context(), b, e))
	assert.Equal(t, []string{"a"}, e.Log, "the handlers ran")
	require.NoError(t, quiet.Publish(t.Context(), b, &event{}), "nor does it escape a publish nobody hears")
	for _, name := range []string{"publish tel.attrs.panic", "publish tel.attrs.panic.quiet"} {
		s := spanNamed(t, rec.Ended(), name)
		assert.Equal(t, true, attrMap(s.Attributes())["fxbus.span_attributes.panic"], name)
		assert.Equal(t, codes.Unset, s.Status().Code, "the publish itself did not fail")
	}
}
