package bridge

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"

	"github.com/fxbus/fxbus/bus"
)

// Headers the bridge sets on a dead letter, besides the original event's
// headers.
const (
	HeaderError      = "Fxbus-Error"      // the last error: the listener's, or the decoder's
	HeaderDeliveries = "Fxbus-Deliveries" // how many times the event was delivered
	HeaderGroup      = "Fxbus-Group"      // the importing group
	HeaderSequence   = "Fxbus-Stream-Seq" // the event's sequence in its stream
)

// Import brings the events of t that other processes [Export] into this
// app's bus: each is decoded and published on the local bus, under the
// context of the publisher's trace, with its [Delivery] in ctx.
//
// # Delivery
//
// The import is a durable JetStream consumer named after its [Group]
// (default [DefaultGroup]), created on start: the instances of a group
// share it, so each event is handled by one of them, and events published
// while no instance ran wait in the stream. An event is acknowledged when
// the local publish returns nil. When it returns an error, the event is
// delivered again after a [Backoff]; after [MaxDeliver] deliveries it is
// moved to the dead-letter subject fxbus.dead.<group>.<topic> (stream
// FXBUS_DEAD, headers Fxbus-Error and Fxbus-Deliveries), logged at level
// Error with the listener's error, and published on [DeadLetters] in this
// app. An event that cannot be decoded is dead-lettered at once. Delivery
// is at least once: handlers use [DeliveryFrom]'s MsgID to be idempotent.
//
// # Order
//
// Without [Key], events are handled in stream order by each instance, but
// a group of several instances handles them in parallel, and a redelivered
// event comes after later ones. With [Key], events with one key are
// handled in publish order, one at a time, across the group.
//
// Import declares the topic published by a remote publisher, for the
// bus's wiring report and catalogue. It needs [Module] and bus.Module.
//
// Options: [Group], [WithCodec], [Key], [MaxDeliver], [Backoff], [AckWait],
// [MaxAckPending].
func Import[T any](t *bus.Topic[T], opts ...Option) fx.Option {
	_, file, line, _ := runtime.Caller(1)
	if t == nil {
		return fx.Error(fmt.Errorf("bridge.Import at %s:%d: nil topic", file, line))
	}
	cfg := newConfig(opts)
	if err := cfg.check(t.Name(), forImport, "bridge.Import"); err != nil {
		return fx.Error(fmt.Errorf("%w (at %s:%d)", err, file, line))
	}
	if cfg.key != nil && cfg.keyType != reflect.TypeFor[T]() {
		return fx.Error(fmt.Errorf("bridge.Import(%q) at %s:%d: Key takes *%s, the payload is *%s",
			t.Name(), file, line, cfg.keyType, reflect.TypeFor[T]()))
	}
	n := namesOf(t.Name())
	source := n.subject()
	if cfg.key != nil {
		source = n.partitions()
	}
	return fx.Options(
		bus.PublishesRemote(t, "nats:"+source+" (group "+cfg.group+")"),
		fx.Invoke(func(lc fx.Lifecycle, c *Conn, b *bus.Bus) {
			c.addStream(n)
			im := &importer[T]{c: c, b: b, t: t, n: n, cfg: cfg}
			c.mu.Lock()
			c.imports = append(c.imports, im)
			c.mu.Unlock()
			lc.Append(fx.Hook{OnStart: im.start, OnStop: im.stop})
		}),
	)
}

// importer runs the consumers of one Import.
type importer[T any] struct {
	c   *Conn
	b   *bus.Bus
	t   *bus.Topic[T]
	n   names
	cfg *config

	mu       sync.Mutex
	ccs      []jetstream.ConsumeContext
	stopping bool
	handBack []jetstream.Msg // held when stop began, nak'ed once consuming stopped
	inflight sync.WaitGroup
}

// consumerSpec is one durable consumer of an import: the only one, or one
// per partition.
type consumerSpec struct {
	name    string
	filters []string
	maxAck  int
}

func (im *importer[T]) specs() []consumerSpec {
	group := groupToken(im.cfg.group)
	if im.cfg.key == nil {
		// Every subject of the topic's stream, so no filter: a filtered
		// consumer costs the server a subject match per message.
		return []consumerSpec{{name: group, maxAck: im.cfg.maxAck}}
	}
	specs := make([]consumerSpec, im.cfg.partitions)
	for p := range specs {
		specs[p] = consumerSpec{name: group + "_p" + strconv.Itoa(p), filters: []string{im.n.partition(p)}, maxAck: 1}
	}
	// Events exported without a key go to partition 0's consumer.
	specs[0].filters = append(specs[0].filters, im.n.subject())
	return specs
}

