package benchmarks

// The distributed round trip: an event published in one process (here,
// one fx app or client) reaches a handler in another, through NATS
// JetStream on an embedded server (file storage, loopback TCP). Three
// ways of doing it, side by side, in one run:
//
//	fxbus          bridge.Export in the publishing app, bridge.Import in the
//	               receiving one: topic.Publish -> remote bus handler
//	watermill      watermill-nats/v2's jetstream Publisher and Subscriber
//	               (group consumer), the same JSON payload
//	raw            nats.go's jetstream: PublishMsgAsync, Consume, Ack; the
//	               floor anything built on JetStream pays
//
// BenchmarkRemote publishes b.N events from one goroutine, as fast as each
// API lets it, and stops the clock when the handler has seen the last one.
// It reports events/s and the p50 and p99 latency from publish to handler:
// under saturation, so mostly the time an event waits in the queue.
// BenchmarkRemoteLatency offers a fixed rate well below saturation, and its
// p50/p99 are the round trip's own.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmjs "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/jetstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/fx"

	"github.com/fxbus/fxbus/bridge"
	"github.com/fxbus/fxbus/bus"
)

// remoteEvent is the payload of the round trip: a sequence number and the
// publish time.
type remoteEvent struct {
	Seq  int   `json:"seq"`
	Sent int64 `json:"sent"` // UnixNano
}

var remoteTopic = bus.NewTopic[remoteEvent]("bench.remote")

// latencies collects publish-to-handler latencies and signals the last.
// An event with a negative sequence number is a warm-up: it is not
// counted, and it closes warm.
type latencies struct {
	mu   sync.Mutex
	d    []time.Duration
	want int
	done chan struct{}
	warm chan struct{}
	once sync.Once
}

func newLatencies(n int) *latencies {
	return &latencies{d: make([]time.Duration, 0, n), want: n, done: make(chan struct{}), warm: make(chan struct{})}
}

func (l *latencies) add(seq int, sent int64) {
	d := time.Duration(time.Now().UnixNano() - sent)
	if seq < 0 {
		l.once.Do(func() { close(l.warm) })
		return
	}
	l.mu.Lock()
	l.d = append(l.d, d)
	if len(l.d) == l.want {
		close(l.done)
	}
	l.mu.Unlock()
}

func (l *latencies) wait(b *testing.B) {
	select {
	case <-l.done:
	case <-time.After(2 * time.Minute):
		l.mu.Lock()
		defer l.mu.Unlock()
		b.Fatalf("handled %d of %d events", len(l.d), l.want)
	}
}

func (l *latencies) report(b *testing.B, elapsed time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	slices.Sort(l.d)
	pct := func(p float64) float64 {
		i := int(p*float64(len(l.d))+0.5) - 1
		return float64(l.d[max(min(i, len(l.d)-1), 0)].Microseconds())
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}

// embeddedServer starts a JetStream server on a free loopback port with
// its store in a temporary directory.
func embeddedServer(b *testing.B) string {
	b.Helper()
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT,
		JetStream: true, StoreDir: b.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		b.Fatal(err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		b.Fatal("nats server not ready")
	}
	b.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	return srv.ClientURL()
}

func BenchmarkRemote(b *testing.B) {
	b.Run("lib=fxbus", func(b *testing.B) { benchRemoteFlat(b, rigFxbus) })
	b.Run("lib=watermill", func(b *testing.B) { benchRemoteFlat(b, rigWatermill) })
	b.Run("lib=raw", func(b *testing.B) { benchRemoteFlat(b, rigRaw) })
}

// latencyRate is the offered rate of BenchmarkRemoteLatency, in events
// per second: well below what any of the three sustains on this machine,
// so that the latency is the round trip's, not a queue's.
const latencyRate = 1000

// BenchmarkRemoteLatency publishes b.N events at latencyRate events/s
// (on a schedule: a publish that falls behind is caught up, so the offered
// rate holds on average) and reports the p50/p99 latency from publish to
// the remote handler. Run it with -benchtime=3000x or so; ns/op is then
// the schedule's interval, and events/s the rate achieved.
func BenchmarkRemoteLatency(b *testing.B) {
	b.Run("lib=fxbus", func(b *testing.B) { benchRemotePaced(b, rigFxbus) })
	b.Run("lib=watermill", func(b *testing.B) { benchRemotePaced(b, rigWatermill) })
	b.Run("lib=raw", func(b *testing.B) { benchRemotePaced(b, rigRaw) })
}

// rig is one way of doing the round trip, set up and ready: publish sends
// event i stamped with sent; the handler records into the latencies it was
// made with; stop shuts it down once every event was handled.
type rig struct {
	publish func(i int, sent int64) error
	stop    func()
}

type rigFunc func(b *testing.B, lat *latencies) rig

// benchRemoteFlat publishes as fast as the library lets it.
func benchRemoteFlat(b *testing.B, mk rigFunc) {
	lat := newLatencies(b.N)
	r := mk(b, lat)
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		if err := r.publish(i, time.Now().UnixNano()); err != nil {
			b.Fatal(err)
		}
	}
	published := time.Since(start)
	lat.wait(b)
	elapsed := time.Since(start)
	b.StopTimer()
	lat.report(b, elapsed)
	// The publisher's own pace: when it is well above events/s, the
	// receiving side is the bottleneck.
	b.ReportMetric(float64(b.N)/published.Seconds(), "published/s")
	r.stop()
}

