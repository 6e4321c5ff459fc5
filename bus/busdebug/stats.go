package busdebug

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// HandlerStats is what the statistics page shows of one handler: its
// calls since start, how many failed, and its latency.
type HandlerStats struct {
	// Topic and Listener name the handler.
	Topic, Listener string
	// Rank is the listener's rank.
	Rank int
	// Calls and Errors count its calls since start, and the failed ones.
	Calls, Errors int
	// P50 and P99 are the median and the 99th percentile of its durations.
	P50, P99 time.Duration
}

// FewSamples is the number of calls under which the statistics page marks
// a p99 as unreliable: with fewer than 100 samples, the 99th percentile is
// the largest or close to it.
const FewSamples = 100

type statsView struct {
	Rows   []statsRow
	Source bool
	Few    int
}

type statsRow struct {
	HandlerStats
	FirstOfTopic bool
	Few          bool
	ErrorRate    string
}

func (h *Handler) statsPage(w http.ResponseWriter, r *http.Request) {
	v := statsView{Few: FewSamples}
	if h.cfg.stats != nil {
		v.Source = true
		rows := slices.Clone(h.cfg.stats())
		slices.SortStableFunc(rows, func(a, b HandlerStats) int {
			return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Rank, b.Rank), cmp.Compare(a.Listener, b.Listener))
		})
		for i, s := range rows {
			row := statsRow{HandlerStats: s, Few: s.Calls < FewSamples, FirstOfTopic: i == 0 || rows[i-1].Topic != s.Topic}
			if s.Calls > 0 {
				row.ErrorRate = percent(s.Errors, s.Calls)
			}
			v.Rows = append(v.Rows, row)
		}
	}
	h.render(w, "stats.html", h.page("stats", "Statistics", v))
}

func percent(n, of int) string {
	p := float64(n) * 100 / float64(of)
	switch {
	case p == 0:
		return "0%"
	case p < 1:
		return "<1%"
	}
	return strconv.Itoa(int(p+0.5)) + "%"
}
