package telemetry

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Row is one line of the summary: a topic's publishes, one listener's
// handling of a topic, or a hook's calls or its operation's.
type Row struct {
	// Topic is the topic's name, or the hook's.
	Topic string
	// Kind is what the row counts: [KindPublish], [KindProcess], [KindHook]
	// or [KindOperation].
	Kind string
	// Listener is the listener's name, for a KindProcess row.
	Listener string
	// Rank is the listener's rank, for a KindProcess row.
	Rank int64
	// Calls and Errors count the spans, and those with an error status.
	Calls, Errors int
	// Refused counts the errors inside the traces of requests the desk
	// refused on purpose (a 4xx answer, such as a forged sign-in): the
	// service did what it should.
	Refused int
	// P50 and P99 are percentiles of the spans' durations, Max the longest.
	// A P99 means something from [MinCallsP99] calls on; below that it is
	// the maximum.
	P50, P99, Max time.Duration
}

// MinCallsP99 is how many calls a row needs for its p99 to say more than
// its maximum: with fewer, the nearest-rank p99 is the maximum.
const MinCallsP99 = 100

// The kinds of [Row].
const (
	KindPublish   = "publish"   // a topic's publishes
	KindProcess   = "process"   // a listener's handling of a topic
	KindHook      = "hook"      // a hook's calls, before and after stages included
	KindOperation = "operation" // the operation inside a hook
)

var kindOrder = map[string]int{KindPublish: 0, KindHook: 1, KindOperation: 2, KindProcess: 3}

// Summarize reads the fxbus spans back: per topic (or hook), its publishes
// (or calls and operation), then its listeners in rank order, each with
// calls, errors and latency. Spans of other instrumentation (HTTP, say) are
// ignored. steps, when given, tell which errors were refusals the scenario
// meant (see [Row.Refused]).
func Summarize(spans []sdktrace.ReadOnlySpan, steps ...Step) []Row {
	refused := map[string]bool{}
	for _, st := range steps {
		if st.TraceID != "" && st.Status >= 400 && st.Status < 500 {
			refused[st.TraceID] = true
		}
	}
	type key struct{ topic, kind, listener string }
	durations := map[key][]time.Duration{}
	rows := map[key]*Row{}
	for _, s := range spans {
		var topic, listener, system, hook, stage string
		var rank int64
		for _, kv := range s.Attributes() {
			switch kv.Key {
			case "messaging.system":
				system = kv.Value.AsString()
			case "messaging.destination.name":
				topic = kv.Value.AsString()
			case "fxbus.listener.name":
				listener = kv.Value.AsString()
			case "fxbus.listener.rank":
				rank = kv.Value.AsInt64()
			case "fxbus.hook.name":
				hook = kv.Value.AsString()
			case "fxbus.hook.stage":
				stage = kv.Value.AsString()
			}
		}
		if system != "fxbus" {
			continue
		}
		kind := KindPublish
		switch {
		case listener != "":
			kind = KindProcess
		case topic == "" && hook != "" && stage == KindOperation:
			topic, kind = hook, KindOperation
		case topic == "" && hook != "":
			topic, kind = hook, KindHook
		}
		k := key{topic, kind, listener}
		r := rows[k]
		if r == nil {
			r = &Row{Topic: topic, Kind: kind, Listener: listener, Rank: rank}
			rows[k] = r
		}
		r.Calls++
		if s.Status().Code == codes.Error {
			r.Errors++
			if refused[s.SpanContext().TraceID().String()] {
				r.Refused++
			}
		}
		durations[k] = append(durations[k], s.EndTime().Sub(s.StartTime()))
	}
	out := make([]Row, 0, len(rows))
	for k, r := range rows {
		d := durations[k]
		slices.Sort(d)
		r.P50, r.P99, r.Max = percentile(d, 0.50), percentile(d, 0.99), d[len(d)-1]
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b Row) int {
		return cmp.Or(
			cmp.Compare(a.Topic, b.Topic),
			cmp.Compare(kindOrder[a.Kind], kindOrder[b.Kind]),
			cmp.Compare(a.Rank, b.Rank),
			cmp.Compare(a.Listener, b.Listener),
		)
	})
	return out
}

// percentile returns the nearest-rank percentile p of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}

