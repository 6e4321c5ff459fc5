package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// group describes how one benchmark family is tabulated.
type group struct {
	bench   string // the name after "Benchmark"
	title   string
	intro   string
	sizeKey string // the key whose values become column groups
	// baseKey=baseVal picks, among rows that agree on every other key, the
	// one the others are divided by; empty means no ratio column.
	baseKey, baseVal string
	noteCols         []string
	notes            map[string][]string // by row label
}

var groups = []group{
	{
		bench:   "Sync",
		title:   "Synchronous publish",
		intro:   "A small struct published to N handlers that each add one to a counter in it, in the publisher's goroutine, with the publisher's context. `× plain` is the median, over rounds, of the ratio to the plain loop in the same round.",
		sizeKey: "handlers", baseKey: "lib", baseVal: "plain",
		noteCols: []string{"rank order", "handler errors"},
		notes: map[string][]string{
			"plain":        {"slice order", "stops at the first"},
			"fxbus":        {"yes (`Rank`)", "stop at first, or run all; typed, names the listener"},
			"signals":      {"no (insertion order)", "`TryEmit` stops at the first"},
			"gookit-typed": {"yes (priority)", "stops at the first"},
			"gookit-map":   {"yes (priority)", "stops at the first"},
			"mustafaturan": {"no (registration order)", "cannot express: handlers return nothing"},
			"asaskevich":   {"no (subscription order)", "cannot express: results discarded"},
		},
	},
	{
		bench:    "Async",
		title:    "Asynchronous libraries, end to end (not comparable with the synchronous rows)",
		intro:    "Publish b.N events, then wait until every handler has seen every one; ns/op is the total over b.N. Handlers run on other goroutines and the publisher learns nothing of their outcome, so there is no ratio to the plain loop.",
		sizeKey:  "handlers",
		noteCols: []string{"mode", "rank order", "handler errors"},
		notes: map[string][]string{
			"kelindar":  {"queue per subscriber, flushed by a 500µs ticker", "no", "cannot express"},
			"watermill": {"gochannel, Publish blocks until every subscriber acked", "no", "Nack (redelivery) only"},
		},
	},
	{
		bench:   "Context",
		title:   "Contexts shaped like a server's (10 handlers)",
		intro:   "BenchmarkSync uses context.Background, which hides two costs. `deep`: a long-lived context eight values and a cancel deep, so there is a done channel to check before each handler and a chain for fxbus's depth lookup (ctx.Value) to walk. `fresh`: a new context per publish, as a request brings; every row pays for making it, and fxbus cannot reuse its cached depth frame. `plain-checked` is the plain loop plus the check fxbus promises: stop when the context is done before a handler. `× plain` is against `plain` with the same context (median of per-round ratios).",
		sizeKey: "handlers", baseKey: "lib", baseVal: "plain",
	},
	{
		bench:   "Tracing",
		title:   "Tracing: fxbus against the same spans made by hand",
		intro:   "OpenTelemetry SDK, no exporter. `direct` starts and ends the same spans (names, kinds, attributes, parents; checked with a span recorder before timing) around a plain loop. `unsampled` is ParentBased(NeverSample) under an unsampled remote parent: `direct` still starts a non-recording span per handler, `direct-skip` skips them when the publish span does not record, as fxbus does. `× direct` is against `direct` in the same mode (median of per-round ratios).",
		sizeKey: "handlers", baseKey: "impl", baseVal: "direct",
	},
	{
		bench:   "BusNew",
		title:   "bus.New alone",
		intro:   "Validating, sorting and freezing N listeners of one topic, without fx and without telemetry.",
		sizeKey: "listeners",
	},
	{
		bench:   "Startup",
		title:   "fx startup",
		intro:   "fx.New of an app with N listeners (options made once, outside the timer). `fx-group` is fx's own cost: N fx.Provide of plain values into a value group. `× fx-group` is against it (median of per-round ratios).",
		sizeKey: "listeners", baseKey: "kind", baseVal: "fx-group",
	},
}

// result is one benchmark line.
type result struct {
	nsOp, allocsOp float64
	hasAllocs      bool
}

type table struct {
	rows    []string            // row labels, in order of first appearance
	rowKeys map[string][]string // row label -> its key=value pairs (without size)
	sizes   []int
	cells   map[string]map[int][]result // row label -> size -> results
}

func main() {
	only := flag.String("groups", "", "comma-separated groups to print (default: all)")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: benchtable [-groups Sync,Tracing] bench.txt...")
		os.Exit(2)
	}
	tables := map[string]*table{}
	for _, path := range flag.Args() {
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		err = parse(f, tables)
		_ = f.Close()
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
			os.Exit(1)
		}
	}
	var want []string
	if *only != "" {
		want = strings.Split(*only, ",")
	}
	for _, g := range groups {
		if want != nil && !slices.Contains(want, g.bench) {
			continue
		}
		if t := tables[g.bench]; t != nil {
			render(os.Stdout, g, t)
		}
	}
}

func sizeKeyOf(bench string) string {
	for _, g := range groups {
		if g.bench == bench {
			return g.sizeKey
		}
	}
	return ""
}

