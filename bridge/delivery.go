package bridge

import (
	"context"

	"github.com/fxbus/fxbus/bus"
)

// Delivery describes the delivery of an imported event. The handlers of an
// imported topic find it in their ctx with [DeliveryFrom], to be idempotent:
// an event may be delivered more than once (at-least-once), with the same
// MsgID each time.
type Delivery struct {
	// Topic is the topic's name.
	Topic string
	// Subject is the NATS subject the event came on.
	Subject string
	// MsgID is the event's id, set once by the exporting process and the
	// same on every delivery (the Nats-Msg-Id header).
	MsgID string
	// Attempt counts deliveries of this event to the group, from 1.
	Attempt int
	// Group is the importing consumer group.
	Group string
	// Sequence is the event's sequence number in its stream.
	Sequence uint64
}

type deliveryKey struct{}

// DeliveryFrom returns the delivery of the imported event being handled
// under ctx; ok is false for an event published in this process.
func DeliveryFrom(ctx context.Context) (d Delivery, ok bool) {
	p, ok := ctx.Value(deliveryKey{}).(*Delivery)
	if !ok {
		return Delivery{}, false
	}
	return *p, true
}

// DeadLetter tells the app that an imported event was dead-lettered: its
// handlers failed [MaxDeliver] times, or it could not be decoded.
type DeadLetter struct {
	// Topic is the topic's name.
	Topic string `json:"topic"`
	// Group is the importing consumer group.
	Group string `json:"group"`
	// Subject is the dead-letter subject the event was moved to.
	Subject string `json:"subject"`
	// MsgID is the event's id.
	MsgID string `json:"msg_id"`
	// Deliveries is how many times it was delivered.
	Deliveries int `json:"deliveries"`
	// Err is the last error: the listener's, or the decoder's.
	Err error `json:"-"`
}

// DeadLetters is published on the local bus of an importing app each time
// one of its imports dead-letters an event; the bridge also logs it at
// level Error. Listen to it to alert or to count.
var DeadLetters = bus.NewTopic[DeadLetter]("bridge.dead_letter",
	bus.Description("An imported event was moved to its dead-letter subject."),
	bus.RunAll)