func (im *importer[T]) start(ctx context.Context) error {
	js := im.c.JetStream()
	if js == nil {
		return fmt.Errorf("bridge: import %q: not connected", im.n.topic)
	}
	if _, err := js.CreateOrUpdateStream(ctx, deadStreamConfig()); err != nil {
		return fmt.Errorf("bridge: import %q: dead-letter stream: %w", im.n.topic, err)
	}
	for _, s := range im.specs() {
		cons, err := js.CreateOrUpdateConsumer(ctx, im.n.stream, jetstream.ConsumerConfig{
			Durable:        s.name,
			Description:    "fxbus import of " + im.n.topic + " by group " + im.cfg.group,
			FilterSubjects: s.filters,
			AckPolicy:      jetstream.AckExplicitPolicy,
			AckWait:        im.cfg.ackWait,
			MaxDeliver:     -1, // the bridge dead-letters at MaxDeliver itself
			MaxAckPending:  s.maxAck,
			DeliverPolicy:  jetstream.DeliverAllPolicy,
		})
		if err != nil {
			im.stopConsumers()
			return fmt.Errorf("bridge: import %q: consumer %s: %w", im.n.topic, s.name, err)
		}
		h := im.handler(s.name)
		cc, err := cons.Consume(h, jetstream.PullMaxMessages(min(s.maxAck, 500)),
			jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
				if !errors.Is(err, nats.ErrConnectionClosed) {
					im.c.log.Debug("bridge: consume", "topic", im.n.topic, "consumer", s.name, "error", err)
				}
			}))
		if err != nil {
			im.stopConsumers()
			return fmt.Errorf("bridge: import %q: consume %s: %w", im.n.topic, s.name, err)
		}
		im.mu.Lock()
		im.ccs = append(im.ccs, cc)
		im.mu.Unlock()
	}
	return nil
}

// stop stops consuming: messages the client holds but has not handled are
// handed back (nak) for another instance, and the handler running now
// finishes.
func (im *importer[T]) stop(ctx context.Context) error {
	im.mu.Lock()
	im.stopping = true
	im.mu.Unlock()
	im.stopConsumers()
	done := make(chan struct{})
	go func() { im.inflight.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("bridge: import %q: stop: %w", im.n.topic, ctx.Err())
	}
}

func (im *importer[T]) stopConsumers() {
	im.mu.Lock()
	ccs := im.ccs
	im.ccs = nil
	im.mu.Unlock()
	for _, cc := range ccs {
		cc.Drain()
	}
	for _, cc := range ccs {
		<-cc.Closed()
	}
	im.mu.Lock()
	back := im.handBack
	im.handBack = nil
	im.mu.Unlock()
	for _, m := range back {
		_ = m.Nak()
	}
}

func (im *importer[T]) handler(consumer string) jetstream.MessageHandler {
	group := im.cfg.group
	recvAttrs := []attribute.KeyValue{
		semconv.MessagingSystemKey.String("nats"),
		semconv.MessagingOperationTypeReceive,
		semconv.MessagingOperationNameKey.String("receive"),
		semconv.MessagingConsumerGroupNameKey.String(group),
		semconv.MessagingDestinationSubscriptionNameKey.String(consumer),
	}
	recvOpts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(recvAttrs...)}
	return func(msg jetstream.Msg) {
		im.mu.Lock()
		if im.stopping {
			// Handed back to another instance once this one no longer
			// pulls: a nak now could come straight back here.
			im.handBack = append(im.handBack, msg)
			im.mu.Unlock()
			return
		}
		im.inflight.Add(1)
		im.mu.Unlock()
		defer im.inflight.Done()
		im.handle(msg, recvOpts)
	}
}

