package desk

import (
	"cmp"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"time"

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

// Module is the desk's domain as an fx module: it provides the [Config]
// (the default, unless [WithConfig] gives one), a *slog.Logger, the
// [Store] and the [Service], and the desk's own listener on
// [topics.ModerationBanRequested] ([NewBanListener]). It needs a bus:
// give bus.Module next to it, which builds the bus with the desk's logger
// and, with telemetry.Module (package app/telemetry), its tracer and meter
// providers.
//
// The HTTP API is httpapi.Module. The modules of the desk's features
// (moderation, single sign-on, ...) are given next to it, and
// httpapi.Serve last, at the top level: fx.New(bus.Module,
// telemetry.Module, desk.Module, httpapi.Module, moderation.Module, ...,
// httpapi.Serve). The app's main does it.
var Module = fx.Module("desk",
	fx.Provide(
		func() Config { return Config{}.withDefaults() },
		NewLogger,
		NewStore,
		NewService,
	),
	publishes,
	bus.Listen(topics.ModerationBanRequested, NewBanListener, bus.Rank(BanListenerRank)),
)

// publishes declares every topic and hook the desk publishes, so that the
// bus knows who publishes what: its catalogue and graph show it, and it
// reports topics published with nobody listening.
var publishes = fx.Options(
	bus.Publishes(
		topics.BanCreated,
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
	bus.Publishes(topics.UserLogin.Before(), topics.UserLogin.After()), bus.Publishes(topics.UserRegister.Before(), topics.UserRegister.After()),
	bus.Publishes(topics.DataCreate.Before(), topics.DataCreate.After()), bus.Publishes(topics.DataUpdate.Before(), topics.DataUpdate.After()),
	bus.Publishes(topics.MessagingPublish.Before(), topics.MessagingPublish.After()),
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
