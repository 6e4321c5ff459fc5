package busdoc

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/fxbus/fxbus/bus"
)

// Graph is who publishes what and who listens: modules publish topics,
// topics reach listeners, grouped by the module (or plugin) that
// contributed them. Build it with [NewGraph]; render it with [Graph.DOT]
// or [Graph.Mermaid].
type Graph struct {
	// Modules are the modules and plugins, sorted.
	Modules []string
	// Topics are the topics, sorted.
	Topics []string
	// Publishes are the edges module -> topic.
	Publishes []Edge
	// Delivers are the edges topic -> module, labelled with the listeners,
	// in dispatch order.
	Delivers []Edge
	// Remotes are the places outside the process that topics come from or
	// go to, such as "nats:fxbus.topic.ban.added", sorted: the sources of
	// remote publishers (see [bus.PublisherInfo].Remote) and the
	// destinations of forwarding listeners (see [bus.ListenerInfo].Remote).
	Remotes []string
	// Imports are the edges remote -> topic: events that arrive from
	// outside the process.
	Imports []Edge
	// Exports are the edges topic -> remote, labelled with the forwarding
	// listener: events that leave the process.
	Exports []Edge
}

// Edge is an edge of a [Graph].
type Edge struct {
	From, To string
	// Label names the listeners of a delivery, comma-separated.
	Label string
}

// Unknown stands for the publisher or module of a topic that nobody
// declared.
const Unknown = "(undeclared)"

// NewGraph builds the graph of a catalogue. Topics without publishers or
// listeners still appear, so that orphans show.
func NewGraph(c bus.Catalog) Graph {
	var g Graph
	mods, remotes := map[string]bool{}, map[string]bool{}
	for _, t := range c.Topics {
		g.Topics = append(g.Topics, t.Name)
		seen := map[string]bool{}
		for _, p := range t.Publishers {
			if p.Remote != "" {
				remotes[p.Remote] = true
				g.Imports = append(g.Imports, Edge{From: p.Remote, To: t.Name})
				continue
			}
			m := cmpOr(p.Module, Unknown)
			mods[m] = true
			if !seen[m] {
				seen[m] = true
				g.Publishes = append(g.Publishes, Edge{From: m, To: t.Name})
			}
		}
		var order []string
		byOwner := map[string][]string{}
		for _, l := range t.Listeners {
			if l.Remote != "" {
				remotes[l.Remote] = true
				g.Exports = append(g.Exports, Edge{From: t.Name, To: l.Remote, Label: l.Name})
				continue
			}
			m := owner(l)
			if m == "-" {
				m = Unknown
			}
			if _, ok := byOwner[m]; !ok {
				order = append(order, m)
			}
			byOwner[m] = append(byOwner[m], l.Name)
			mods[m] = true
		}
		for _, m := range order {
			g.Delivers = append(g.Delivers, Edge{From: t.Name, To: m, Label: strings.Join(byOwner[m], ", ")})
		}
	}
	for m := range mods {
		g.Modules = append(g.Modules, m)
	}
	for r := range remotes {
		g.Remotes = append(g.Remotes, r)
	}
	slices.Sort(g.Modules)
	slices.Sort(g.Topics)
	slices.Sort(g.Remotes)
	return g
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// DOT writes the graph in Graphviz's DOT language: modules as boxes on the
// left and right, topics as ellipses between them, and places outside the
// process as arrow shapes, joined by dashed edges.
func (g Graph) DOT(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("digraph fxbus {\n")
	ew.printf("  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=8];\n")
	for _, m := range g.Modules {
		ew.printf("  %s [label=%s, shape=box, style=filled, fillcolor=\"#dbe9f6\"];\n", dotString("m:"+m), dotString(m))
	}
	for _, t := range g.Topics {
		ew.printf("  %s [label=%s, shape=ellipse];\n", dotString("t:"+t), dotString(t))
	}
	for _, e := range g.Publishes {
		ew.printf("  %s -> %s [label=\"publishes\", color=\"#2b6cb0\"];\n", dotString("m:"+e.From), dotString("t:"+e.To))
	}
	for _, e := range g.Delivers {
		ew.printf("  %s -> %s [label=%s];\n", dotString("t:"+e.From), dotString("m:"+e.To), dotString(e.Label))
	}
	for _, r := range g.Remotes {
		ew.printf("  %s [label=%s, shape=cds, style=filled, fillcolor=\"#fde9c9\"];\n", dotString("r:"+r), dotString(r))
	}
	for _, e := range g.Imports {
		ew.printf("  %s -> %s [label=\"imports\", style=dashed, color=\"#b7791f\"];\n", dotString("r:"+e.From), dotString("t:"+e.To))
	}
	for _, e := range g.Exports {
		ew.printf("  %s -> %s [label=%s, style=dashed, color=\"#b7791f\"];\n", dotString("t:"+e.From), dotString("r:"+e.To), dotString("exports ("+e.Label+")"))
	}
	ew.printf("}\n")
	return ew.err
}

func dotString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// Mermaid writes the graph as a Mermaid flowchart, which GitHub renders in
// Markdown.
func (g Graph) Mermaid(w io.Writer) error {
	ew := &errWriter{w: w}
	ids := map[string]string{}
	id := func(key string) string {
		if v, ok := ids[key]; ok {
			return v
		}
		v := fmt.Sprintf("n%d", len(ids))
		ids[key] = v
		return v
	}
	ew.printf("flowchart LR\n")
	for _, m := range g.Modules {
		ew.printf("  %s[%s]\n", id("m:"+m), mermaidText(m))
	}
	for _, t := range g.Topics {
		ew.printf("  %s([%s])\n", id("t:"+t), mermaidText(t))
	}
	for _, e := range g.Publishes {
		ew.printf("  %s -->|publishes| %s\n", id("m:"+e.From), id("t:"+e.To))
	}
	for _, e := range g.Delivers {
		ew.printf("  %s -->|%s| %s\n", id("t:"+e.From), mermaidText(e.Label), id("m:"+e.To))
	}
	for _, r := range g.Remotes {
		ew.printf("  %s>%s]\n", id("r:"+r), mermaidText(r))
	}
	for _, e := range g.Imports {
		ew.printf("  %s -.->|imports| %s\n", id("r:"+e.From), id("t:"+e.To))
	}
	for _, e := range g.Exports {
		ew.printf("  %s -.->|%s| %s\n", id("t:"+e.From), mermaidText("exports ("+e.Label+")"), id("r:"+e.To))
	}
	return ew.err
}

// mermaidText quotes s for a Mermaid label.
func mermaidText(s string) string {
	return `"` + strings.NewReplacer(`"`, "#quot;", "|", "#124;", "\n", " ").Replace(s) + `"`
}
