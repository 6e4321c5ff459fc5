package bridge_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/fxbus/fxbus/bridge"
	"github.com/fxbus/fxbus/bus"
)

var (
	orderOutage  = bus.NewTopic[Order]("test.order.outage")
	orderBounded = bus.NewTopic[Order]("test.order.bounded")
)

func TestServerRestartMidStream(t *testing.T) {
	ts := startServer(t)
	const n = 600
	got := newSeen(n)
	fast := bridge.Config{URL: ts.url(), AckTimeout: 500 * time.Millisecond, RetryWait: 50 * time.Millisecond}
	recv := newApp(t, fast,
		bridge.Import(orderOutage, bridge.Group("g"), bridge.AckWait(2*time.Second)),
		bus.Listen(orderOutage, func(_ context.Context, o *Order) error { got.add(o.ID); return nil }),
	)
	defer recv.RequireStop()
	var b *bus.Bus
	send := newApp(t, fast, bridge.Export(orderOutage), fx.Populate(&b))

	// A third of the events before the outage, a third during it, a third
	// after: the publisher never sees an error.
	publishN(t, b, orderOutage, 0, n/3)
	ts.stop()
	publishN(t, b, orderOutage, n/3, n/3)
	ts.start()
	publishN(t, b, orderOutage, 2*n/3, n/3)

	got.wait(t, 60*time.Second)
	send.RequireStop() // every event acknowledged: no UnackedError
	assert.Equal(t, n, got.distinct(), "every event arrives")
	t.Logf("%d events, %d deliveries: %d duplicates", n, got.total(), got.total()-n)
}

func TestExportBoundAndStopWithPendingAcks(t *testing.T) {
	ts := startServer(t)
	logs := &syncBuffer{}
	var b *bus.Bus
	app := newApp(t, bridge.Config{URL: ts.url(), MaxPending: 4, AckTimeout: 100 * time.Millisecond,
		RetryWait: 20 * time.Millisecond, StopTimeout: 200 * time.Millisecond},
		fx.Decorate(func() *slog.Logger { return slog.New(slog.NewTextHandler(logs, nil)) }),
		bridge.Export(orderBounded),
		fx.Populate(&b),
	)
	ts.stop() // no acknowledgement comes back now

	for i := range 4 {
		require.NoError(t, orderBounded.Publish(context.Background(), b, &Order{ID: i}))
	}
	err := orderBounded.Publish(context.Background(), b, &Order{ID: 4})
	require.ErrorIs(t, err, bridge.ErrBackpressure, "the fifth event finds the bound reached")
	assert.ErrorContains(t, err, `export "test.order.bounded"`)
	var he *bus.HandlerError
	require.ErrorAs(t, err, &he, "the caller sees it as the export listener's error")
	assert.Equal(t, "bridge.Export", he.Listener)

	err = app.Stop(context.Background())
	var ue *bridge.UnackedError
	require.ErrorAs(t, err, &ue, "stop reports what was not acknowledged")
	assert.Equal(t, map[string]int{"test.order.bounded": 4}, ue.Topics)
	assert.Equal(t, 4, ue.Total())
	assert.Contains(t, logs.String(), `4 exported events not acknowledged at stop (\"test.order.bounded\": 4)`)
	assert.False(t, errors.Is(err, bridge.ErrBackpressure))
}

func TestPendingWaitLetsABurstThrough(t *testing.T) {
	ts := startServer(t)
	var b *bus.Bus
	app := newApp(t, bridge.Config{URL: ts.url(), MaxPending: 2, PendingWait: 10 * time.Second},
		bridge.Export(orderBounded), fx.Populate(&b))
	defer app.RequireStop()
	// Two slots, two hundred events: each publish waits for room.
	for i := range 200 {
		require.NoError(t, orderBounded.Publish(context.Background(), b, &Order{ID: i}))
	}
}
