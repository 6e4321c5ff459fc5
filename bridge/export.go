package bridge

import (
	"context"
	"fmt"
	"reflect"
	"runtime"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"

	"github.com/fxbus/fxbus/bus"
)

// Headers the bridge sets on every exported event, besides Nats-Msg-Id and
// the W3C trace context (traceparent, tracestate, baggage).
const (
	HeaderTopic       = "Fxbus-Topic"        // the topic's name
	HeaderPayloadType = "Fxbus-Payload-Type" // the payload's Go type, such as "topics.BanAdded"
	HeaderContentType = "Content-Type"       // the codec's content type
)

// Export sends every successful publish of t on the app's bus to NATS
// JetStream as well, on the subject fxbus.topic.<name> (or, with [Key],
// fxbus.part.<partition>.<name>) of the stream FXBUS_<name>.
//
// # When an event leaves the process
//
// ExportRank is the rank of the listener that [Export] adds: after the
// listeners of any sensible rank.
const ExportRank = 1<<31 - 1

// Export is a listener of t at [ExportRank], the last rank, so it runs
// after the topic's other listeners. On a topic that stops on error (the
// default policy), it runs only when every listener before it succeeded: a
// listener that fails, or vetoes the event with an error (an alter event),
// keeps the event in the process; so does one that returns [bus.ErrStop].
// On a topic with the [bus.RunAll] policy, a fact that every listener
// hears whatever the others return, the bus runs Export too whatever the
// others returned: the event is exported even when a local listener
// failed, and that listener's error still reaches the publisher. An event
// an [Import] brought into this process is not exported again.
//
// # What the publisher gets
//
// The event is encoded (see [WithCodec]) and queued; a sender sends it
// asynchronously and awaits the server's acknowledgement, so a publish
// costs no network round trip. At most [Config.MaxPending] events await
// acknowledgement: past that, Publish returns an error wrapping
// [ErrBackpressure] (the event was handled locally, and not exported).
// While the server is unreachable the sender resends the events in order
// until it is back; the server drops duplicates by their Nats-Msg-Id. On
// stop, [Module] awaits the pending acknowledgements; see [UnackedError].
// An encoding error is returned by Publish.
//
// Options: [WithCodec], [Key].
func Export[T any](t *bus.Topic[T], opts ...Option) fx.Option {
	_, file, line, _ := runtime.Caller(1)
	if t == nil {
		return fx.Error(fmt.Errorf("bridge.Export at %s:%d: nil topic", file, line))
	}
	cfg := newConfig(opts)
	if err := cfg.check(t.Name(), forExport, "bridge.Export"); err != nil {
		return fx.Error(fmt.Errorf("%w (at %s:%d)", err, file, line))
	}
	var key func(*T) string
	if cfg.key != nil {
		k, ok := cfg.key.(func(*T) string)
		if !ok {
			return fx.Error(fmt.Errorf("bridge.Export(%q) at %s:%d: Key takes *%s, the payload is *%s",
				t.Name(), file, line, cfg.keyType, reflect.TypeFor[T]()))
		}
		key = k
	}
	n := namesOf(t.Name())
	dest := n.subject()
	if key != nil {
		dest = n.partitions()
	}
	return fx.Options(
		fx.Invoke(func(c *Conn) { c.addStream(n) }),
		bus.Listen(t, func(c *Conn) func(context.Context, *T) error {
			return newExport(c, t, n, cfg.codec, key, cfg.partitions)
		},
			bus.Rank(ExportRank), bus.Name("bridge.Export"), bus.Observer(),
			bus.Remote("nats:"+dest), bus.DeclaredAt(file, line), bus.InModule("bridge")),
	)
}

// newExport returns the export listener of topic t.
func newExport[T any](c *Conn, t *bus.Topic[T], n names, codec Codec, key func(*T) string, partitions int) func(context.Context, *T) error {
	payloadType := reflect.TypeFor[T]().String()
	contentType := codec.ContentType()
	subject := n.subject()
	sendName := "send " + subject
	attrs := []attribute.KeyValue{
		semconv.MessagingSystemKey.String("nats"),
		semconv.MessagingOperationTypeSend,
		semconv.MessagingOperationNameKey.String("publish"),
		semconv.MessagingDestinationNameKey.String(subject),
	}
	sendOpts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(attrs...)}
	return func(ctx context.Context, e *T) error {
		if d, ok := DeliveryFrom(ctx); ok && d.Topic == n.topic {
			return nil // imported here: never echo it back
		}
		data, err := codec.Marshal(e)
		if err != nil {
			return fmt.Errorf("bridge: export %q: encode %s: %w", n.topic, payloadType, err)
		}
		subj := subject
		if key != nil {
			subj = n.partition(partitionOf(key(e), partitions))
		}
		id := nuid.Next()
		msg := &nats.Msg{Subject: subj, Data: data, Header: make(nats.Header, 6)}
		msg.Header[jetstream.MsgIDHeader] = []string{id}
		msg.Header[HeaderTopic] = []string{n.topic}
		msg.Header[HeaderPayloadType] = []string{payloadType}
		msg.Header[HeaderContentType] = []string{contentType}
		// The send span only under a recording span (the export listener's,
		// when the bus traces): no tracer call at all otherwise. The trace
		// context goes out either way.
		sctx, span := ctx, noSpan
		if trace.SpanFromContext(ctx).IsRecording() {
			sctx, span = c.tracer.Start(ctx, sendName, sendOpts...)
			span.SetAttributes(semconv.MessagingMessageIDKey.String(id), semconv.MessagingMessageBodySizeKey.Int(len(data)))
			if subj != subject {
				span.SetAttributes(semconv.MessagingDestinationNameKey.String(subj))
			}
		}
		c.prop.Inject(sctx, headerCarrier(msg.Header))
		if err := c.exp.enqueue(ctx, &outMsg{msg: msg, topic: n.topic, span: span}); err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
			span.End()
			return fmt.Errorf("bridge: export %q: %w", n.topic, err)
		}
		return nil
	}
}

// headerCarrier adapts nats.Header to the OTel propagators, keeping the
// keys as the propagators write them ("traceparent", "tracestate").
type headerCarrier nats.Header

func (h headerCarrier) Get(key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return nats.Header(h).Get(key)
}

func (h headerCarrier) Set(key, value string) { h[key] = []string{value} }

func (h headerCarrier) Keys() []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	return keys
}

// noSpan stands for the send span of an untraced event.
var noSpan = trace.SpanFromContext(context.Background())