// benchRemotePaced publishes at latencyRate.
func benchRemotePaced(b *testing.B, mk rigFunc) {
	lat := newLatencies(b.N)
	r := mk(b, lat)
	// A first event outside the clock and the figures: connections,
	// consumers and lazily made state are warm when the schedule starts.
	if err := r.publish(-1, time.Now().UnixNano()); err != nil {
		b.Fatal(err)
	}
	select {
	case <-lat.warm:
	case <-time.After(time.Minute):
		b.Fatal("the warm-up event did not arrive")
	}
	const interval = time.Second / latencyRate
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		if err := r.publish(i, time.Now().UnixNano()); err != nil {
			b.Fatal(err)
		}
	}
	lat.wait(b)
	elapsed := time.Since(start)
	b.StopTimer()
	lat.report(b, elapsed)
	r.stop()
}

func rigFxbus(b *testing.B, lat *latencies) rig {
	url := embeddedServer(b)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := bridge.Config{URL: url, PendingWait: time.Minute}
	recv := fx.New(fx.NopLogger, fx.Supply(cfg, quiet), bus.Module, bridge.Module,
		bridge.Import(remoteTopic, bridge.Group("bench")),
		bus.Listen(remoteTopic, func(_ context.Context, e *remoteEvent) error { lat.add(e.Seq, e.Sent); return nil }),
	)
	var bb *bus.Bus
	send := fx.New(fx.NopLogger, fx.Supply(cfg, quiet), bus.Module, bridge.Module,
		bridge.Export(remoteTopic), fx.Populate(&bb))
	ctx := context.Background()
	for _, app := range []*fx.App{recv, send} {
		if err := app.Start(ctx); err != nil {
			b.Fatal(err)
		}
	}
	return rig{
		publish: func(i int, sent int64) error {
			return remoteTopic.Publish(ctx, bb, &remoteEvent{Seq: i, Sent: sent})
		},
		stop: func() {
			if err := send.Stop(ctx); err != nil {
				b.Fatal(err)
			}
			if err := recv.Stop(ctx); err != nil {
				b.Fatal(err)
			}
		},
	}
}

func rigWatermill(b *testing.B, lat *latencies) rig {
	url := embeddedServer(b)
	logger := watermill.NopLogger{}
	subNC, err := nats.Connect(url)
	if err != nil {
		b.Fatal(err)
	}
	pubNC, err := nats.Connect(url)
	if err != nil {
		b.Fatal(err)
	}
	sub, err := wmjs.NewSubscriber(wmjs.SubscriberConfig{Conn: subNC, Logger: logger,
		ResourceInitializer: wmjs.GroupedConsumer("bench")})
	if err != nil {
		b.Fatal(err)
	}
	pub, err := wmjs.NewPublisher(wmjs.PublisherConfig{Conn: pubNC, Logger: logger})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	const topic = "bench_remote"
	if err := sub.SubscribeInitialize(topic); err != nil {
		b.Fatal(err)
	}
	msgs, err := sub.Subscribe(ctx, topic)
	if err != nil {
		b.Fatal(err)
	}
	handled := make(chan struct{})
	go func() {
		defer close(handled)
		for m := range msgs {
			var e remoteEvent
			if err := json.Unmarshal(m.Payload, &e); err != nil {
				m.Nack()
				continue
			}
			lat.add(e.Seq, e.Sent)
			m.Ack()
		}
	}()
	return rig{
		publish: func(i int, sent int64) error {
			data, _ := json.Marshal(remoteEvent{Seq: i, Sent: sent})
			return pub.Publish(topic, message.NewMessage(watermill.NewUUID(), data))
		},
		stop: func() {
			cancel()
			_ = sub.Close()
			<-handled
			_ = pub.Close()
			pubNC.Close()
			subNC.Close()
		},
	}
}

func rigRaw(b *testing.B, lat *latencies) rig {
	url := embeddedServer(b)
	ctx := context.Background()
	subNC, err := nats.Connect(url)
	if err != nil {
		b.Fatal(err)
	}
	pubNC, err := nats.Connect(url)
	if err != nil {
		b.Fatal(err)
	}
	pjs, err := jetstream.New(pubNC, jetstream.WithPublishAsyncMaxPending(4096))
	if err != nil {
		b.Fatal(err)
	}
	sjs, err := jetstream.New(subNC)
	if err != nil {
		b.Fatal(err)
	}
	st, err := sjs.CreateStream(ctx, jetstream.StreamConfig{Name: "RAW", Subjects: []string{"raw.remote"}, Storage: jetstream.FileStorage})
	if err != nil {
		b.Fatal(err)
	}
	cons, err := st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "bench", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		b.Fatal(err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		var e remoteEvent
		if err := json.Unmarshal(m.Data(), &e); err != nil {
			_ = m.Nak()
			return
		}
		lat.add(e.Seq, e.Sent)
		_ = m.Ack()
	})
	if err != nil {
		b.Fatal(err)
	}
	return rig{
		publish: func(i int, sent int64) error {
			data, _ := json.Marshal(remoteEvent{Seq: i, Sent: sent})
			msg := &nats.Msg{Subject: "raw.remote", Data: data, Header: nats.Header{}}
			msg.Header.Set(jetstream.MsgIDHeader, fmt.Sprint(i))
			_, err := pjs.PublishMsgAsync(msg, jetstream.WithStallWait(time.Minute))
			return err
		},
		stop: func() {
			select {
			case <-pjs.PublishAsyncComplete():
			case <-time.After(30 * time.Second):
				b.Fatal("acks outstanding")
			}
			cc.Stop()
			pubNC.Close()
			subNC.Close()
		},
	}
}
