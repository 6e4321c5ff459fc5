package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"

	"go.uber.org/fx"

	"github.com/fxbus/fxbus/app/demo"
	"github.com/fxbus/fxbus/app/desk"
	"github.com/fxbus/fxbus/app/desk/httpapi"
	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/busdoc"
	"github.com/fxbus/fxbus/topics"
)

// demoWiring is the desk as demo mode wires it: the desk, its modules and
// the demo's webhook endpoint, logging from Warn up to stderr. The demo and
// the wiring commands (catalog, listeners, graph) share it, so that what
// the commands show is what the demo runs.
func demoWiring(stderr io.Writer, ssoSecret []byte) fx.Option {
	return fx.Options(
		desk.Module,
		desk.WithConfig(desk.Config{LogOutput: stderr, LogLevel: slog.LevelWarn, SSOSecret: ssoSecret}),
		wiring,
		demo.Module,
		deskBridge,
		fx.WithLogger(desk.FxLogger),
		httpapi.Serve,
	)
}

// appCatalog returns the catalogue of the reference app's bus, with the
// field docs of topics.FieldDocs, and with every topic of topics.All, heard
// or not.
//
// It builds the app as demo mode does, starts it and stops it at once:
// the plugins (the widget's, the webhook endpoints') subscribe when the app
// starts, so only a started app shows them among the listeners. Starting
// also starts the desk's HTTP server on a free loopback port and the
// demo's webhook receiver, for the moment between start and stop; nothing
// is published.
func appCatalog(ctx context.Context, stderr io.Writer) (bus.Catalog, error) {
	var b *bus.Bus
	app := fx.New(demoWiring(stderr, demo.NewSSOSecret()), fx.Populate(&b))
	if err := start(ctx, app); err != nil {
		return bus.Catalog{}, err
	}
	c := b.Catalog() // before stop: stopping unregisters the plugins and closes the bus
	if err := stop(app); err != nil {
		return bus.Catalog{}, err
	}
	return busdoc.AddFieldDocs(withTopics(c, topics.All()...), topics.FieldDocs), nil
}

