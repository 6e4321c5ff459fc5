package bridge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/fxbus/fxbus/bridge"
	"github.com/fxbus/fxbus/bus"
)

var (
	orderFailing = bus.NewTopic[Order]("test.order.failing")
	orderGarbled = bus.NewTopic[Order]("test.order.garbled")
	orderVetoed  = bus.NewTopic[Order]("test.order.vetoed")
	orderFact    = bus.NewTopic[Order]("test.order.fact", bus.RunAll)
)

// syncBuffer is a log sink safe for the bridge's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// deadLetters collects what DeadLetters tells the app.
func deadLetters(ch chan<- bridge.DeadLetter) fx.Option {
	return bus.Listen(bridge.DeadLetters, func(_ context.Context, d *bridge.DeadLetter) error {
		ch <- *d
		return nil
	})
}

func TestHandlerErrorsAreRetriedThenDeadLettered(t *testing.T) {
	ts := startServer(t)
	logs := &syncBuffer{}
	dead := make(chan bridge.DeadLetter, 4)
	var mu sync.Mutex
	attempts := map[int][]int{} // event id -> attempts seen
	var conn *bridge.Conn
	recv := newApp(t, bridge.Config{URL: ts.url()},
		fx.Decorate(func() *slog.Logger { return slog.New(slog.NewTextHandler(logs, nil)) }),
		bridge.Import(orderFailing, bridge.Group("billing"), bridge.MaxDeliver(3),
			bridge.Backoff(func(int) time.Duration { return 10 * time.Millisecond })),
		bus.Listen(orderFailing, func(ctx context.Context, o *Order) error {
			d, _ := bridge.DeliveryFrom(ctx)
			mu.Lock()
			attempts[o.ID] = append(attempts[o.ID], d.Attempt)
			n := len(attempts[o.ID])
			mu.Unlock()
			if o.ID == 1 || (o.ID == 2 && n < 3) {
				return fmt.Errorf("card declined for order %d", o.ID)
			}
			return nil
		}, bus.Name("billing.Charge")),
		deadLetters(dead),
		fx.Populate(&conn),
	)
	defer recv.RequireStop()
	var b *bus.Bus
	send := newApp(t, bridge.Config{URL: ts.url()}, bridge.Export(orderFailing), fx.Populate(&b))
	defer send.RequireStop()
	publishN(t, b, orderFailing, 1, 2)

	var dl bridge.DeadLetter
	select {
	case dl = <-dead:
	case <-time.After(20 * time.Second):
		t.Fatal("no dead letter")
	}
	assert.Equal(t, "test.order.failing", dl.Topic)
	assert.Equal(t, "billing", dl.Group)
	assert.Equal(t, 3, dl.Deliveries)
	assert.Equal(t, "fxbus.dead.billing.test.order.failing", dl.Subject)
	require.Error(t, dl.Err)
	assert.ErrorContains(t, dl.Err, "card declined for order 1")
	var he *bus.HandlerError
	require.ErrorAs(t, dl.Err, &he)
	assert.Equal(t, "billing.Charge", he.Listener)
	assert.Contains(t, logs.String(), "event dead-lettered")
	assert.Contains(t, logs.String(), "card declined for order 1")

	// The dead letter is stored with the error and the delivery count.
	js := conn.JetStream()
	st, err := js.Stream(context.Background(), "FXBUS_DEAD")
	require.NoError(t, err)
	raw, err := st.GetLastMsgForSubject(context.Background(), dl.Subject)
	require.NoError(t, err)
	assert.Equal(t, "3", raw.Header.Get(bridge.HeaderDeliveries))
	assert.Contains(t, raw.Header.Get(bridge.HeaderError), "card declined for order 1")
	assert.Equal(t, dl.MsgID, raw.Header.Get(nats.MsgIdHdr)[len("dead-billing-"):])
	assert.JSONEq(t, `{"id":1}`, string(raw.Data))

	// Order 2 failed twice and then succeeded: retried, never dead-lettered.
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(attempts[2]) == 3
	}, 10*time.Second, 5*time.Millisecond)
	mu.Lock()
	assert.Equal(t, []int{1, 2, 3}, attempts[1])
	assert.Equal(t, []int{1, 2, 3}, attempts[2])
	mu.Unlock()
	select {
	case d := <-dead:
		t.Fatalf("unexpected dead letter %+v", d)
	default:
	}
}