func (im *importer[T]) handle(msg jetstream.Msg, recvOpts []trace.SpanStartOption) {
	h := msg.Headers()
	d := Delivery{Topic: im.n.topic, Subject: msg.Subject(), MsgID: h.Get(jetstream.MsgIDHeader), Group: im.cfg.group, Attempt: 1}
	if md, err := msg.Metadata(); err == nil {
		d.Attempt, d.Sequence = int(md.NumDelivered), md.Sequence.Stream
	}
	ctx := im.c.prop.Extract(context.Background(), headerCarrier(h))
	// The receive span only in a sampled trace: no tracer call at all for
	// an event published without tracing.
	span := noSpan
	if trace.SpanContextFromContext(ctx).IsSampled() {
		ctx, span = im.c.tracer.Start(ctx, "receive "+d.Subject, recvOpts...)
		span.SetAttributes(
			semconv.MessagingDestinationNameKey.String(d.Subject),
			semconv.MessagingMessageIDKey.String(d.MsgID),
			semconv.MessagingMessageBodySizeKey.Int(len(msg.Data())),
			attribute.Int("messaging.nats.delivery.attempt", d.Attempt),
		)
	}
	defer span.End()

	var e T
	if err := im.cfg.codec.Unmarshal(msg.Data(), &e); err != nil {
		err = fmt.Errorf("decode %T: %w", e, err)
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		im.deadLetter(ctx, msg, d, err)
		return
	}
	err := im.t.Publish(context.WithValue(ctx, deliveryKey{}, &d), im.b, &e)
	if err == nil {
		if aerr := msg.Ack(); aerr != nil {
			span.RecordError(aerr)
		}
		return
	}
	span.RecordError(err)
	span.SetStatus(codes.Error, err.Error())
	switch {
	case errors.Is(err, bus.ErrClosed):
		_ = msg.Nak() // this instance is stopping: another one takes it now
	case d.Attempt >= im.cfg.maxDeliver:
		im.deadLetter(ctx, msg, d, err)
	default:
		_ = msg.NakWithDelay(im.cfg.backoff(d.Attempt))
	}
}

// deadLetter moves msg to the group's dead-letter subject, then terminates
// it, and tells the app. If the dead letter cannot be stored, msg is
// delivered again later: nothing is lost.
func (im *importer[T]) deadLetter(ctx context.Context, msg jetstream.Msg, d Delivery, cause error) {
	subj := im.n.dead(im.cfg.group)
	dl := &nats.Msg{Subject: subj, Data: msg.Data(), Header: nats.Header{}}
	for k, v := range msg.Headers() {
		if k != jetstream.MsgIDHeader {
			dl.Header[k] = v
		}
	}
	dl.Header.Set(jetstream.MsgIDHeader, "dead-"+im.cfg.group+"-"+d.MsgID)
	dl.Header.Set(HeaderError, cause.Error())
	dl.Header.Set(HeaderDeliveries, strconv.Itoa(d.Attempt))
	dl.Header.Set(HeaderGroup, im.cfg.group)
	dl.Header.Set(HeaderSequence, strconv.FormatUint(d.Sequence, 10))
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	js := im.c.JetStream()
	if js == nil {
		_ = msg.Nak()
		return
	}
	if _, err := js.PublishMsg(pctx, dl); err != nil {
		im.c.log.Error("bridge: dead letter not stored; the event will be delivered again",
			"topic", im.n.topic, "group", im.cfg.group, "msg_id", d.MsgID, "error", err)
		_ = msg.NakWithDelay(im.cfg.backoff(d.Attempt))
		return
	}
	_ = msg.TermWithReason("fxbus: dead-lettered to " + subj)
	im.c.log.Error("bridge: event dead-lettered", "topic", im.n.topic, "group", im.cfg.group,
		"subject", subj, "msg_id", d.MsgID, "deliveries", d.Attempt, "error", cause)
	trace.SpanFromContext(ctx).AddEvent("dead-lettered", trace.WithAttributes(
		attribute.String("messaging.nats.dead_letter.subject", subj)))
	_ = DeadLetters.Publish(ctx, im.b, &DeadLetter{Topic: im.n.topic, Group: im.cfg.group, Subject: subj,
		MsgID: d.MsgID, Deliveries: d.Attempt, Err: cause})
}

// caughtUp reports whether the import's consumers have nothing left to
// deliver and nothing awaiting an ack.
func (im *importer[T]) caughtUp(ctx context.Context) (bool, error) {
	js := im.c.JetStream()
	if js == nil {
		return false, fmt.Errorf("import %q: not connected", im.n.topic)
	}
	for _, s := range im.specs() {
		cons, err := js.Consumer(ctx, im.n.stream, s.name)
		if err != nil {
			return false, fmt.Errorf("import %q: consumer %s: %w", im.n.topic, s.name, err)
		}
		info, err := cons.Info(ctx)
		if err != nil {
			return false, fmt.Errorf("import %q: consumer %s: %w", im.n.topic, s.name, err)
		}
		if info.NumPending > 0 || info.NumAckPending > 0 {
			return false, nil
		}
	}
	return true, nil
}
