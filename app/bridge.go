package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"text/tabwriter"
	"time"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"

	"github.com/fxbus/fxbus/app/desk"
	"github.com/fxbus/fxbus/app/telemetry"
	"github.com/fxbus/fxbus/bridge"
	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/modules/analytics"
	"github.com/fxbus/fxbus/topics"
)

// deskBridge is what the desk sends to other services over NATS
// JetStream: bans, posted messages and ticket changes. bridge.Module
// connects to NATS_URL, or starts an embedded server.
var deskBridge = fx.Options(
	bridge.Module,
	bridge.Export(topics.BanCreated),
	bridge.Export(topics.ThreadMessagePosting),
	bridge.Export(topics.ObjectUpdated, bridge.WithCodec(objectCodec{})),
)

// analyticsGroup is the consumer group of the analytics service: its
// instances, in one process or several, share the work.
const analyticsGroup = "analytics"

// analyticsImports is what the analytics service receives from the desk.
var analyticsImports = fx.Options(
	bridge.Import(topics.BanCreated, bridge.Group(analyticsGroup)),
	bridge.Import(topics.ThreadMessagePosting, bridge.Group(analyticsGroup)),
	bridge.Import(topics.ObjectUpdated, bridge.Group(analyticsGroup), bridge.WithCodec(objectCodec{})),
	// Idempotent counting: an event's id is its message id, the same on
	// every delivery.
	fx.Supply(analytics.EventID(func(ctx context.Context) string {
		d, _ := bridge.DeliveryFrom(ctx)
		return d.MsgID
	})),
)

// analyticsService is the second service of the reference app: the
// analytics module in an fx app of its own, with its own bus, importing
// what the desk exports.
type analyticsService struct {
	app      *fx.App
	counts   *analytics.Counts
	conn     *bridge.Conn
	spans    *telemetry.SpanStore
	tp       *sdktrace.TracerProvider
	embedded bool // the desk's NATS server is embedded
}

// startAnalytics starts the analytics service, connected to the desk's
// NATS server: the embedded one, or NATS_URL's.
func startAnalytics(ctx context.Context, deskConn *bridge.Conn, log *slog.Logger) (*analyticsService, error) {
	a := &analyticsService{spans: telemetry.NewSpanStore(100_000), embedded: deskConn.Embedded()}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName("fxbus-analytics")))
	if err != nil {
		return nil, err
	}
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res), sdktrace.WithSpanProcessor(a.spans)}
	if os.Getenv("OTEL_TRACES_EXPORTER") != "" || os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" ||
		os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "" {
		exp, err := autoexport.NewSpanExporter(ctx)
		if err != nil {
			return nil, fmt.Errorf("analytics: trace exporter: %w", err)
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	a.tp = sdktrace.NewTracerProvider(opts...)
	var cfg bridge.Config
	if a.embedded {
		cfg.URL = deskConn.URL()
	}
	a.app = fx.New(
		fx.WithLogger(desk.FxLogger),
		fx.Supply(log, cfg),
		fx.Provide(func() trace.TracerProvider { return a.tp }),
		bus.Module,
		bridge.Module,
		analytics.Module,
		analyticsImports,
		fx.Populate(&a.counts, &a.conn),
	)
	if err := start(ctx, a.app); err != nil {
		return nil, errors.Join(err, a.tp.Shutdown(context.Background()))
	}
	return a, nil
}

// finish waits until the desk's exports are acknowledged and the
// analytics service has handled them, then stops it.
func (a *analyticsService) finish(ctx context.Context, deskConn *bridge.Conn) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := deskConn.Flush(ctx)
	if err == nil {
		err = a.conn.AwaitImports(ctx)
	}
	return errors.Join(err, a.stop())
}

func (a *analyticsService) stop() error {
	return errors.Join(stop(a.app), a.tp.Shutdown(context.Background()))
}

