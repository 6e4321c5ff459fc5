package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"
)

// Module connects the fx app to NATS and provides the *[Conn] that
// [Export] and [Import] use. It connects on start to the servers of
// [Config.URL], or of the NATS_URL environment variable (comma-separated
// URLs, as the nats CLI reads it), and otherwise starts an embedded
// nats-server with JetStream, listening on a random loopback port, storing
// in a temporary directory. On stop it awaits the acknowledgement of the
// exported events still pending (see [UnackedError]), then closes the
// connection and shuts the embedded server down.
//
// It takes from the container, when present, a [Config], a
// trace.TracerProvider, a propagation.TextMapPropagator and a *slog.Logger;
// otherwise the OpenTelemetry global tracer provider, the W3C trace-context
// and baggage propagators, and slog.Default.
var Module = fx.Module("bridge", fx.Provide(newFxConn))

// Config configures [Module]; supply one with fx.Supply to override the
// defaults.
type Config struct {
	// URL lists the NATS servers to connect to, comma-separated. Empty
	// means NATS_URL, and when that is empty too, an embedded server.
	URL string
	// StoreDir is the embedded server's JetStream store. Empty means a
	// temporary directory, removed on stop.
	StoreDir string
	// Name is the client connection's name, shown by the server.
	Name string
	// MaxPending bounds the exported events awaiting the server's
	// acknowledgement; the default is 4096. See [ErrBackpressure].
	MaxPending int
	// PendingWait is how long a publish of an exported topic waits for room
	// when MaxPending is reached, before it fails with [ErrBackpressure].
	// The default, 0, fails at once; a negative value also means 0.
	PendingWait time.Duration
	// AckTimeout is how long one send waits for the server's
	// acknowledgement before it is sent again; the default is 5s.
	AckTimeout time.Duration
	// RetryWait is the pause between attempts to send while the server is
	// unreachable; the default is 250ms.
	RetryWait time.Duration
	// StopTimeout bounds how long stop awaits pending acknowledgements;
	// the default is 10s.
	StopTimeout time.Duration
}

func (c Config) withDefaults() Config {
	if c.URL == "" {
		c.URL = os.Getenv("NATS_URL")
	}
	if c.Name == "" {
		c.Name = "fxbus"
	}
	if c.MaxPending <= 0 {
		c.MaxPending = 4096
	}
	if c.PendingWait < 0 {
		c.PendingWait = 0
	}
	if c.AckTimeout <= 0 {
		c.AckTimeout = 5 * time.Second
	}
	if c.RetryWait <= 0 {
		c.RetryWait = 250 * time.Millisecond
	}
	if c.StopTimeout <= 0 {
		c.StopTimeout = 10 * time.Second
	}
	return c
}

// Conn is an fx app's connection to NATS JetStream, provided by [Module].
// Exports share its bounded queue of events awaiting acknowledgement.
type Conn struct {
	cfg    Config
	log    *slog.Logger
	tracer trace.Tracer
	prop   propagation.TextMapPropagator

	mu      sync.Mutex
	streams map[string]jetstream.StreamConfig // by name, made on start
	nc      *nats.Conn
	js      jetstream.JetStream
	srv     *server.Server
	tmpDir  string
	started bool

	exp     *exporter
	imports []interface {
		caughtUp(ctx context.Context) (bool, error)
	}
}

type connParams struct {
	fx.In
	Lifecycle      fx.Lifecycle
	Config         Config                        `optional:"true"`
	TracerProvider trace.TracerProvider          `optional:"true"`
	Propagator     propagation.TextMapPropagator `optional:"true"`
	Logger         *slog.Logger                  `optional:"true"`
}

func newFxConn(p connParams) *Conn {
	c := newConn(p.Config, p.TracerProvider, p.Propagator, p.Logger)
	p.Lifecycle.Append(fx.Hook{OnStart: c.start, OnStop: c.stop})
	return c
}

func newConn(cfg Config, tp trace.TracerProvider, prop propagation.TextMapPropagator, log *slog.Logger) *Conn {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if prop == nil {
		prop = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	}
	if log == nil {
		log = slog.Default()
	}
	c := &Conn{
		cfg:     cfg.withDefaults(),
		log:     log,
		tracer:  tp.Tracer("github.com/fxbus/fxbus/bridge"),
		prop:    prop,
		streams: map[string]jetstream.StreamConfig{},
	}
	c.exp = newExporter(c)
	return c
}

// URL returns the URL the connection uses: the embedded server's client
// URL, or the connected server's, once the app started ("" before). It
// carries no credentials.
func (c *Conn) URL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.srv != nil:
		return c.srv.ClientURL()
	case c.nc != nil:
		return redact(c.nc.ConnectedUrl())
	}
	return ""
}

// Embedded reports whether the connection is to an embedded server.
func (c *Conn) Embedded() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.srv != nil
}

// NATS returns the underlying connection, once the app started.
func (c *Conn) NATS() *nats.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nc
}

// JetStream returns the JetStream context, once the app started.
func (c *Conn) JetStream() jetstream.JetStream {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.js
}

