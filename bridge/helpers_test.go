package bridge_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/fxbus/fxbus/bridge"
	"github.com/fxbus/fxbus/bus"
)

// Order is the test payload.
type Order struct {
	ID    int    `json:"id"`
	Key   string `json:"key,omitempty"`
	Note  string `json:"note,omitempty"`
	Veto  bool   `json:"-"`
	Taken string `json:"-"`
}

// testServer is an embedded JetStream server with file storage, which a
// test can stop and start again on the same port and store.
type testServer struct {
	t    *testing.T
	dir  string
	port int
	srv  *server.Server
}

func startServer(t *testing.T) *testServer {
	t.Helper()
	ts := &testServer{t: t, dir: t.TempDir(), port: server.RANDOM_PORT}
	ts.start()
	t.Cleanup(ts.stop)
	return ts
}

func (ts *testServer) start() {
	ts.t.Helper()
	srv, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: ts.port, JetStream: true, StoreDir: ts.dir, NoLog: true, NoSigs: true,
	})
	require.NoError(ts.t, err)
	srv.Start()
	require.True(ts.t, srv.ReadyForConnections(10*time.Second), "server not ready")
	ts.srv = srv
	ts.port = srv.Addr().(*net.TCPAddr).Port
}

func (ts *testServer) stop() {
	if ts.srv != nil {
		ts.srv.Shutdown()
		ts.srv.WaitForShutdown()
		ts.srv = nil
	}
}

func (ts *testServer) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", ts.port) }

// quiet is a logger for apps whose logs the test does not read.
func quiet() *slog.Logger {
	if os.Getenv("BRIDGE_DEBUG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newApp starts an fx app with the bus and the bridge connected to url.
func newApp(t *testing.T, cfg bridge.Config, opts ...fx.Option) *fxtest.App {
	t.Helper()
	app := fxtest.New(t, append([]fx.Option{
		fx.NopLogger,
		fx.Supply(cfg),
		fx.Supply(quiet()),
		bus.Module,
		bridge.Module,
	}, opts...)...)
	app.RequireStart()
	return app
}

// seen records the events a handler saw, and signals when it saw n.
type seen struct {
	mu     sync.Mutex
	ids    []int
	byID   map[int]int
	want   int
	done   chan struct{}
	closed bool
}

func newSeen(want int) *seen {
	return &seen{byID: map[int]int{}, want: want, done: make(chan struct{})}
}

func (s *seen) add(id int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ids = append(s.ids, id)
	s.byID[id]++
	if !s.closed && len(s.byID) >= s.want {
		s.closed = true
		close(s.done)
	}
}

func (s *seen) distinct() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byID)
}

func (s *seen) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ids)
}

func (s *seen) wait(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(d):
		t.Fatalf("saw %d distinct events of %d within %v", s.distinct(), s.want, d)
	}
}

func publishN(t *testing.T, b *bus.Bus, topic *bus.Topic[Order], from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		require.NoError(t, topic.Publish(context.Background(), b, &Order{ID: i}))
	}
}

func jetstreamNew(nc *nats.Conn) (jetstream.JetStream, error) { return jetstream.New(nc) }

func fnvHex(s string) string {
	h := fnv.New32a()
	h.Write([]byte(s))
	return fmt.Sprintf("%08x", h.Sum32())
}
