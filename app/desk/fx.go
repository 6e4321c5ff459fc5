package desk

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sync"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/topics"
)

// DefaultAddr is the address the desk listens on by default: a free port
// on the loopback interface.
const DefaultAddr = "127.0.0.1:0"

// Config is the desk's configuration. Its zero value is the default,
// but for SSOSecret, which the sso module needs.
type Config struct {
	// Addr is the address the HTTP server listens on; [DefaultAddr] when empty.
	Addr string
	// SSOSecret is the secret with which operators' single sign-on
	// logins are signed: at least 32 random bytes, shared with the
	// single sign-on front end. There is no default: `app serve` reads it
	// from FXBUS_SSO_SECRET or -sso-secret-file, and the demo makes one.
	SSOSecret []byte
	// TrustedProxies are the reverse proxies whose ClientAddrHeader the
	// desk believes. Empty, the client's address is always the
	// connection's peer.
	TrustedProxies []netip.Prefix
	// ClientAddrHeader is the header in which a trusted proxy gives the
	// client's address, such as "X-Forwarded-For"; the right-most
	// address that is not a trusted proxy is the client's.
	ClientAddrHeader string
	// Limits bound what the desk holds and reads; [DefaultLimits] for
	// what is zero.
	Limits Limits
	// Timeouts bound the HTTP server's connections; [DefaultTimeouts]
	// for what is zero.
	Timeouts Timeouts
	// BanDuration is how long a ban lasts; a day when zero.
	BanDuration time.Duration
	// LogOutput is where the desk logs; os.Stderr when nil.
	LogOutput io.Writer
	// LogLevel is the least level logged; Info by default.
	LogLevel slog.Level
}

// Timeouts are the HTTP server's bounds on a connection; see
// [net/http.Server] for each.
type Timeouts struct {
	// ReadHeader bounds reading a request's headers.
	ReadHeader time.Duration
	// Read bounds reading a whole request, body included: a client that
	// trickles its body is cut off.
	Read time.Duration
	// Write bounds the time from the end of reading a request's headers
	// to the end of writing the response.
	Write time.Duration
	// Idle bounds how long a keep-alive connection waits for its next
	// request.
	Idle time.Duration
	// MaxHeaderBytes bounds a request's headers.
	MaxHeaderBytes int
}

// DefaultTimeouts are the timeouts of a zero [Timeouts].
var DefaultTimeouts = Timeouts{
	ReadHeader:     5 * time.Second,
	Read:           15 * time.Second,
	Write:          30 * time.Second,
	Idle:           60 * time.Second,
	MaxHeaderBytes: 64 << 10,
}

func (t Timeouts) withDefaults() Timeouts {
	d := DefaultTimeouts
	t.ReadHeader = cmp.Or(t.ReadHeader, d.ReadHeader)
	t.Read = cmp.Or(t.Read, d.Read)
	t.Write = cmp.Or(t.Write, d.Write)
	t.Idle = cmp.Or(t.Idle, d.Idle)
	t.MaxHeaderBytes = cmp.Or(t.MaxHeaderBytes, d.MaxHeaderBytes)
	return t
}

func (c Config) withDefaults() Config {
	c.Addr = cmp.Or(c.Addr, DefaultAddr)
	c.Limits = c.Limits.withDefaults()
	c.Timeouts = c.Timeouts.withDefaults()
	c.BanDuration = cmp.Or(c.BanDuration, 24*time.Hour)
	if c.LogOutput == nil {
		c.LogOutput = os.Stderr
	}
	return c
}

// Module is the desk as an fx module: it provides the [Config] (the
// default, unless [WithConfig] gives one), a *slog.Logger, the
// [Telemetry] and its trace.TracerProvider, the [Store], the [Service],
// the [API] and the [Server], and the desk's own listener on
// [topics.ModerationBanRequested] ([NewBanListener]). It needs a bus:
// give bus.Module next to it, which builds the bus with the desk's tracer
// provider and logger.
//
// The modules of the desk's features (moderation, single sign-on, ...)
// are given next to it, and [Serve] last, at the top level:
// fx.New(bus.Module, desk.Module, moderation.Module, ..., desk.Serve).
// The app's main does it.
var Module = fx.Module("desk",
	fx.Provide(
		func() Config { return Config{}.withDefaults() },
		NewLogger,
		NewTelemetry,
		(*Telemetry).TracerProvider,
		NewStore,
		NewService,
		NewAPI,
		NewServer,
	),
	publishes,
	bus.Listen(topics.ModerationBanRequested, NewBanListener, bus.Rank(BanListenerRank)),
)

