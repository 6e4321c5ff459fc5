// Package bridge carries fxbus topics across processes on NATS JetStream.
//
// A service exports a topic, and every successful publish of it on the
// service's bus also goes to a JetStream stream; another service (or
// another replica) imports the topic, and the events arrive on its bus, in
// the publisher's trace:
//
//	// the desk
//	fx.New(bus.Module, bridge.Module, desk.Module,
//		bridge.Export(topics.BanAdded))
//
//	// the notifier, any number of replicas
//	fx.New(bus.Module, bridge.Module, notifier.Module,
//		bridge.Import(topics.BanAdded, bridge.Group("notifier")))
//
// [Module] connects to the servers in NATS_URL, or starts an embedded
// nats-server with JetStream on loopback, so an app works with nothing
// installed. The bridge adds no transport of its own: streams, durable
// consumers, acknowledgements, redelivery and the duplicate window are
// JetStream's.
//
// # Guarantees
//
// Out: an event is exported only when every listener before the export
// succeeded (see [Export]); the publish does not wait for the network; at
// most [Config.MaxPending] events await acknowledgement, and past that the
// publish returns [ErrBackpressure]: never a silent drop. While the server
// is unreachable, events are sent again, in order, until it is back. On
// stop, pending acknowledgements are awaited up to [Config.StopTimeout];
// what stayed unacknowledged is logged and returned from the stop hook as
// an [*UnackedError], counted by topic.
//
// In: at least once. Each event is acknowledged when its local publish
// returns nil; a failure is retried with backoff; after [MaxDeliver]
// deliveries the event goes to a dead-letter subject and the app is told
// (a log line and the [DeadLetters] topic); an undecodable event goes there
// at once. [DeliveryFrom] gives handlers the message id and the attempt.
//
// # Order
//
// Events of one topic are stored in the order the exporting process
// published them (a send that fails is sent again before later ones; the
// exception is a server that stores a later event and loses an earlier
// one, which is then stored after it). Without [Key], one instance
// handles events in stream order but a group of several handles them in
// parallel, and a retried event comes after later ones. With [Key], events
// with one key are handled in publish order, one at a time, across all
// instances of a group. Nothing is ordered across topics.
//
// # Names on the wire
//
// Topic t is stored in stream FXBUS_<t> on subject fxbus.topic.<t>
// (fxbus.part.<p>.<t> with a key); dead letters in stream FXBUS_DEAD on
// fxbus.dead.<group>.<t>. Headers: Nats-Msg-Id, traceparent, tracestate,
// [HeaderTopic], [HeaderPayloadType], [HeaderContentType]; dead letters add
// [HeaderError], [HeaderDeliveries], [HeaderGroup], [HeaderSequence].
// In subjects, characters NATS does not allow become '_'. A stream or
// consumer name that is not the topic's or group's own (changed
// characters, too long for JetStream's 255 bytes, "DEAD", or shaped like
// a changed name) ends in '_' and a hash of the original, so distinct
// topics never share a stream and distinct groups never share a consumer.
//
// # Telemetry
//
// Export opens a producer span "send <subject>" below the export
// listener's span, ended at the acknowledgement; Import opens a consumer
// span "receive <subject>" whose parent is the publisher's span (from the
// traceparent header), and the local bus's publish and handler spans run
// below it. Attributes follow the OpenTelemetry messaging conventions:
// messaging.system=nats, messaging.destination.name,
// messaging.message.id, messaging.consumer.group.name,
// messaging.operation.type. The send span is made only under a recording
// span, and the receive span only in a sampled trace: without tracing, the
// bridge makes no tracer call, and the W3C trace context still travels.
package bridge
