package bridge_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"

	"github.com/fxbus/fxbus/bridge"
	"github.com/fxbus/fxbus/bus"
)

var orderTraced = bus.NewTopic[Order]("test.order.traced")

func tracing(rec *tracetest.SpanRecorder) fx.Option {
	return fx.Provide(func() trace.TracerProvider {
		return sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	})
}

func spanNamed(t *testing.T, spans []sdktrace.ReadOnlySpan, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	for _, s := range spans {
		if s.Name() == name {
			return s
		}
	}
	names := make([]string, len(spans))
	for i, s := range spans {
		names[i] = s.Name()
	}
	t.Fatalf("no span %q among %q", name, names)
	return nil
}

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}

func TestTraceContinuesAcrossProcesses(t *testing.T) {
	ts := startServer(t)
	sendRec, recvRec := tracetest.NewSpanRecorder(), tracetest.NewSpanRecorder()
	got := newSeen(1)
	recv := newApp(t, bridge.Config{URL: ts.url()}, tracing(recvRec),
		bridge.Import(orderTraced, bridge.Group("audit")),
		bus.Listen(orderTraced, func(_ context.Context, o *Order) error { got.add(o.ID); return nil }, bus.Name("audit.Record")),
	)
	var b *bus.Bus
	var tp trace.TracerProvider
	send := newApp(t, bridge.Config{URL: ts.url()}, tracing(sendRec),
		bridge.Export(orderTraced), fx.Populate(&b, &tp))

	ctx, root := tp.Tracer("test").Start(context.Background(), "request")
	require.NoError(t, orderTraced.Publish(ctx, b, &Order{ID: 1}))
	root.End()
	got.wait(t, 10*time.Second)
	send.RequireStop() // the send span ends at the acknowledgement
	recv.RequireStop()

	sent := sendRec.Ended()
	export := spanNamed(t, sent, "bridge.Export test.order.traced")
	sendSpan := spanNamed(t, sent, "send fxbus.topic.test.order.traced")
	assert.Equal(t, export.SpanContext().SpanID(), sendSpan.Parent().SpanID(), "send is below the export listener")
	assert.Equal(t, root.SpanContext().TraceID(), sendSpan.SpanContext().TraceID())
	assert.Equal(t, trace.SpanKindProducer, sendSpan.SpanKind())
	sa := attrs(sendSpan)
	assert.Equal(t, "nats", sa["messaging.system"].AsString())
	assert.Equal(t, "send", sa["messaging.operation.type"].AsString())
	assert.Equal(t, "fxbus.topic.test.order.traced", sa["messaging.destination.name"].AsString())
	msgID := sa["messaging.message.id"].AsString()
	assert.NotEmpty(t, msgID)

	received := recvRec.Ended()
	recvSpan := spanNamed(t, received, "receive fxbus.topic.test.order.traced")
	assert.Equal(t, root.SpanContext().TraceID(), recvSpan.SpanContext().TraceID(), "one trace across processes")
	assert.Equal(t, sendSpan.SpanContext().SpanID(), recvSpan.Parent().SpanID(), "receive is below send")
	assert.True(t, recvSpan.Parent().IsRemote())
	assert.Equal(t, trace.SpanKindConsumer, recvSpan.SpanKind())
	ra := attrs(recvSpan)
	assert.Equal(t, "nats", ra["messaging.system"].AsString())
	assert.Equal(t, "receive", ra["messaging.operation.type"].AsString())
	assert.Equal(t, "audit", ra["messaging.consumer.group.name"].AsString())
	assert.Equal(t, msgID, ra["messaging.message.id"].AsString())
	assert.Equal(t, "fxbus.topic.test.order.traced", ra["messaging.destination.name"].AsString())

	pub := spanNamed(t, received, "publish test.order.traced")
	assert.Equal(t, recvSpan.SpanContext().SpanID(), pub.Parent().SpanID(), "the local publish is below receive")
	handler := spanNamed(t, received, "audit.Record test.order.traced")
	assert.Equal(t, pub.SpanContext().SpanID(), handler.Parent().SpanID())
	assert.Equal(t, root.SpanContext().TraceID(), handler.SpanContext().TraceID(), "the remote handler is in the publisher's trace")
}
