package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/fxbus/fxbus/bus"
)

type Payment struct {
	Invoice, Email string
	Cents          int
}

var InvoicePaid = bus.NewTopic[Payment]("invoice.paid")

func main() {
	if err := run(os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(w io.Writer) error {
	ctx := context.Background()
	exp, err := newExporter(ctx, w)
	if err != nil {
		return err
	}
	// The batcher exports in the background, a batch at a time.
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(
		resource.NewSchemaless(semconv.ServiceName("fxbus-example-otlp"))))
	err = payInvoices(ctx, w, tp)

	// Shutdown exports what is still buffered, and waits for it: without
	// it, the last spans of a short program are lost.
	if err := errors.Join(err, tp.Shutdown(ctx)); err != nil {
		return err
	}
	fmt.Fprintln(w, "spans flushed")
	return nil
}

func payInvoices(ctx context.Context, w io.Writer, tp trace.TracerProvider) error {
	b, err := bus.New([]bus.Listener{
		bus.On(InvoicePaid, func(_ context.Context, p *Payment) error {
			fmt.Fprintf(w, "  %s marked paid: %d.%02d EUR\n", p.Invoice, p.Cents/100, p.Cents%100)
			return nil
		}, bus.Name("mark-paid"), bus.Rank(-10)),
		bus.On(InvoicePaid, func(_ context.Context, p *Payment) error {
			if p.Email == "" {
				return errors.New("no email address on file")
			}
			fmt.Fprintf(w, "  receipt sent to %s\n", p.Email)
			return nil
		}, bus.Name("send-receipt")),
	}, bus.WithTracerProvider(tp)) // without it, the bus makes no OpenTelemetry call at all
	if err != nil {
		return err
	}
	defer b.Close()

	for _, p := range []*Payment{
		{Invoice: "INV-1", Email: "ann@example.com", Cents: 12000},
		{Invoice: "INV-2", Cents: 4550},
	} {
		err := InvoicePaid.Publish(ctx, b, p)
		var herr *bus.HandlerError
		if errors.As(err, &herr) {
			fmt.Fprintf(w, "  %s failed: %v\n", herr.Listener, herr.Err)
		} else if err != nil {
			return err
		}
	}
	return nil
}

// newExporter returns an OTLP/HTTP exporter when an endpoint is set, and
// a stdout exporter otherwise.
func newExporter(ctx context.Context, w io.Writer) (sdktrace.SpanExporter, error) {
	endpoint := strings.TrimSpace(os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
	if endpoint == "" {
		endpoint = strings.TrimSpace(os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT"))
	}
	if endpoint == "" {
		fmt.Fprintln(w, "OTEL_EXPORTER_OTLP_ENDPOINT is not set: printing the spans to stdout")
		return stdouttrace.New(stdouttrace.WithWriter(w))
	}
	fmt.Fprintf(w, "exporting the spans to %s over OTLP/HTTP\n", endpoint)
	return otlptracehttp.New(ctx) // reads OTEL_EXPORTER_OTLP_* itself
}
