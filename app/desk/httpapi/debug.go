package httpapi

import (
	"context"
	"net/http"
	"os"

	"go.uber.org/fx"

	"github.com/fxbus/fxbus/app/telemetry"
	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/busdebug"
	"github.com/fxbus/fxbus/topics"
)

// DebugPath is where the desk serves the bus's live debug page
// ([busdebug]): catalogue, graph, monitor and statistics, to operators
// only.
const DebugPath = "/debug/fxbus"

// EnvTraceURL is the environment variable holding the URL of a trace in
// the tracing UI, with "{trace_id}" for the id, such as
// "http://jaeger:16686/trace/{trace_id}": the debug page's monitor links
// each publish's trace there.
const EnvTraceURL = "FXBUS_TRACE_URL"

// NewDebug returns the debug page of the desk's bus: its catalogue lists
// every topic of [topics.All] with the field docs of [topics.FieldDocs];
// its statistics come from the spans the desk records (its span store
// keeps the first 100,000: past them, statistics stop growing); errors
// show their class only, as on the spans; every page has a Log out
// button for a browser's session (see the package's documentation). It is closed when the app
// stops, which ends the monitor's streams.
func NewDebug(lc fx.Lifecycle, b *bus.Bus, tel *telemetry.Telemetry) *busdebug.Handler {
	opts := []busdebug.Option{
		busdebug.WithPrefix(DebugPath),
		busdebug.WithTopics(topics.All()...),
		busdebug.WithFieldDocs(topics.FieldDocs),
		busdebug.WithStats(func() []busdebug.HandlerStats { return spanStats(tel) }),
		busdebug.WithLogout(DebugPath + "/logout"),
	}
	if u := os.Getenv(EnvTraceURL); u != "" {
		opts = append(opts, busdebug.WithTraceURL(u))
	}
	h := busdebug.New(b, opts...)
	lc.Append(fx.StopHook(func(context.Context) error { return h.Close() }))
	return h
}

// spanStats are the handlers' statistics as the spans the desk kept say.
func spanStats(tel *telemetry.Telemetry) []busdebug.HandlerStats {
	spans, _ := tel.Spans.Ended()
	var out []busdebug.HandlerStats
	for _, r := range telemetry.Summarize(spans) {
		if r.Kind != telemetry.KindProcess {
			continue
		}
		out = append(out, busdebug.HandlerStats{Topic: r.Topic, Listener: r.Listener, Rank: int(r.Rank),
			Calls: r.Calls, Errors: r.Errors, P50: r.P50, P99: r.P99})
	}
	return out
}

// debugPage: GET /debug/fxbus/..., as an operator: the bus's debug page.
// Its monitor's stream outlives the server's write timeout: busdebug
// extends the deadline at each write.
func (a *API) debugPage(w http.ResponseWriter, r *http.Request) error {
	if a.debug == nil {
		return nil
	}
	a.debug.ServeHTTP(w, r)
	return nil
}