func TestUndecodableIsDeadLetteredAtOnce(t *testing.T) {
	ts := startServer(t)
	dead := make(chan bridge.DeadLetter, 4)
	got := newSeen(1)
	var conn *bridge.Conn
	recv := newApp(t, bridge.Config{URL: ts.url()},
		bridge.Import(orderGarbled, bridge.Group("g"), bridge.MaxDeliver(5)),
		bus.Listen(orderGarbled, func(_ context.Context, o *Order) error { got.add(o.ID); return nil }),
		deadLetters(dead),
		fx.Populate(&conn),
	)
	defer recv.RequireStop()
	js := conn.JetStream()
	_, err := js.Publish(context.Background(), "fxbus.topic.test.order.garbled", []byte(`{"id": "not a number"`))
	require.NoError(t, err)
	_, err = js.Publish(context.Background(), "fxbus.topic.test.order.garbled", []byte(`{"id": 7}`))
	require.NoError(t, err)

	select {
	case dl := <-dead:
		assert.Equal(t, 1, dl.Deliveries)
		assert.ErrorContains(t, dl.Err, "decode bridge_test.Order")
	case <-time.After(10 * time.Second):
		t.Fatal("no dead letter")
	}
	got.wait(t, 10*time.Second) // the next message was not blocked
	assert.Equal(t, 1, got.total())
}

func TestOnlySuccessfulPublishesLeave(t *testing.T) {
	ts := startServer(t)
	var b *bus.Bus
	var conn *bridge.Conn
	send := newApp(t, bridge.Config{URL: ts.url()},
		bridge.Export(orderVetoed),
		bus.Listen(orderVetoed, func(_ context.Context, o *Order) error {
			switch o.ID {
			case 1:
				return errors.New("vetoed")
			case 2:
				return bus.ErrStop
			}
			return nil
		}),
		fx.Populate(&b, &conn),
	)
	require.Error(t, orderVetoed.Publish(context.Background(), b, &Order{ID: 1}))
	require.NoError(t, orderVetoed.Publish(context.Background(), b, &Order{ID: 2}))
	require.NoError(t, orderVetoed.Publish(context.Background(), b, &Order{ID: 3}))
	send.RequireStop() // awaits the acknowledgements

	nc, err := nats.Connect(ts.url())
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstreamNew(nc)
	require.NoError(t, err)
	st, err := js.Stream(context.Background(), "FXBUS_test_order_vetoed_"+fnvHex("test.order.vetoed"))
	require.NoError(t, err)
	info, err := st.Info(context.Background())
	require.NoError(t, err)
	assert.Equal(t, uint64(1), info.State.Msgs, "only the event every listener accepted is exported")
	raw, err := st.GetMsg(context.Background(), info.State.FirstSeq)
	require.NoError(t, err)
	assert.JSONEq(t, `{"id":3}`, string(raw.Data))
	assert.Equal(t, "bridge_test.Order", raw.Header.Get(bridge.HeaderPayloadType))
	assert.Equal(t, "test.order.vetoed", raw.Header.Get(bridge.HeaderTopic))
	assert.NotEmpty(t, raw.Header.Get(nats.MsgIdHdr))
}

func TestRunAllTopicsExportWhateverListenersReturn(t *testing.T) {
	ts := startServer(t)
	var b *bus.Bus
	var conn *bridge.Conn
	app := newApp(t, bridge.Config{URL: ts.url()},
		bridge.Export(orderFact),
		bus.Listen(orderFact, func(context.Context, *Order) error { return errors.New("mailer down") }),
		fx.Populate(&b, &conn),
	)
	defer app.RequireStop()
	err := orderFact.Publish(context.Background(), b, &Order{ID: 1})
	require.ErrorContains(t, err, "mailer down", "the publisher hears of the local failure")
	require.NoError(t, conn.Flush(context.Background()))
	st, err := conn.JetStream().Stream(context.Background(), "FXBUS_test_order_fact_"+fnvHex("test.order.fact"))
	require.NoError(t, err)
	info, err := st.Info(context.Background())
	require.NoError(t, err)
	assert.Equal(t, uint64(1), info.State.Msgs, "a fact is exported although a local listener failed")
}

