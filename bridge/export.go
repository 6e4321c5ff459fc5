package bridge

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"time"

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
		sctx, span := c.tracer.Start(ctx, sendName, trace.WithSpanKind(trace.SpanKindProducer),
			trace.WithAttributes(attrs...),
			trace.WithAttributes(semconv.MessagingMessageIDKey.String(id), semconv.MessagingMessageBodySizeKey.Int(len(data))))
		if subj != subject {
			span.SetAttributes(semconv.MessagingDestinationNameKey.String(subj))
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

// outMsg is one exported event on its way to the stream.
type outMsg struct {
	msg   *nats.Msg
	topic string
	span  trace.Span // ended when acknowledged or given up
}

// exporter sends the exported events of one Conn in order and awaits their
// acknowledgements, holding at most MaxPending of them.
type exporter struct {
	c     *Conn
	slots chan struct{} // one per event queued or awaiting its ack
	queue chan *outMsg  // as large as slots, so a send to it never blocks

	mu       sync.Mutex
	pending  int             // events queued or awaiting their ack
	idle     []chan struct{} // closed when pending drops to zero
	stopping bool
	started  bool
	stopCh   chan struct{} // closed when stop begins: finish what is queued
	abortCh  chan struct{} // closed when stop gives up
	done     chan struct{} // closed when the sender returned
	left     []*outMsg     // what the sender gave up on
}

func newExporter(c *Conn) *exporter {
	return &exporter{
		c:       c,
		slots:   make(chan struct{}, c.cfg.MaxPending),
		queue:   make(chan *outMsg, c.cfg.MaxPending),
		stopCh:  make(chan struct{}),
		abortCh: make(chan struct{}),
		done:    make(chan struct{}),
	}
}

// enqueue queues m, waiting up to PendingWait for room.
func (e *exporter) enqueue(ctx context.Context, m *outMsg) error {
	select {
	case e.slots <- struct{}{}:
	default:
		if e.c.cfg.PendingWait <= 0 {
			return fmt.Errorf("%w (%d pending)", ErrBackpressure, cap(e.slots))
		}
		t := time.NewTimer(e.c.cfg.PendingWait)
		defer t.Stop()
		select {
		case e.slots <- struct{}{}:
		case <-t.C:
			return fmt.Errorf("%w (%d pending for %v)", ErrBackpressure, cap(e.slots), e.c.cfg.PendingWait)
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ErrBackpressure, ctx.Err())
		case <-e.stopCh:
			return ErrStopped
		}
	}
	e.mu.Lock()
	if e.stopping {
		e.mu.Unlock()
		<-e.slots
		return ErrStopped
	}
	e.pending++
	e.queue <- m
	e.mu.Unlock()
	return nil
}

// acked releases the slot of an acknowledged event.
func (e *exporter) acked() {
	<-e.slots
	e.mu.Lock()
	e.pending--
	if e.pending == 0 {
		for _, ch := range e.idle {
			close(ch)
		}
		e.idle = nil
	}
	e.mu.Unlock()
}

// flush waits until no event is queued or awaiting its ack.
func (e *exporter) flush(ctx context.Context) error {
	e.mu.Lock()
	if e.pending == 0 {
		e.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	e.idle = append(e.idle, ch)
	n := e.pending
	e.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("bridge: flush: %d exported events awaiting acknowledgement: %w", n, ctx.Err())
	}
}

func (e *exporter) start(js jetstream.JetStream) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.started || e.stopping {
		return
	}
	e.started = true
	go e.run(js)
}

// flight is an event sent and awaiting its acknowledgement.
type flight struct {
	m *outMsg
	f jetstream.PubAckFuture
}