// Flush waits until the server has acknowledged every event exported so
// far, or until ctx is done.
func (c *Conn) Flush(ctx context.Context) error { return c.exp.flush(ctx) }

// AwaitImports waits until every [Import] of this app has handled (or
// dead-lettered) every event in its stream, or until ctx is done: for a
// demo or a test that needs what was published to have arrived. It asks
// the server every 10ms.
func (c *Conn) AwaitImports(ctx context.Context) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		c.mu.Lock()
		ims := slices.Clone(c.imports)
		c.mu.Unlock()
		done := true
		for _, im := range ims {
			ok, err := im.caughtUp(ctx)
			if err != nil {
				return fmt.Errorf("bridge: await imports: %w", err)
			}
			done = done && ok
		}
		if done {
			return nil
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return fmt.Errorf("bridge: await imports: %w", ctx.Err())
		}
	}
}

// addStream registers the stream of a topic, made on start.
func (c *Conn) addStream(n names) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.streams[n.stream] = streamConfig(n)
}

func streamConfig(n names) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        n.stream,
		Description: "fxbus topic " + n.topic,
		Subjects:    []string{n.subject(), n.partitions()},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Duplicates:  2 * time.Minute,
	}
}

func deadStreamConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        deadStream,
		Description: "fxbus dead letters",
		Subjects:    []string{deadPrefix + ">"},
		Storage:     jetstream.FileStorage,
	}
}

func (c *Conn) start(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started {
		return nil
	}
	url := c.cfg.URL
	if url == "" {
		if err := c.startEmbedded(); err != nil {
			return err
		}
		url = c.srv.ClientURL()
	}
	nc, err := nats.Connect(url,
		nats.Name(c.cfg.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(c.cfg.RetryWait),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				c.log.Warn("bridge: disconnected from NATS", "error", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			c.log.Info("bridge: reconnected to NATS", "url", redact(nc.ConnectedUrl()))
		}),
	)
	if err != nil {
		c.shutdownEmbedded()
		return fmt.Errorf("bridge: connect to %s: %w", redact(url), err)
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(c.cfg.AckTimeout),
		jetstream.WithPublishAsyncMaxPending(c.cfg.MaxPending+1))
	if err != nil {
		nc.Close()
		c.shutdownEmbedded()
		return fmt.Errorf("bridge: JetStream: %w", err)
	}
	for name, sc := range c.streams {
		if _, err := js.CreateOrUpdateStream(ctx, sc); err != nil {
			nc.Close()
			c.shutdownEmbedded()
			return fmt.Errorf("bridge: stream %s: %w", name, err)
		}
	}
	c.nc, c.js, c.started = nc, js, true
	c.exp.start(js)
	c.log.Debug("bridge: connected", "url", redact(nc.ConnectedUrl()), "embedded", c.srv != nil, "streams", len(c.streams))
	return nil
}

func (c *Conn) startEmbedded() error {
	dir := c.cfg.StoreDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "fxbus-nats-")
		if err != nil {
			return fmt.Errorf("bridge: embedded server store: %w", err)
		}
		dir, c.tmpDir = tmp, tmp
	}
	srv, err := server.NewServer(&server.Options{
		ServerName: "fxbus-embedded",
		Host:       "127.0.0.1",
		Port:       server.RANDOM_PORT,
		JetStream:  true,
		StoreDir:   dir,
		NoLog:      true,
		NoSigs:     true,
	})
	if err != nil {
		c.removeTmp()
		return fmt.Errorf("bridge: embedded server: %w", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		srv.WaitForShutdown()
		c.removeTmp()
		return errors.New("bridge: embedded server not ready within 10s")
	}
	c.srv = srv
	return nil
}

func (c *Conn) shutdownEmbedded() {
	if c.srv != nil {
		c.srv.Shutdown()
		c.srv.WaitForShutdown()
		c.srv = nil
	}
	c.removeTmp()
}

func (c *Conn) removeTmp() {
	if c.tmpDir != "" {
		_ = os.RemoveAll(c.tmpDir)
		c.tmpDir = ""
	}
}

// stop awaits the pending acknowledgements, up to the StopTimeout or ctx,
// then closes the connection and the embedded server. It returns an
// *UnackedError for the events left unacknowledged.
func (c *Conn) stop(ctx context.Context) error {
	c.mu.Lock()
	started := c.started
	c.mu.Unlock()
	var err error
	if started {
		ctx, cancel := context.WithTimeout(ctx, c.cfg.StopTimeout)
		err = c.exp.stop(ctx)
		cancel()
	} else {
		err = c.exp.stop(ctx)
	}
	if err != nil {
		c.log.Error(err.Error())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nc != nil {
		c.nc.Close()
		c.nc, c.js = nil, nil
	}
	c.shutdownEmbedded()
	c.started = false
	return err
}

// redact removes credentials from a comma-separated list of URLs.
func redact(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		u, err := url.Parse(strings.TrimSpace(p))
		if err != nil || u.User == nil {
			continue
		}
		u.User = url.User("REDACTED")
		parts[i] = u.String()
	}
	return strings.Join(parts, ",")
}
