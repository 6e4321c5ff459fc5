package busdebug

import (
	"cmp"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/busdoc"
)

// Layout of the graph, in SVG user units (pixels at 100%).
const (
	rowHeight = 26 // a node's slot
	nodeH     = 20
	charW     = 7 // an estimate of a character's width at the font size
	colGap    = 170
	margin    = 12
)

// node is a box of the graph's SVG.
type node struct {
	key, label, kind, href, title string
	x, y, w                       int
	order                         float64
}

// svgGraph lays out g in three columns, publishers → topics → listeners,
// and returns it as SVG. A module that both publishes and listens appears
// in both outer columns. Nodes of the outer columns sit level with the
// mean of their topics, pushed apart where they would overlap, which keeps
// most edges short and level.
func svgGraph(g busdoc.Graph, c bus.Catalog, prefix string) string {
	topicIdx := map[string]int{}
	var mid []*node
	for i, t := range g.Topics {
		topicIdx[t] = i
		desc := ""
		for _, ti := range c.Topics {
			if ti.Name == t {
				desc = ti.Description
			}
		}
		mid = append(mid, &node{key: t, label: t, kind: "topic", href: prefix + "/#topic-" + anchor(t), title: strings.TrimSpace(t + ": " + desc)})
	}
	left := map[string]*node{}
	right := map[string]*node{}
	type edge struct {
		from, to *node
		kind     string
		title    string
	}
	var edges []edge
	attach := func(side map[string]*node, key, label, kind string, topic string) *node {
		n := side[key]
		if n == nil {
			n = &node{key: key, label: label, kind: kind, title: label}
			side[key] = n
		}
		n.order += float64(topicIdx[topic])
		n.y++ // counts edges until placed
		return n
	}
	for _, e := range g.Publishes {
		n := attach(left, "m:"+e.From, e.From, "module", e.To)
		edges = append(edges, edge{n, mid[topicIdx[e.To]], "publishes", e.From + " publishes " + e.To})
	}
	for _, e := range g.Imports {
		n := attach(left, "r:"+e.From, e.From, "remote", e.To)
		edges = append(edges, edge{n, mid[topicIdx[e.To]], "imports", e.To + " is imported from " + e.From})
	}
	for _, e := range g.Delivers {
		n := attach(right, "m:"+e.To, e.To, "module", e.From)
		edges = append(edges, edge{mid[topicIdx[e.From]], n, "delivers", e.From + " → " + e.To + ": " + e.Label})
	}
	for _, e := range g.Exports {
		n := attach(right, "r:"+e.To, e.To, "remote", e.From)
		edges = append(edges, edge{mid[topicIdx[e.From]], n, "exports", e.From + " is exported to " + e.To + " by " + e.Label})
	}
	place := func(side map[string]*node) []*node {
		ns := make([]*node, 0, len(side))
		for _, n := range side {
			n.order /= float64(n.y) // the mean topic row
			n.y = 0
			ns = append(ns, n)
		}
		slices.SortFunc(ns, func(a, b *node) int { return cmp.Or(cmp.Compare(a.order, b.order), cmp.Compare(a.key, b.key)) })
		next := 0
		for _, n := range ns {
			y := int(n.order*rowHeight + 0.5)
			n.y = max(y, next)
			next = n.y + rowHeight
		}
		return ns
	}
	for i, n := range mid {
		n.y = i * rowHeight
	}
	lefts, rights := place(left), place(right)
	width := func(ns []*node) int {
		w := 60
		for _, n := range ns {
			w = max(w, len([]rune(n.label))*charW+16)
		}
		for _, n := range ns {
			n.w = w
		}
		return w
	}
	lw, mw, rw := width(lefts), width(mid), width(rights)
	x0 := margin
	x1 := x0 + lw + colGap
	x2 := x1 + mw + colGap
	height := 0
	for _, col := range [][]*node{lefts, mid, rights} {
		for _, n := range col {
			n.y += margin + 24
			height = max(height, n.y+rowHeight)
		}
	}
	for _, n := range lefts {
		n.x = x0
	}
	for _, n := range mid {
		n.x = x1
	}
	for _, n := range rights {
		n.x = x2
	}
	total := x2 + rw + margin
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="graph" role="img" aria-labelledby="graph-title graph-desc" width="%d" height="%d" viewBox="0 0 %d %d">`, total, height+margin, total, height+margin)
	fmt.Fprintf(&b, `<title id="graph-title">Modules publish topics; topics reach the listeners of modules and plugins</title>`)
	fmt.Fprintf(&b, `<desc id="graph-desc">%d publishing modules or sources on the left, %d topics in the middle, %d listening modules, plugins or destinations on the right.</desc>`, len(lefts), len(mid), len(rights))
	fmt.Fprintf(&b, `<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead"/></marker></defs>`)
	fmt.Fprintf(&b, `<g class="heads"><text x="%d" y="%d">publishers</text><text x="%d" y="%d">topics</text><text x="%d" y="%d">listeners</text></g>`, x0, margin+10, x1, margin+10, x2, margin+10)
	b.WriteString(`<g class="edges">`)
	for _, e := range edges {
		sx, sy := e.from.x+e.from.w, e.from.y+nodeH/2
		tx, ty := e.to.x, e.to.y+nodeH/2
		mx := (sx + tx) / 2
		fmt.Fprintf(&b, `<path class="edge %s" d="M%d %d C%d %d %d %d %d %d" marker-end="url(#arrow)"><title>%s</title></path>`,
			e.kind, sx, sy, mx, sy, mx, ty, tx-1, ty, esc(e.title))
	}
	b.WriteString(`</g><g class="nodes">`)
	for _, col := range [][]*node{lefts, mid, rights} {
		for _, n := range col {
			open, end := "<g", "</g>"
			if n.href != "" {
				open, end = `<a href="`+esc(n.href)+`"`, "</a>"
			}
			fmt.Fprintf(&b, `%s class="node %s"><title>%s</title><rect x="%d" y="%d" width="%d" height="%d" rx="4"/><text x="%d" y="%d">%s</text>%s`,
				open, n.kind, esc(n.title), n.x, n.y, n.w, nodeH, n.x+8, n.y+14, esc(n.label), end)
		}
	}
	b.WriteString(`</g></svg>`)
	return b.String()
}

func esc(s string) string { return template.HTMLEscapeString(s) }

type graphView struct {
	SVG    template.HTML
	Graph  busdoc.Graph
	Topics int
}

func (h *Handler) graph() (busdoc.Graph, bus.Catalog) {
	c := h.catalog()
	return busdoc.NewGraph(c), c
}

func (h *Handler) graphPage(w http.ResponseWriter, r *http.Request) {
	g, c := h.graph()
	// svgGraph escapes every text it writes.
	v := graphView{SVG: template.HTML(svgGraph(g, c, h.cfg.prefix)), Graph: g, Topics: len(g.Topics)}
	h.render(w, "graph.html", h.page("graph", "Graph", v))
}

func (h *Handler) graphSVG(w http.ResponseWriter, r *http.Request) {
	g, c := h.graph()
	w.Header().Set("Content-Type", "image/svg+xml")
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + svgGraph(g, c, h.cfg.prefix)))
}