// withTopics returns c with each of ts that c lacks added, without
// listeners or publishers, in c's order (by name). Under fx, the bus knows
// only the topics that have a listener or a declared publisher: bus.Module
// takes no bus.WithTopics.
func withTopics(c bus.Catalog, ts ...bus.AnyTopic) bus.Catalog {
	out := bus.Catalog{Topics: slices.Clone(c.Topics)}
	for _, t := range ts {
		if !slices.ContainsFunc(out.Topics, func(ti bus.TopicInfo) bool { return ti.Name == t.Name() }) {
			ti := t.Info()
			ti.Listeners = []bus.ListenerInfo{}
			out.Topics = append(out.Topics, ti)
		}
	}
	slices.SortStableFunc(out.Topics, func(a, b bus.TopicInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// moduleRoot returns the module's root directory as this file was
// compiled: the listeners' and publishers' sources are recorded the same
// way (runtime.Caller), so they are shown relative to it wherever the
// command runs. It returns "" when the build trimmed the paths
// (-trimpath); the sources are then shown as recorded.
func moduleRoot() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return ""
	}
	return filepath.Dir(filepath.Dir(file)) // <root>/app/catalog.go
}

// docOptions are the renderings' options: sources relative to the module
// root.
func docOptions() busdoc.Options { return busdoc.Options{Root: moduleRoot()} }

// catalog writes the app's catalogue as Markdown or JSON.
func catalog(ctx context.Context, format string, stdout, stderr io.Writer) error {
	c, err := appCatalog(ctx, stderr)
	if err != nil {
		return err
	}
	if format == "json" {
		return busdoc.JSON(stdout, relSources(c, moduleRoot()))
	}
	return busdoc.Markdown(stdout, c, docOptions())
}

// errNoTopic is the cause of the listeners command's error for a topic the
// app does not know.
var errNoTopic = errors.New("no such topic")

// listeners writes the app's dispatch table: of every topic, or of topic
// when it is not "".
func listeners(ctx context.Context, topic string, stdout, stderr io.Writer) error {
	c, err := appCatalog(ctx, stderr)
	if err != nil {
		return err
	}
	if topic != "" && !slices.ContainsFunc(c.Topics, func(t bus.TopicInfo) bool { return t.Name == topic }) {
		return fmt.Errorf("%w: %q (see: app catalog)", errNoTopic, topic)
	}
	return busdoc.Listeners(stdout, c, topic, docOptions())
}

// graphOptions choose what the graph shows.
type graphOptions struct {
	format string // "dot" or "mermaid"
	wired  bool   // only the topics with a publisher or a listener
	areas  bool   // one node per area of topics instead of one per topic
}

// graph writes the graph of who publishes what and who listens.
func graph(ctx context.Context, o graphOptions, stdout, stderr io.Writer) error {
	c, err := appCatalog(ctx, stderr)
	if err != nil {
		return err
	}
	if o.wired {
		c = wiredOnly(c)
	}
	if o.areas {
		c = byArea(c)
	}
	g := busdoc.NewGraph(c)
	if o.format == "mermaid" {
		return g.Mermaid(stdout)
	}
	return g.DOT(stdout)
}

// wiredOnly returns the topics of c that have a publisher or a listener.
func wiredOnly(c bus.Catalog) bus.Catalog {
	return bus.Catalog{Topics: slices.DeleteFunc(slices.Clone(c.Topics), func(t bus.TopicInfo) bool {
		return len(t.Publishers) == 0 && len(t.Listeners) == 0
	})}
}

// maxAreaNames is how many listeners of one module or plugin the area
// graph names on an edge; more are counted instead.
const maxAreaNames = 3

// byArea returns c with the topics of each area (see busdoc.Area) merged
// into one, named "<area>.*": its publishers are the area's topics'
// publishing modules, and its listeners their listeners, each once, in
// order of first appearance; a module or plugin with more than
// maxAreaNames of them in the area gets one listener "<n> listeners".
func byArea(c bus.Catalog) bus.Catalog {
	out := mergeAreas(c)
	for i := range out.Topics {
		t := &out.Topics[i]
		count := map[string]int{}
		for _, l := range t.Listeners {
			count[owner(l)]++
		}
		var ls []bus.ListenerInfo
		counted := map[string]bool{}
		for _, l := range t.Listeners {
			n := count[owner(l)]
			if n <= maxAreaNames {
				ls = append(ls, l)
			} else if !counted[owner(l)] {
				counted[owner(l)] = true
				l.Name = fmt.Sprintf("%d listeners", n)
				ls = append(ls, l)
			}
		}
		t.Listeners = ls
	}
	return out
}

func mergeAreas(c bus.Catalog) bus.Catalog {
	var out bus.Catalog
	for _, t := range c.Topics { // sorted by name, so an area's topics are adjacent
		name := busdoc.Area(t.Name) + ".*"
		if n := len(out.Topics); n == 0 || out.Topics[n-1].Name != name {
			out.Topics = append(out.Topics, bus.TopicInfo{Name: name})
		}
		a := &out.Topics[len(out.Topics)-1]
		for _, p := range t.Publishers {
			if !slices.ContainsFunc(a.Publishers, func(q bus.PublisherInfo) bool { return q.Module == p.Module }) {
				a.Publishers = append(a.Publishers, p)
			}
		}
		for _, l := range t.Listeners {
			if !slices.ContainsFunc(a.Listeners, func(m bus.ListenerInfo) bool { return m.Name == l.Name && owner(m) == owner(l) }) {
				a.Listeners = append(a.Listeners, l)
			}
		}
	}
	return out
}

// relSources returns c with its listeners' and publishers' source files
// relative to root, as busdoc.Options.Root shows them, when they are under
// it: JSON then reads the same on every machine.
func relSources(c bus.Catalog, root string) bus.Catalog {
	if root == "" {
		return c
	}
	rel := func(s bus.Source) bus.Source {
		if r, err := filepath.Rel(root, s.File); err == nil && filepath.IsAbs(s.File) && !strings.HasPrefix(r, "..") {
			s.File = filepath.ToSlash(r)
		}
		return s
	}
	out := bus.Catalog{Topics: slices.Clone(c.Topics)}
	for i := range out.Topics {
		t := &out.Topics[i]
		t.Listeners = slices.Clone(t.Listeners)
		for j := range t.Listeners {
			t.Listeners[j].Source = rel(t.Listeners[j].Source)
		}
		t.Publishers = slices.Clone(t.Publishers)
		for j := range t.Publishers {
			t.Publishers[j].Source = rel(t.Publishers[j].Source)
		}
	}
	return out
}

// dispatchTable writes, for each topic with listeners, its listeners in
// dispatch order: position, name, rank, and the module or plugin that
// contributed it. It leaves sources out, so that it changes only when the
// order does: the golden snapshot of the tests.
func dispatchTable(w io.Writer, c bus.Catalog) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	first := true
	for _, t := range c.Topics {
		if len(t.Listeners) == 0 {
			continue
		}
		if !first {
			fmt.Fprintln(tw)
		}
		first = false
		fmt.Fprintf(tw, "%s\n", t.Name)
		for i, l := range t.Listeners {
			fmt.Fprintf(tw, "  #%d\t%s\trank %d\t%s\n", i+1, l.Name, l.Rank, owner(l))
		}
	}
	return tw.Flush()
}

// owner is who contributed a listener, as busdoc shows it.
func owner(l bus.ListenerInfo) string {
	switch {
	case l.Plugin != "":
		return "plugin " + l.Plugin
	case l.Module != "":
		return l.Module
	}
	return "-"
}
