package desk

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
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
	// P50 and P99 are percentiles of the spans' durations.
	P50, P99 time.Duration
}

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
// calls, errors and p50/p99 latency. Spans of other instrumentation (HTTP,
// say) are ignored.
func Summarize(spans []sdktrace.ReadOnlySpan) []Row {
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
		}
		durations[k] = append(durations[k], s.EndTime().Sub(s.StartTime()))
	}
	out := make([]Row, 0, len(rows))
	for k, r := range rows {
		d := durations[k]
		slices.Sort(d)
		r.P50, r.P99 = percentile(d, 0.50), percentile(d, 0.99)
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
// name and rank; the other rows show their kind in parentheses.
func PrintSummary(w io.Writer, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TOPIC\tLISTENER\tRANK\tCALLS\tERRORS\tP50\tP99")
	for _, r := range rows {
		listener, rank := "("+r.Kind+")", ""
		if r.Kind == KindProcess {
			listener, rank = r.Listener, fmt.Sprint(r.Rank)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\n", r.Topic, listener, rank, r.Calls, r.Errors, round(r.P50), round(r.P99))
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
