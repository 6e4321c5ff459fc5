package bridge_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/fxbus/fxbus/bridge"
	"github.com/fxbus/fxbus/bus"
)

var (
	orderShared  = bus.NewTopic[Order]("test.order.shared")
	orderHandoff = bus.NewTopic[Order]("test.order.handoff")
	orderKeyed   = bus.NewTopic[Order]("test.order.keyed")
)

// instance is one importing app whose handler records into s, tagged with
// the instance's name.
func instance(t *testing.T, url string, topic *bus.Topic[Order], s *seen, name string, opts ...bridge.Option) func() {
	app := newApp(t, bridge.Config{URL: url},
		bridge.Import(topic, opts...),
		bus.Listen(topic, func(_ context.Context, o *Order) error {
			o.Taken = name
			s.add(o.ID)
			return nil
		}),
	)
	return app.RequireStop
}

func TestGroups(t *testing.T) {
	ts := startServer(t)
	const n = 400
	a1, a2, b1 := newSeen(n), newSeen(n), newSeen(n)
	all := newSeen(n) // group A as a whole
	var mu sync.Mutex
	var shareA [2]int
	mkA := func(i int, s *seen) fx.Option {
		return bus.Listen(orderShared, func(_ context.Context, o *Order) error {
			s.add(o.ID)
			all.add(o.ID)
			mu.Lock()
			shareA[i]++
			mu.Unlock()
			return nil
		})
	}
	stopA1 := newApp(t, bridge.Config{URL: ts.url()}, bridge.Import(orderShared, bridge.Group("A")), mkA(0, a1)).RequireStop
	stopA2 := newApp(t, bridge.Config{URL: ts.url()}, bridge.Import(orderShared, bridge.Group("A")), mkA(1, a2)).RequireStop
	stopB := instance(t, ts.url(), orderShared, b1, "b1", bridge.Group("B"))
	var b *bus.Bus
	send := newApp(t, bridge.Config{URL: ts.url()}, bridge.Export(orderShared), fx.Populate(&b))
	publishN(t, b, orderShared, 0, n)
	send.RequireStop()

	all.wait(t, 20*time.Second)
	b1.wait(t, 20*time.Second)
	stopA1()
	stopA2()
	stopB()

	assert.Equal(t, n, b1.distinct(), "group B gets every event")
	assert.Equal(t, n, b1.total(), "group B handles each once")
	assert.Equal(t, n, all.distinct(), "group A gets every event")
	assert.Equal(t, n, all.total(), "group A handles each event once, across its instances")
	assert.Equal(t, n, a1.total()+a2.total())
	t.Logf("group A's share: %v", shareA)
}

func TestStoppedInstanceHandsBackItsMessages(t *testing.T) {
	ts := startServer(t)
	const n = 50
	first, second := newSeen(1), newSeen(n-1)
	block, blocked := make(chan struct{}), make(chan struct{})
	var once sync.Once
	// The first instance takes the first event and holds it; the client
	// buffers the rest.
	inst1 := newApp(t, bridge.Config{URL: ts.url()},
		bridge.Import(orderHandoff, bridge.Group("G"), bridge.AckWait(time.Minute)),
		bus.Listen(orderHandoff, func(_ context.Context, o *Order) error {
			once.Do(func() { close(blocked); <-block })
			first.add(o.ID)
			return nil
		}),
	)
	var b *bus.Bus
	var conn *bridge.Conn
	send := newApp(t, bridge.Config{URL: ts.url()}, bridge.Export(orderHandoff), fx.Populate(&b, &conn))
	publishN(t, b, orderHandoff, 0, n)
	<-blocked
	consumer := func() *jetstream.ConsumerInfo {
		st, err := conn.JetStream().Stream(context.Background(), "FXBUS_test_order_handoff_"+fnvHex("test.order.handoff"))
		require.NoError(t, err)
		c, err := st.Consumer(context.Background(), "G")
		require.NoError(t, err)
		info, err := c.Info(context.Background())
		require.NoError(t, err)
		return info
	}
	// Every event is delivered to the first instance, none acknowledged.
	require.Eventually(t, func() bool {
		info := consumer()
		return info.NumAckPending == n && info.NumPending == 0
	}, 10*time.Second, 5*time.Millisecond)
	stop2 := instance(t, ts.url(), orderHandoff, second, "inst2", bridge.Group("G"), bridge.AckWait(time.Minute))
	defer stop2()
	require.Eventually(t, func() bool { return consumer().NumWaiting == 2 }, 10*time.Second, 5*time.Millisecond)

	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		inst1.RequireStop() // hands back what it holds, awaits the running handler
	}()
	// The first instance stopped pulling: only the second one waits.
	require.Eventually(t, func() bool { return consumer().NumWaiting == 1 }, 10*time.Second, 5*time.Millisecond)
	close(block)
	<-stopped
	defer send.RequireStop()
	// What the first instance held and did not handle reaches the second
	// at once, not after the minute of AckWait.
	second.wait(t, 20*time.Second)
	assert.Equal(t, 1, first.total(), "the first instance handled only the event it was handling")
	assert.Equal(t, n-1, second.distinct())
	first.mu.Lock()
	second.mu.Lock()
	for id := range first.byID {
		assert.NotContains(t, second.byID, id)
	}
	second.mu.Unlock()
	first.mu.Unlock()
}

