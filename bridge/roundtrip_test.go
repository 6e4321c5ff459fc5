package bridge_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/fxbus/fxbus/bridge"
	"github.com/fxbus/fxbus/bus"
)

var orderPlaced = bus.NewTopic[Order]("test.order.placed")

func TestRoundTrip(t *testing.T) {
	ts := startServer(t)
	const n = 2000
	got := newSeen(n)
	var deliveries []bridge.Delivery
	recv := newApp(t, bridge.Config{URL: ts.url()},
		bridge.Import(orderPlaced, bridge.Group("recv")),
		bus.Listen(orderPlaced, func(ctx context.Context, o *Order) error {
			d, ok := bridge.DeliveryFrom(ctx)
			if !ok {
				return errors.New("no delivery in ctx")
			}
			if o.ID == 0 {
				deliveries = append(deliveries, d)
			}
			got.add(o.ID)
			return nil
		}),
	)
	defer recv.RequireStop()
	var b *bus.Bus
	send := newApp(t, bridge.Config{URL: ts.url()},
		bridge.Export(orderPlaced),
		fx.Populate(&b),
	)
	publishN(t, b, orderPlaced, 0, n)
	got.wait(t, 20*time.Second)
	send.RequireStop()
	assert.Equal(t, n, got.distinct())
	require.NotEmpty(t, deliveries)
	d := deliveries[0]
	assert.Equal(t, "test.order.placed", d.Topic)
	assert.Equal(t, "fxbus.topic.test.order.placed", d.Subject)
	assert.Equal(t, "recv", d.Group)
	assert.Equal(t, 1, d.Attempt)
	assert.NotEmpty(t, d.MsgID)
}

// A group's durable consumer made by an earlier version of the bridge,
// filtered on the topic's subjects, is taken over: it keeps its place and
// its events arrive.
func TestImportTakesOverAFilteredConsumer(t *testing.T) {
	ts := startServer(t)
	orderKept := bus.NewTopic[Order]("test.order.kept")
	var b *bus.Bus
	var conn *bridge.Conn
	send := newApp(t, bridge.Config{URL: ts.url()}, bridge.Export(orderKept), fx.Populate(&b, &conn))
	defer send.RequireStop()
	ctx := context.Background()
	js := conn.JetStream()
	stream, err := js.StreamNameBySubject(ctx, "fxbus.topic.test.order.kept")
	require.NoError(t, err)
	_, err = js.CreateConsumer(ctx, stream, jetstream.ConsumerConfig{
		Durable: "old", AckPolicy: jetstream.AckExplicitPolicy,
		FilterSubjects: []string{"fxbus.topic.test.order.kept", "fxbus.part.*.test.order.kept"},
	})
	require.NoError(t, err)
	publishN(t, b, orderKept, 0, 10)
	require.NoError(t, conn.Flush(ctx))

	got := newSeen(10)
	recv := newApp(t, bridge.Config{URL: ts.url()},
		bridge.Import(orderKept, bridge.Group("old")),
		bus.Listen(orderKept, func(_ context.Context, o *Order) error { got.add(o.ID); return nil }),
	)
	defer recv.RequireStop()
	got.wait(t, 20*time.Second)
	assert.Equal(t, 10, got.total())
	cons, err := js.Consumer(ctx, stream, "old")
	require.NoError(t, err)
	assert.Empty(t, cons.CachedInfo().Config.FilterSubjects)
	assert.Empty(t, cons.CachedInfo().Config.FilterSubject)
}