// run sends the queued events in order, keeping up to MaxPending of them
// in flight, and takes their acknowledgements in order. When one fails
// (the server is unreachable, say), it waits for the others in flight,
// then sends the failed ones again, in order, until they succeed or stop
// gives up; only then does it send the next ones.
func (e *exporter) run(js jetstream.JetStream) {
	defer close(e.done)
	inflight := make([]flight, 0, 64)
	stopCh := e.stopCh
	stopping := false
	for {
		if stopping && len(inflight) == 0 && len(e.queue) == 0 {
			return
		}
		var okCh <-chan *jetstream.PubAck
		var errCh <-chan error
		if len(inflight) > 0 {
			okCh, errCh = inflight[0].f.Ok(), inflight[0].f.Err()
		}
		queue := e.queue
		if len(inflight) >= cap(e.slots) {
			queue = nil
		}
		select {
		case m := <-queue:
			f, err := js.PublishMsgAsync(m.msg)
			if err == nil {
				inflight = append(inflight, flight{m, f})
				continue
			}
			failed := e.settle(inflight)
			inflight = inflight[:0]
			if !e.resend(js, append(failed, m)) {
				return
			}
		case <-okCh:
			inflight[0].m.span.End()
			e.acked()
			inflight[0] = flight{}
			inflight = inflight[1:]
		case <-errCh:
			failed := e.settle(inflight[1:])
			failed = append([]*outMsg{inflight[0].m}, failed...)
			inflight = inflight[:0]
			if !e.resend(js, failed) {
				return
			}
		case <-stopCh:
			stopCh, stopping = nil, true
		case <-e.abortCh:
			ms := make([]*outMsg, len(inflight))
			for i, fl := range inflight {
				ms[i] = fl.m
			}
			e.giveUp(ms)
			return
		}
	}
}

// settle waits for the outcome of every flight, and returns the events
// that failed, in order; on abort, every event not yet acknowledged.
func (e *exporter) settle(fs []flight) []*outMsg {
	var failed []*outMsg
	for i, fl := range fs {
		select {
		case <-fl.f.Ok():
			fl.m.span.End()
			e.acked()
		case <-fl.f.Err():
			failed = append(failed, fl.m)
		case <-e.abortCh:
			for _, rest := range fs[i:] {
				failed = append(failed, rest.m)
			}
			return failed
		}
	}
	return failed
}

// resend sends batch again, in order, after RetryWait, until every event
// is acknowledged; it returns false when stop gave up, having handed the
// rest to giveUp.
func (e *exporter) resend(js jetstream.JetStream, batch []*outMsg) bool {
	retry := time.NewTimer(e.c.cfg.RetryWait)
	defer retry.Stop()
	for len(batch) > 0 {
		select {
		case <-retry.C:
		case <-e.abortCh:
			e.giveUp(batch)
			return false
		}
		e.c.log.Debug("bridge: resending exported events", "count", len(batch))
		fs := make([]flight, 0, len(batch))
		var unsent []*outMsg
		for i, m := range batch {
			f, err := js.PublishMsgAsync(m.msg)
			if err != nil {
				unsent = batch[i:]
				break
			}
			fs = append(fs, flight{m, f})
		}
		batch = append(e.settle(fs), unsent...)
		select {
		case <-e.abortCh:
			e.giveUp(batch)
			return false
		default:
		}
		retry.Reset(e.c.cfg.RetryWait)
	}
	return true
}

func (e *exporter) giveUp(ms []*outMsg) {
	e.mu.Lock()
	e.left = append(e.left, ms...)
	e.mu.Unlock()
}

// stop refuses new events, awaits the queued ones until ctx is done, and
// reports those left unacknowledged.
func (e *exporter) stop(ctx context.Context) error {
	e.mu.Lock()
	if e.stopping {
		e.mu.Unlock()
		return nil
	}
	e.stopping = true
	started := e.started
	close(e.stopCh)
	e.mu.Unlock()
	if started {
		select {
		case <-e.done:
		case <-ctx.Done():
			close(e.abortCh)
			<-e.done
		}
	}
	left := e.left
	for {
		select {
		case m := <-e.queue:
			left = append(left, m)
			continue
		default:
		}
		break
	}
	if len(left) == 0 {
		return nil
	}
	ue := &UnackedError{Topics: map[string]int{}}
	for _, m := range left {
		ue.Topics[m.topic]++
		m.span.SetStatus(codes.Error, "not acknowledged at stop")
		m.span.End()
	}
	return ue
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