// Serve hooks the [Server] to the app's lifecycle. Give it last, at the
// top level of fx.New, not inside a module: fx runs the invocations of
// modules before those of the top level, and starts the hooks in the
// order they were appended, and stops them in reverse. So the server
// starts listening after every module has started (its plugins
// registered, its subscriptions in place), and, at stop, it stops
// accepting and finishes the requests in flight before any module stops:
// the webhooks drain only once nothing can publish any more.
var Serve = fx.Invoke(func(lc fx.Lifecycle, s *Server) {
	lc.Append(fx.Hook{OnStart: s.Start, OnStop: s.Stop})
})

// publishes declares every topic and hook the desk publishes, so that the
// bus knows who publishes what: its catalogue and graph show it, and it
// reports topics published with nobody listening.
var publishes = fx.Options(
	bus.Publishes(topics.BanCreated), // the ban listener's *bus.Publisher
	bus.PublishesAll(
		topics.ModerationBanRequested,
		topics.ChatStarted, topics.ChatMessageReceived, topics.ChatAgentConnected, topics.ChatEnded,
		topics.CronRun,
		topics.ObjectCreated, topics.ObjectUpdated, topics.ObjectDocumentDownloaded,
		topics.OperatorAuthenticate, topics.OperatorLoggedIn,
		topics.PageAddCSS, topics.PageAddJS,
		topics.ResourceNotFound, topics.RoutingAlter,
		topics.ThreadCreated, topics.ThreadUpdated, topics.ThreadClosed, topics.ThreadUserReady,
		topics.ThreadMessagePosting, topics.ThreadMessagesAlter, topics.ThreadFunctionCall,
		topics.VisitorCreated, topics.VisitorTracked,
	),
	bus.Runs(topics.UserLogin), bus.Runs(topics.UserRegister),
	bus.Runs(topics.DataCreate), bus.Runs(topics.DataUpdate),
	bus.Runs(topics.MessagingPublish),
)

// WithConfig gives the desk cfg, with defaults for what it leaves empty,
// instead of the default. Use it next to [Module], at most once.
func WithConfig(cfg Config) fx.Option {
	return fx.Decorate(func(Config) Config { return cfg.withDefaults() })
}

// NewLogger returns the desk's logger: text to cfg.LogOutput from
// cfg.LogLevel up.
func NewLogger(cfg Config) *slog.Logger {
	return slog.New(slog.NewTextHandler(cfg.LogOutput, &slog.HandlerOptions{Level: cfg.LogLevel}))
}

// FxLogger is an fx event logger writing to the desk's logger: fx's own
// events at Debug, its errors at Error. Use it with fx.WithLogger.
func FxLogger(log *slog.Logger) fxevent.Logger {
	l := &fxevent.SlogLogger{Logger: log}
	l.UseLogLevel(slog.LevelDebug)
	return l
}

// Server is the desk's HTTP server. It starts listening on [Config.Addr]
// when the app starts, serving the [API]'s handler wrapped by otelhttp, so
// that each request's server span is the parent of the spans of what it
// publishes; and it shuts down, letting requests in flight finish, when
// the app stops.
type Server struct {
	cfg Config
	api *API
	tp  trace.TracerProvider
	log *slog.Logger

	mu    sync.Mutex
	srv   *http.Server
	url   string
	ready chan struct{}
	done  chan struct{}
}

// NewServer returns the server; [Serve] hooks it to the app's lifecycle.
func NewServer(cfg Config, api *API, tp trace.TracerProvider, log *slog.Logger) *Server {
	return &Server{cfg: cfg, api: api, tp: tp, log: log, ready: make(chan struct{}), done: make(chan struct{})}
}

// Start listens on the configured address and serves in a goroutine of
// its own. The fx lifecycle calls it.
func (s *Server) Start(ctx context.Context) error {
	h, err := s.api.Handler(ctx)
	if err != nil {
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("desk: listen: %w", err)
	}
	t := s.cfg.Timeouts
	srv := &http.Server{
		Handler: otelhttp.NewHandler(h, "desk",
			otelhttp.WithTracerProvider(s.tp),
			otelhttp.WithPropagators(propagation.TraceContext{})),
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    t.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.mu.Lock()
	s.srv, s.url = srv, "http://"+ln.Addr().String()
	s.mu.Unlock()
	go func() {
		defer close(s.done)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("desk: server failed", "err", err)
		}
	}()
	close(s.ready)
	s.log.Info("desk: listening", "url", s.URL())
	return nil
}

// Stop shuts the server down: it stops listening, then waits for the
// requests in flight, until ctx is done. The fx lifecycle calls it.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Shutdown(ctx)
	select {
	case <-s.done:
	case <-ctx.Done():
		return cmp.Or(err, ctx.Err())
	}
	return err
}

// URL returns the server's base URL, such as "http://127.0.0.1:41234",
// once it has started; "" before.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Ready is closed once the server listens.
func (s *Server) Ready() <-chan struct{} { return s.ready }