// parse reads go test -bench output and adds its results to tables.
func parse(r io.Reader, tables map[string]*table) error {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(fields[1]); err != nil {
			continue // not a result line
		}
		name := fields[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i] // the GOMAXPROCS suffix
			}
		}
		parts := strings.Split(strings.TrimPrefix(name, "Benchmark"), "/")
		bench := parts[0]
		sizeKey := sizeKeyOf(bench)
		if sizeKey == "" {
			continue
		}
		size := -1
		var label []string
		var keys []string
		for _, p := range parts[1:] {
			k, v, ok := strings.Cut(p, "=")
			if !ok {
				return fmt.Errorf("%s: sub-benchmark %q is not key=value", name, p)
			}
			if k == sizeKey {
				n, err := strconv.Atoi(v)
				if err != nil {
					return fmt.Errorf("%s: size %q", name, v)
				}
				size = n
				continue
			}
			label = append(label, v)
			keys = append(keys, p)
		}
		if size < 0 {
			return fmt.Errorf("%s: no %s=", name, sizeKey)
		}
		var res result
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			switch fields[i+1] {
			case "ns/op":
				res.nsOp = v
			case "allocs/op":
				res.allocsOp, res.hasAllocs = v, true
			}
		}
		t := tables[bench]
		if t == nil {
			t = &table{rowKeys: map[string][]string{}, cells: map[string]map[int][]result{}}
			tables[bench] = t
		}
		row := strings.Join(label, " / ")
		if row == "" {
			row = bench
		}
		if _, ok := t.cells[row]; !ok {
			t.rows = append(t.rows, row)
			t.rowKeys[row] = keys
			t.cells[row] = map[int][]result{}
		}
		if !slices.Contains(t.sizes, size) {
			t.sizes = append(t.sizes, size)
			slices.Sort(t.sizes)
		}
		t.cells[row][size] = append(t.cells[row][size], res)
	}
	return sc.Err()
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func medians(rs []result) (ns, allocs float64, hasAllocs bool, n int) {
	var nss, as []float64
	for _, r := range rs {
		nss = append(nss, r.nsOp)
		if r.hasAllocs {
			as = append(as, r.allocsOp)
		}
	}
	return median(nss), median(as), len(as) > 0, len(rs)
}

// pairedRatio is the median, over runs, of the ratio of a row's ns/op to
// its baseline's in the same run: run.sh interleaves its rounds, so the k-th
// result of each benchmark comes from the same round, minutes apart at most
// from the baseline's, and a slow spell of a shared machine cancels out. With
// unequal counts it falls back to the ratio of the medians.
func pairedRatio(rs, base []result) float64 {
	if len(rs) != len(base) {
		ns, _, _, _ := medians(rs)
		bns, _, _, _ := medians(base)
		return ns / bns
	}
	ratios := make([]float64, len(rs))
	for i := range rs {
		ratios[i] = rs[i].nsOp / base[i].nsOp
	}
	return median(ratios)
}

// baseRow returns the label of the row that row is compared with: the one
// with baseKey=baseVal and every other key equal.
func baseRow(g group, t *table, row string) (string, bool) {
	want := slices.Clone(t.rowKeys[row])
	found := false
	for i, kv := range want {
		if k, _, _ := strings.Cut(kv, "="); k == g.baseKey {
			want[i] = g.baseKey + "=" + g.baseVal
			found = true
		}
	}
	if !found {
		return "", false
	}
	for _, r := range t.rows {
		if slices.Equal(t.rowKeys[r], want) {
			return r, true
		}
	}
	return "", false
}

func fmtNs(ns float64) string {
	switch {
	case ns >= 1e6:
		return strconv.FormatFloat(ns/1e6, 'f', 2, 64) + " ms"
	case ns >= 1e4:
		return strconv.FormatFloat(ns/1e3, 'f', 1, 64) + " µs"
	case ns >= 100:
		return strconv.FormatFloat(ns, 'f', 0, 64) + " ns"
	}
	return strconv.FormatFloat(ns, 'f', 1, 64) + " ns"
}

func render(w io.Writer, g group, t *table) {
	fmt.Fprintf(w, "### %s\n\n%s\n\n", g.title, g.intro)
	head := []string{"configuration"}
	align := []string{":--"}
	for _, s := range t.sizes {
		head = append(head, fmt.Sprintf("%s=%d ns/op", g.sizeKey, s), "allocs/op")
		align = append(align, "--:", "--:")
		if g.baseKey != "" {
			head = append(head, "× "+g.baseVal)
			align = append(align, "--:")
		}
	}
	for _, c := range g.noteCols {
		head = append(head, c)
		align = append(align, ":--")
	}
	fmt.Fprintf(w, "| %s |\n|%s|\n", strings.Join(head, " | "), strings.Join(align, "|"))
	runs := 0
	for _, row := range t.rows {
		cells := []string{"`" + row + "`"}
		for _, s := range t.sizes {
			rs := t.cells[row][s]
			if len(rs) == 0 {
				cells = append(cells, "", "")
				if g.baseKey != "" {
					cells = append(cells, "")
				}
				continue
			}
			ns, allocs, hasAllocs, n := medians(rs)
			runs = max(runs, n)
			a := ""
			if hasAllocs {
				a = strconv.FormatFloat(allocs, 'f', -1, 64)
			}
			cells = append(cells, fmtNs(ns), a)
			if g.baseKey != "" {
				ratio := ""
				if b, ok := baseRow(g, t, row); ok && len(t.cells[b][s]) > 0 {
					ratio = strconv.FormatFloat(pairedRatio(rs, t.cells[b][s]), 'f', 2, 64) + "x"
				}
				cells = append(cells, ratio)
			}
		}
		notes := g.notes[row]
		for i := range g.noteCols {
			if i < len(notes) {
				cells = append(cells, notes[i])
			} else {
				cells = append(cells, "")
			}
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	fmt.Fprintf(w, "\nMedians of %d runs.\n\n", runs)
}