// A dead-lettered event is terminated on the server: it is not delivered
// again, to this instance or any other, and the consumer moves past it.
func TestDeadLetteredIsNotRedelivered(t *testing.T) {
	ts := startServer(t)
	const topicName = "test.order.dead"
	orderDead := bus.NewTopic[Order](topicName)

	// The server's advisory for a terminated message is the signal that
	// the bridge's Term reached it.
	nc, err := nats.Connect(ts.url())
	require.NoError(t, err)
	defer nc.Close()
	terminated, err := nc.SubscribeSync("$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.>")
	require.NoError(t, err)
	require.NoError(t, nc.Flush())

	dead := make(chan bridge.DeadLetter, 4)
	marker := make(chan struct{})
	var mu sync.Mutex
	calls := map[int]int{}
	var conn *bridge.Conn
	recv := newApp(t, bridge.Config{URL: ts.url()},
		// A short ack wait and backoff: an event that was only nak'd, or
		// left unacknowledged, would come back well within the test.
		bridge.Import(orderDead, bridge.Group("billing"), bridge.MaxDeliver(2),
			bridge.AckWait(200*time.Millisecond),
			bridge.Backoff(func(int) time.Duration { return time.Millisecond })),
		bus.Listen(orderDead, func(_ context.Context, o *Order) error {
			mu.Lock()
			calls[o.ID]++
			mu.Unlock()
			if o.ID == 1 {
				return errors.New("card declined")
			}
			close(marker)
			return nil
		}),
		deadLetters(dead),
		fx.Populate(&conn),
	)
	defer recv.RequireStop()
	var b *bus.Bus
	send := newApp(t, bridge.Config{URL: ts.url()}, bridge.Export(orderDead), fx.Populate(&b))
	defer send.RequireStop()
	publishN(t, b, orderDead, 1, 1)

	select {
	case <-dead:
	case <-time.After(20 * time.Second):
		t.Fatal("no dead letter")
	}
	adv, err := terminated.NextMsg(10 * time.Second)
	require.NoError(t, err, "no termination advisory")
	var term struct {
		Stream     string `json:"stream"`
		Consumer   string `json:"consumer"`
		StreamSeq  uint64 `json:"stream_seq"`
		Deliveries uint64 `json:"deliveries"`
	}
	require.NoError(t, json.Unmarshal(adv.Data, &term))
	ctx := context.Background()
	js := conn.JetStream()
	stream, err := js.StreamNameBySubject(ctx, "fxbus.topic."+topicName)
	require.NoError(t, err)
	assert.Equal(t, stream, term.Stream)
	assert.Equal(t, "billing", term.Consumer)
	assert.Equal(t, uint64(1), term.StreamSeq)
	assert.Equal(t, uint64(2), term.Deliveries)

	// A later event is handled, and then the consumer has nothing pending,
	// nothing awaiting an ack and nothing to redeliver: its ack floor is
	// past both events.
	publishN(t, b, orderDead, 2, 1)
	select {
	case <-marker:
	case <-time.After(20 * time.Second):
		t.Fatal("the event after the dead letter was not handled")
	}
	cons, err := js.Consumer(ctx, stream, "billing")
	require.NoError(t, err)
	require.Eventually(t, func() bool { // the marker's ack reaches the server
		info, err := cons.Info(ctx)
		return err == nil && info.AckFloor.Stream == 2
	}, 10*time.Second, 5*time.Millisecond)
	info, err := cons.Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(0), info.NumPending)
	assert.Equal(t, 0, info.NumAckPending)
	assert.Equal(t, 0, info.NumRedelivered)
	assert.Equal(t, uint64(2), info.Delivered.Stream)

	// A new instance of the group starts from the same consumer and gets
	// nothing more than the next event.
	recv.RequireStop()
	again := make(chan int, 4)
	recv2 := newApp(t, bridge.Config{URL: ts.url()},
		bridge.Import(orderDead, bridge.Group("billing"), bridge.MaxDeliver(2),
			bridge.AckWait(200*time.Millisecond)),
		bus.Listen(orderDead, func(_ context.Context, o *Order) error { again <- o.ID; return nil }),
	)
	defer recv2.RequireStop()
	publishN(t, b, orderDead, 3, 1)
	select {
	case id := <-again:
		assert.Equal(t, 3, id, "the first event the new instance sees is the next one")
	case <-time.After(20 * time.Second):
		t.Fatal("the new instance saw nothing")
	}
	mu.Lock()
	assert.Equal(t, map[int]int{1: 2, 2: 1}, calls)
	mu.Unlock()
	_, err = terminated.NextMsg(0)
	assert.ErrorIs(t, err, nats.ErrTimeout, "one termination only")
}