// printBridge writes what crossed from the desk to the analytics service:
// per subject, the events sent and received, how many of the receiving
// spans continue the sender's trace, and the analytics service's counts
// and summary.
func (a *analyticsService) printBridge(w io.Writer, tel *telemetry.Telemetry) error {
	sent, _ := tel.Spans.Ended()
	recv, _ := a.spans.Ended()
	type row struct{ sent, received, sameTrace int }
	rows := map[string]*row{}
	get := func(s string) *row {
		if rows[s] == nil {
			rows[s] = &row{}
		}
		return rows[s]
	}
	sendIDs := map[trace.SpanID]trace.TraceID{}
	for _, s := range sent {
		if s.SpanKind() == trace.SpanKindProducer && attr(s, "messaging.system") == "nats" {
			get(attr(s, "messaging.destination.name")).sent++
			sendIDs[s.SpanContext().SpanID()] = s.SpanContext().TraceID()
		}
	}
	for _, s := range recv {
		if s.SpanKind() == trace.SpanKindConsumer && attr(s, "messaging.system") == "nats" {
			r := get(attr(s, "messaging.destination.name"))
			r.received++
			if tid, ok := sendIDs[s.Parent().SpanID()]; ok && tid == s.SpanContext().TraceID() {
				r.sameTrace++
			}
		}
	}
	where := "NATS_URL"
	if a.embedded {
		where = "embedded server"
	}
	fmt.Fprintf(w, "\nbridged topics (NATS JetStream, %s), desk -> analytics service (group %q):\n", where, analyticsGroup)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SUBJECT\tSENT\tRECEIVED\tIN THE SENDER'S TRACE")
	subjects := make([]string, 0, len(rows))
	for s := range rows {
		subjects = append(subjects, s)
	}
	slices.Sort(subjects)
	for _, s := range subjects {
		r := rows[s]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", s, r.sent, r.received, r.sameTrace)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	c := a.counts.Snapshot()
	fmt.Fprintf(w, "\nanalytics counted: %d bans, messages %v, ticket changes %v (%d duplicates skipped)\n",
		c.Bans, c.Messages, c.TicketChanges, c.Duplicates)
	fmt.Fprintf(w, "\nanalytics service: %d spans; per topic, its publishes then its handlers:\n", len(recv))
	return telemetry.PrintSummary(w, telemetry.Summarize(recv))
}

func attr(s sdktrace.ReadOnlySpan, key string) string {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value.String()
		}
	}
	return ""
}

// objectCodec encodes object events, whose Object is an interface, with
// the object's class, so that the receiving side decodes the right type.
type objectCodec struct{}

type wireObjectUpdate struct {
	Class   string          `json:"class"`
	Object  json.RawMessage `json:"object"`
	Changes map[string]any  `json:"changes,omitempty"`
}

// objectClasses are the classes the codec decodes.
var objectClasses = map[string]func() topics.Object{
	"UserRequest": func() topics.Object { return new(topics.UserRequest) },
	"Incident":    func() topics.Object { return new(topics.Incident) },
	"Document":    func() topics.Object { return new(topics.Document) },
}

func (objectCodec) ContentType() string { return "application/json; fxbus=object-update" }

func (objectCodec) Marshal(v any) ([]byte, error) {
	u, ok := v.(*topics.ObjectUpdate)
	if !ok {
		return nil, fmt.Errorf("object codec: %T is no *topics.ObjectUpdate", v)
	}
	if u.Object == nil {
		return nil, errors.New("object codec: no object")
	}
	obj, err := json.Marshal(u.Object)
	if err != nil {
		return nil, err
	}
	return json.Marshal(wireObjectUpdate{Class: u.Object.Class(), Object: obj, Changes: u.Changes})
}

func (objectCodec) Unmarshal(data []byte, v any) error {
	u, ok := v.(*topics.ObjectUpdate)
	if !ok {
		return fmt.Errorf("object codec: %T is no *topics.ObjectUpdate", v)
	}
	var w wireObjectUpdate
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	mk, ok := objectClasses[w.Class]
	if !ok {
		return fmt.Errorf("object codec: unknown class %q", w.Class)
	}
	obj := mk()
	if err := json.Unmarshal(w.Object, obj); err != nil {
		return fmt.Errorf("object codec: %s: %w", w.Class, err)
	}
	u.Object, u.Changes = obj, w.Changes
	return nil
}
