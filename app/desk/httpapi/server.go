package httpapi

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"

	"github.com/fxbus/fxbus/app/desk"
	"github.com/fxbus/fxbus/app/telemetry"
)

// Module provides the [API] over the desk's Service, the bus's debug page
// ([NewDebug]), and the [Server];
// [Serve] hooks the server to the app's lifecycle.
var Module = fx.Module("httpapi", fx.Provide(NewAPI, NewServer, NewDebug))

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

// Server is the desk's HTTP server. It starts listening on [desk.Config.Addr]
// when the app starts, serving the [API]'s handler wrapped by otelhttp, so
// that each request's server span is the parent of the spans of what it
// publishes; and it shuts down, letting requests in flight finish, when
// the app stops.
type Server struct {
	cfg desk.Config
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
func NewServer(cfg desk.Config, api *API, tp trace.TracerProvider, log *slog.Logger) *Server {
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
			otelhttp.WithPublicEndpointFn(telemetry.PublicEndpoint),
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