// PrintSummary writes rows as an aligned table: a listener's row shows its
// name and rank; the other rows show their kind in parentheses, explained
// under the table. Latency shows what the number of calls supports: the
// one duration of a single call; the median and the maximum of a few; the
// p99 too from [MinCallsP99] calls on.
func PrintSummary(w io.Writer, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TOPIC\tLISTENER\tRANK\tCALLS\tERRORS\tMEDIAN\tMAX\tP99")
	kinds := map[string]bool{}
	refused := false
	for _, r := range rows {
		listener, rank := "("+r.Kind+")", ""
		if r.Kind == KindProcess {
			listener, rank = r.Listener, fmt.Sprint(r.Rank)
		} else {
			kinds[r.Kind] = true
		}
		errs := fmt.Sprint(r.Errors)
		switch {
		case r.Refused > 0 && r.Refused == r.Errors:
			errs += " refused"
			refused = true
		case r.Refused > 0:
			errs += fmt.Sprintf(" (%d refused)", r.Refused)
			refused = true
		}
		median, maxd, p99 := round(r.P50).String(), round(r.Max).String(), "-"
		if r.Calls == 1 {
			median, maxd = round(r.P50).String(), "-"
		}
		if r.Calls >= MinCallsP99 {
			p99 = round(r.P99).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", r.Topic, listener, rank, r.Calls, errs, median, maxd, p99)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	legend := []struct{ kind, text string }{
		{KindPublish, "the topic's publishes, each a span around all of its handlers"},
		{KindHook, "a hook's calls: its before stage, its operation and its after stage"},
		{KindOperation, "the operation a hook wraps, between its before and after stages"},
	}
	for _, l := range legend {
		if kinds[l.kind] {
			fmt.Fprintf(w, "  %-12s %s\n", "("+l.kind+")", l.text)
		}
	}
	fmt.Fprintf(w, "  %-12s %s\n", "other rows", "a listener's handler on the topic, in dispatch (rank) order")
	fmt.Fprintf(w, "  %-12s median and max over the calls (one call: its duration); p99 from %d calls on\n", "latency", MinCallsP99)
	if refused {
		fmt.Fprintf(w, "  %-12s %s\n", "refused", "errors in requests the desk refused with a 4xx answer, as the scenario means it to")
		fmt.Fprintf(w, "  %-12s %s\n", "", "(a forged sign-in, a banned visitor): the service working as designed, not a defect")
	}
	return nil
}

// Step is one request of a scripted run, such as the demo's scenario, and
// what came back: what [Summarize] and [TraceSteps] link to its trace.
type Step struct {
	// Name says what the step does, such as "operator signs in (SSO)".
	Name string
	// Request is the method and path, such as "POST /threads".
	Request string
	// Status is the HTTP status of the answer; zero when skipped.
	Status int
	// Result says what came back, or why the step was skipped.
	Result string
	// Skipped is set for a step that an earlier result made pointless.
	Skipped bool
	// TraceID is the trace of the request, from the desk's traceresponse
	// header; "" when it sent none.
	TraceID string
}

// StepTrace is a scenario step with what its request fired.
type StepTrace struct {
	Step
	// Topics are the topics published and hooks run in the step's trace,
	// in the order they started, each once.
	Topics []string
	// Errors counts the fxbus spans with an error status in the trace.
	Errors int
}

// TraceSteps links each step of the scenario to its trace, by the trace
// id the desk answered with: the topics its request published, in order.
func TraceSteps(spans []sdktrace.ReadOnlySpan, steps []Step) []StepTrace {
	type pub struct {
		name  string
		start time.Time
	}
	byTrace := map[string][]pub{}
	errs := map[string]int{}
	for _, s := range spans {
		name, system := "", ""
		for _, kv := range s.Attributes() {
			switch kv.Key {
			case "messaging.system":
				system = kv.Value.AsString()
			case "messaging.operation.name":
				if kv.Value.AsString() == "publish" {
					name = strings.TrimPrefix(s.Name(), "publish ")
				}
			case "fxbus.hook.name":
				if s.Name() == "hook "+kv.Value.AsString() {
					name = kv.Value.AsString() + " (hook)"
				}
			}
		}
		if system != "fxbus" {
			continue
		}
		id := s.SpanContext().TraceID().String()
		if s.Status().Code == codes.Error {
			errs[id]++
		}
		if name != "" {
			byTrace[id] = append(byTrace[id], pub{name, s.StartTime()})
		}
	}
	out := make([]StepTrace, 0, len(steps))
	for _, st := range steps {
		t := StepTrace{Step: st, Errors: errs[st.TraceID]}
		ps := byTrace[st.TraceID]
		slices.SortStableFunc(ps, func(a, b pub) int { return a.start.Compare(b.start) })
		for _, p := range ps {
			if !slices.Contains(t.Topics, p.name) {
				t.Topics = append(t.Topics, p.name)
			}
		}
		out = append(out, t)
	}
	return out
}

// PrintSteps writes, per step, its answer's status, its trace id (to look
// up in a trace viewer) and the topics it fired.
func PrintSteps(w io.Writer, steps []StepTrace) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tSTATUS\tTRACE\tTOPICS")
	for i, st := range steps {
		status, trace := fmt.Sprint(st.Status), st.TraceID
		switch {
		case st.Skipped:
			status, trace = "skipped", "-"
		case trace == "":
			trace = "-"
		}
		if st.Status >= 400 && st.Status < 500 {
			status += " refused"
		}
		topics := strings.Join(st.Topics, ", ")
		if topics == "" {
			topics = "-"
		}
		fmt.Fprintf(tw, "%2d %s\t%s\t%s\t%s\n", i+1, st.Name, status, trace, topics)
	}
	return tw.Flush()
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	case d >= time.Microsecond:
		return d.Round(100 * time.Nanosecond)
	}
	return d
}
