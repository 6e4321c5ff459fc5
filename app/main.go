package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"go.uber.org/fx"

	"github.com/fxbus/fxbus/app/demo"
	"github.com/fxbus/fxbus/app/desk"
	"github.com/fxbus/fxbus/app/desk/httpapi"
	"github.com/fxbus/fxbus/app/telemetry"
	"github.com/fxbus/fxbus/bridge"
)

// serveOptions are what serve mode adds: the bridge (NATS_URL, or an
// embedded server); without a webhooks.Config, the webhooks module has no
// endpoint.
var serveOptions = fx.Options(deskBridge)

// EnvSSOSecret is the environment variable from which serve mode reads
// the single sign-on secret, unless -sso-secret-file names a file.
const EnvSSOSecret = "FXBUS_SSO_SECRET"

// minSSOSecret is the shortest secret serve mode accepts, in bytes.
const minSSOSecret = 32

// Timeouts of starting and stopping the app.
const (
	startTimeout = 15 * time.Second
	stopTimeout  = 15 * time.Second
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage:
  app                           run the demo: start the desk, drive the scenario through
                                its HTTP API, stop it, and print the summary of its traces
  app serve [-addr host:port] [-sso-secret-file path]
                                serve the desk until interrupted (default -addr %s);
                                the single sign-on secret (32 bytes or more) comes from
                                the file, or else from $FXBUS_SSO_SECRET: serve refuses
                                to start without one
  app catalog [-format markdown|json]
                                print the catalogue of topics: grouped by area, when each
                                fires, its payload's fields, its publishers and listeners
  app listeners [topic]         print the dispatch table: every topic's listeners (or one
                                topic's) in dispatch order, with rank, module and source
  app graph [-format dot|mermaid] [-wired] [-areas]
                                print the graph modules -> publish -> topics -> listeners;
                                -wired leaves out the topics nothing publishes or hears,
                                -areas draws one node per area (thread.*) for an overview
  app help                      print this
`

// run runs the command in args and returns its exit status: 0 on
// success, 1 on failure, 2 on a usage error.
func run(args []string, stdout, stderr io.Writer) int {
	return runContext(context.Background(), args, stdout, stderr)
}

// runContext is run; serve mode also stops when ctx is done.
func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := "demo"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintf(stderr, usage, desk.DefaultAddr) }
	addr := desk.DefaultAddr
	var secretFile string
	var (
		format   string
		formats  []string // the formats the command accepts, the default first
		wired    bool
		areas    bool
		maxNArgs int // positional arguments accepted
	)
	switch cmd {
	case "demo":
	case "serve":
		fs.StringVar(&addr, "addr", addr, "the address to listen on")
		fs.StringVar(&secretFile, "sso-secret-file", "", "a file holding the single sign-on secret (default: $"+EnvSSOSecret+")")
	case "catalog":
		formats = []string{"markdown", "json"}
	case "listeners":
		maxNArgs = 1
	case "graph":
		formats = []string{"dot", "mermaid"}
		fs.BoolVar(&wired, "wired", false, "leave out the topics that nothing publishes or hears")
		fs.BoolVar(&areas, "areas", false, "one node per area of topics (thread.*, chat.*, ...) instead of one per topic")
	case "help", "-h", "-help", "--help":
		fmt.Fprintf(stdout, usage, desk.DefaultAddr)
		return 0
	default:
		fmt.Fprintf(stderr, "app: unknown command %q\n", cmd)
		fs.Usage()
		return 2
	}
	if formats != nil {
		fs.StringVar(&format, "format", formats[0], "the output format: "+strings.Join(formats, " or "))
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > maxNArgs {
		fmt.Fprintf(stderr, "app %s: unexpected arguments %q\n", cmd, fs.Args()[maxNArgs:])
		fs.Usage()
		return 2
	}
	if formats != nil && !slices.Contains(formats, format) {
		fmt.Fprintf(stderr, "app %s: unknown format %q (want %s)\n", cmd, format, strings.Join(formats, " or "))
		fs.Usage()
		return 2
	}
	var err error
	switch cmd {
	case "serve":
		var secret []byte
		if secret, err = ssoSecret(secretFile); err == nil {
			err = serve(ctx, addr, secret, stdout, stderr)
		}
	case "catalog":
		err = catalog(ctx, format, stdout, stderr)
	case "listeners":
		err = listeners(ctx, fs.Arg(0), stdout, stderr)
	case "graph":
		err = graph(ctx, graphOptions{format: format, wired: wired, areas: areas}, stdout, stderr)
	default:
		err = runDemo(ctx, stdout, stderr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "app %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

// runDemo starts the desk on a free loopback port, runs the scenario, stops
// the desk, which flushes its traces, and prints what the webhook
// receiver got and the summary of the traces.
func runDemo(ctx context.Context, stdout, stderr io.Writer) error {
	var (
		srv *httpapi.Server
		tel *telemetry.Telemetry
		rcv *demo.WebhookReceiver
	)
	var conn *bridge.Conn
	var log *slog.Logger
	secret := demo.NewSSOSecret()
	app := fx.New(demoWiring(stderr, secret), fx.Populate(&srv, &tel, &rcv, &conn, &log))
	if err := start(ctx, app); err != nil {
		return err
	}
	an, err := startAnalytics(ctx, conn, log)
	if err != nil {
		return errors.Join(err, stop(app))
	}
	fmt.Fprintf(stdout, "fxbus desk on %s (traces: memory, exporter: %s; metrics exporter: %s; NATS: %s)\n",
		srv.URL(), tel.Exporter, tel.MetricsExporter, conn.URL())
	fmt.Fprintf(stdout, "single sign-on secret: generated for this run only (serve needs $%s or -sso-secret-file)\n\n", EnvSSOSecret)
	rep, err := demo.RunScenario(ctx, srv.URL(), secret, stdout)
	if err != nil {
		return errors.Join(err, an.stop(), stop(app))
	}
	// A failed stop (an export that failed at the last flush, say) still
	// gets its summary, which says what was lost.
	err = errors.Join(an.finish(ctx, conn), stop(app))
	fmt.Fprintln(stdout)
	if err := demo.PrintDeliveries(stdout, rcv.Deliveries()); err != nil {
		return err
	}
	return errors.Join(summary(stdout, tel, rep.Steps), an.printBridge(stdout, tel), err)
}

// ssoSecret reads the single sign-on secret of serve mode: from file,
// if given, else from $FXBUS_SSO_SECRET. It refuses a missing or short
// one: serve never runs with a secret anyone could know.
func ssoSecret(file string) ([]byte, error) {
	from := "$" + EnvSSOSecret
	secret := []byte(os.Getenv(EnvSSOSecret))
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("-sso-secret-file: %w", err)
		}
		from, secret = file, bytes.TrimRight(b, "\r\n")
	}
	switch {
	case len(secret) == 0:
		return nil, fmt.Errorf("no single sign-on secret: set $%s, or -sso-secret-file, to %d random bytes or more, shared with the front end (such as the output of: openssl rand -base64 32)", EnvSSOSecret, minSSOSecret)
	case len(secret) < minSSOSecret:
		return nil, fmt.Errorf("the single sign-on secret in %s has %d bytes; it needs %d or more", from, len(secret), minSSOSecret)
	}
	return secret, nil
}

// serve serves the desk until SIGINT or SIGTERM, or until ctx is done;
// then it stops the desk and prints the summary of its traces.
func serve(ctx context.Context, addr string, secret []byte, stdout, stderr io.Writer) error {
	var (
		srv  *httpapi.Server
		tel  *telemetry.Telemetry
		conn *bridge.Conn
		log  *slog.Logger
	)
	app := fx.New(
		desk.Module,
		desk.WithConfig(desk.Config{Addr: addr, LogOutput: stderr, SSOSecret: secret}),
		wiring,
		serveOptions,
		fx.WithLogger(desk.FxLogger),
		fx.Populate(&srv, &tel, &conn, &log),
		httpapi.Serve,
	)
	if err := start(ctx, app); err != nil {
		return err
	}
	an, err := startAnalytics(ctx, conn, log)
	if err != nil {
		return errors.Join(err, stop(app))
	}
	signals := app.Wait() // from here on, SIGINT and SIGTERM stop the app
	fmt.Fprintf(stdout, "fxbus desk serving on %s (traces: memory, exporter: %s; metrics exporter: %s; NATS: %s); interrupt to stop\n",
		srv.URL(), tel.Exporter, tel.MetricsExporter, conn.URL())
	fmt.Fprintf(stdout, "bus debug page: %s%s/ (operators only: a browser signs in there with an operator's token, from POST /operators/login; other clients send it as a bearer token)\n", srv.URL(), httpapi.DebugPath)
	select {
	case sig := <-signals:
		fmt.Fprintf(stdout, "stopping: %v\n", sig.Signal)
	case <-ctx.Done():
		fmt.Fprintf(stdout, "stopping: %v\n", context.Cause(ctx))
	}
	err = errors.Join(an.stop(), stop(app))
	return errors.Join(summary(stdout, tel, nil), an.printBridge(stdout, tel), err)
}

func start(ctx context.Context, app *fx.App) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	return app.Start(ctx)
}

// stop stops the app, even when the context of the run is done.
func stop(app *fx.App) error {
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	return app.Stop(ctx)
}

// summary prints, per topic and per handler, calls, errors and latency, as
// the spans recorded them; then, for the demo's steps, each one's trace and
// the topics it fired. It fails when the exporter lost spans, after saying
// so, so that the command exits non-zero.
func summary(w io.Writer, tel *telemetry.Telemetry, steps []telemetry.Step) error {
	spans, dropped := tel.Spans.Ended()
	rows := telemetry.Summarize(spans, steps...)
	fmt.Fprintf(w, "\n%d spans recorded (%d dropped); per topic, its publishes then its handlers:\n", len(spans), dropped)
	if err := telemetry.PrintSummary(w, rows); err != nil {
		return err
	}
	if len(steps) > 0 {
		fmt.Fprintln(w, "\nthe scenario's steps, each with its trace id and the topics (and hooks) it fired:")
		if err := telemetry.PrintSteps(w, telemetry.TraceSteps(spans, steps)); err != nil {
			return err
		}
	}
	if lost, err := tel.Lost(); lost > 0 {
		fmt.Fprintf(w, "\n%d of %d spans LOST: the export to %s failed: %v\n", lost, len(spans), tel.Exporter, err)
		return fmt.Errorf("%d spans not exported to %s: %w", lost, tel.Exporter, err)
	}
	return nil
}