func TestPerKeyOrderAcrossInstances(t *testing.T) {
	ts := startServer(t)
	const keys, perKey = 8, 40
	key := bridge.Key(func(o *Order) string { return o.Key }, 4)
	var mu sync.Mutex
	order := map[string][]int{}
	by := map[string]map[string]int{} // instance -> key -> count
	done := newSeen(keys * perKey)
	mk := func(name string) fx.Option {
		return bus.Listen(orderKeyed, func(_ context.Context, o *Order) error {
			mu.Lock()
			order[o.Key] = append(order[o.Key], o.ID)
			if by[name] == nil {
				by[name] = map[string]int{}
			}
			by[name][o.Key]++
			mu.Unlock()
			done.add(o.ID)
			return nil
		})
	}
	stop1 := newApp(t, bridge.Config{URL: ts.url()}, bridge.Import(orderKeyed, bridge.Group("ord"), key), mk("i1")).RequireStop
	stop2 := newApp(t, bridge.Config{URL: ts.url()}, bridge.Import(orderKeyed, bridge.Group("ord"), key), mk("i2")).RequireStop
	var b *bus.Bus
	send := newApp(t, bridge.Config{URL: ts.url()}, bridge.Export(orderKeyed, key), fx.Populate(&b))
	for i := range perKey {
		for k := range keys {
			require.NoError(t, orderKeyed.Publish(context.Background(), b,
				&Order{ID: k*perKey + i, Key: fmt.Sprintf("k%d", k)}))
		}
	}
	send.RequireStop()
	done.wait(t, 30*time.Second)
	stop1()
	stop2()
	mu.Lock()
	defer mu.Unlock()
	for k := range keys {
		ids := order[fmt.Sprintf("k%d", k)]
		require.Len(t, ids, perKey)
		for i, id := range ids {
			assert.Equal(t, k*perKey+i, id, "key k%d out of order: %v", k, ids)
		}
	}
	t.Logf("events per instance and key: %v", by)
}

func TestOptionMistakesFailNew(t *testing.T) {
	for name, tc := range map[string]struct {
		opt  fx.Option
		want string
	}{
		"group on export":   {bridge.Export(orderShared, bridge.Group("x")), `bridge.Export("test.order.shared"): option Group does not apply to bridge.Export`},
		"key of wrong type": {bridge.Import(orderShared, bridge.Key(func(*bridge.Delivery) string { return "" }, 2)), "Key takes *bridge.Delivery, the payload is *bridge_test.Order"},
		"no partitions":     {bridge.Import(orderShared, bridge.Key(func(*Order) string { return "" }, 0)), "0 partitions"},
		"max deliver 0":     {bridge.Import(orderShared, bridge.MaxDeliver(0)), "MaxDeliver(0)"},
	} {
		t.Run(name, func(t *testing.T) {
			err := fx.New(fx.NopLogger, bus.Module, bridge.Module, tc.opt).Err()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "scale_test.go", "the error names the caller's file")
		})
	}
}
