package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/internal/dottest"
	"github.com/fxbus/fxbus/topics"
)

var update = flag.Bool("update", false, "rewrite testdata/dispatch.golden from the app's wiring")

// runOK runs the command in args, requires it to succeed, and returns
// what it printed.
func runOK(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	require.Equal(t, 0, code, "app %s: stderr: %s", strings.Join(args, " "), stderr.String())
	return stdout.String()
}

// theCatalog is the app's catalogue, built once for the tests that need
// it rather than a command's output.
var theCatalog = sync.OnceValues(func() (bus.Catalog, error) {
	var stderr bytes.Buffer
	c, err := appCatalog(context.Background(), &stderr)
	if err != nil {
		return c, fmt.Errorf("%w; stderr: %s", err, stderr.String())
	}
	return c, nil
})

func appCatalogT(t *testing.T) bus.Catalog {
	t.Helper()
	c, err := theCatalog()
	require.NoError(t, err)
	return c
}

func TestCatalogMarkdown(t *testing.T) {
	out := runOK(t, "catalog")

	assert.True(t, strings.HasPrefix(out, "# Topics\n"), out[:min(len(out), 200)])
	for _, area := range []string{"ban", "chat", "object", "operator", "page", "thread", "user", "visitor"} {
		assert.Contains(t, out, "\n## "+area+"\n", "area %s", area)
		assert.Contains(t, out, fmt.Sprintf("* [%s](#%s): ", area, area), "table of contents")
	}
	for _, tp := range topics.All() {
		assert.Contains(t, out, "\n### "+tp.Name()+"\n", "every topic, heard or not")
	}

	// A topic with its description, payload items with their docs, publisher
	// and listeners in order, sources relative to the module root.
	section := markdownSection(t, out, "thread.message_posting")
	assert.Contains(t, section, topics.ThreadMessagePosting.Info().Description)
	assert.Contains(t, section, "Payload: `topics.MessagePosting`.")
	docs := topics.FieldDocs["topics.MessagePosting"]
	require.NotEmpty(t, docs)
	for name, doc := range docs {
		assert.Regexp(t, "\\* `"+name+"` \\(`[^`]+`\\): "+regexp.QuoteMeta(doc)+"\n", section)
	}
	assert.Regexp(t, "Published by: desk \\(`app/desk/fx\\.go:\\d+`\\)\\.", section)
	assert.Regexp(t, "\\| 1 \\| `moderation\\.NewModerate` \\| -10 \\| moderation \\| `modules/moderation/moderation\\.go:\\d+` \\|\n"+
		"\\| 2 \\| `stats\\.NewOnMessage` \\| 100 \\| stats \\| `modules/stats/stats\\.go:\\d+` \\|\n", section)

	// A topic nothing publishes or hears is listed with its payload.
	section = markdownSection(t, out, "button.generated")
	assert.Contains(t, section, "Payload: `topics.")
	assert.NotContains(t, section, "Published by")
	assert.NotContains(t, section, "| # |")

	root := moduleRoot()
	require.NotEmpty(t, root)
	assert.NotContains(t, out, root+string(filepath.Separator), "sources are relative to the module root")
}

// markdownSection returns the section "### topic" of a catalogue.
func markdownSection(t *testing.T, md, topic string) string {
	t.Helper()
	_, rest, ok := strings.Cut(md, "\n### "+topic+"\n")
	require.True(t, ok, "no section %s", topic)
	if i := strings.Index(rest, "\n#"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

func TestCatalogJSON(t *testing.T) {
	out := runOK(t, "catalog", "-format", "json")

	var c bus.Catalog
	require.NoError(t, json.Unmarshal([]byte(out), &c))
	names := map[string]bus.TopicInfo{}
	for _, ti := range c.Topics {
		names[ti.Name] = ti
	}
	for _, tp := range topics.All() {
		assert.Contains(t, names, tp.Name())
	}
	assert.Len(t, c.Topics, len(names), "each topic once")

	mp := names["thread.message_posting"]
	assert.Equal(t, "topics.MessagePosting", mp.Payload)
	assert.Equal(t, bus.StopOnError, mp.ErrorPolicy)
	require.Len(t, mp.Listeners, 3)
	assert.Equal(t, "moderation.NewModerate", mp.Listeners[0].Name)
	assert.Equal(t, "nats:fxbus.topic.thread.message_posting", mp.Listeners[2].Remote, "exported last, to NATS")
	assert.Equal(t, "modules/moderation/moderation.go", mp.Listeners[0].Source.File, "relative to the module root")
	require.NotEmpty(t, mp.Publishers)
	assert.Equal(t, "app/desk/fx.go", mp.Publishers[0].Source.File)
	require.NotEmpty(t, mp.Fields)
	for _, f := range mp.Fields {
		assert.Equal(t, topics.FieldDocs["topics.MessagePosting"][f.Name], f.Doc, f.Name)
	}

	// The app was started: the plugins' subscriptions are there.
	started := names["chat.started"]
	assert.Equal(t, 1, started.Subscriptions)
	require.Len(t, started.Listeners, 1)
	assert.Equal(t, "widget", started.Listeners[0].Plugin)
	require.Len(t, names["ban.created"].Listeners, 3)
	assert.Equal(t, "webhooks/demo", names["ban.created"].Listeners[1].Plugin)
}

func TestListenersOfATopic(t *testing.T) {
	out := runOK(t, "listeners", "thread.message_posting")

	want := regexp.MustCompile(`^"thread\.message_posting" topic \(stop-on-error, optional\)
-+
  ORDER  LISTENER                RANK        MODULE +SOURCE
  #1     moderation\.NewModerate  -10         moderation +modules/moderation/moderation\.go:\d+
  #2     stats\.NewOnMessage      100         stats +modules/stats/stats\.go:\d+
  #3     bridge\.Export           2147483647  bridge → nats:fxbus\.topic\.thread\.message_posting +app/bridge\.go:\d+
$`)
	assert.Regexp(t, want, out)
}

func TestListenersOfEveryTopic(t *testing.T) {
	out := runOK(t, "listeners")

	for _, tp := range topics.All() {
		assert.Contains(t, out, fmt.Sprintf("%q topic (", tp.Name()))
	}
	assert.Regexp(t, `"ban\.created" topic \(run-all, optional\)\n-+\n.*\n  #1\s+audit\.record\s+-100\s+audit\s+modules/audit/audit\.go:\d+\n  #2\s+webhooks/demo/deliver\s+1000\s+plugin webhooks/demo\s`, out)
	assert.Regexp(t, `"button\.generated" topic \(stop-on-error, optional\)\n-+\n  no listeners\n`, out)
}

func TestListenersUnknownTopic(t *testing.T) {
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 1, run([]string{"listeners", "thread.mesage_posting"}, &stdout, &stderr))
	assert.Equal(t, "app listeners: no such topic: \"thread.mesage_posting\" (see: app catalog)\n", stderr.String())
	assert.Empty(t, stdout.String())
}

func TestGraphDOT(t *testing.T) {
	out := runOK(t, "graph")
	assert.Equal(t, out, runOK(t, "graph", "-format", "dot"), "dot is the default")

	assert.True(t, strings.HasPrefix(out, "digraph fxbus {\n  rankdir=LR;\n"), out[:min(len(out), 100)])
	for _, tp := range topics.All() {
		assert.Contains(t, out, fmt.Sprintf("%q [label=%q, shape=ellipse];", "t:"+tp.Name(), tp.Name()))
	}
	assert.Contains(t, out, `"m:desk" -> "t:thread.message_posting" [label="publishes"`)
	assert.Contains(t, out, `"t:thread.message_posting" -> "m:moderation" [label="moderation.NewModerate"];`)
	assert.Contains(t, out, `"t:chat.started" -> "m:plugin widget"`)
	dottest.Render(t, out)
}

func TestGraphMermaid(t *testing.T) {
	out := runOK(t, "graph", "-format", "mermaid")

	assert.True(t, strings.HasPrefix(out, "flowchart LR\n"), out[:min(len(out), 100)])
	for _, tp := range topics.All() {
		assert.Contains(t, out, fmt.Sprintf("([%q])", tp.Name()))
	}
	assert.Contains(t, out, `-->|"moderation.NewModerate"|`)
}

func TestGraphWired(t *testing.T) {
	out := runOK(t, "graph", "-wired")

	assert.NotContains(t, out, `"t:button.generated"`, "nothing publishes or hears it")
	assert.Contains(t, out, `"t:group.created"`, "audit hears it")
	assert.Contains(t, out, `"t:data.create.before"`, "the desk publishes it")
	dottest.Render(t, out)
}

func TestGraphAreas(t *testing.T) {
	out := runOK(t, "graph", "-areas")

	assert.Contains(t, out, `"t:thread.*" [label="thread.*", shape=ellipse];`)
	assert.NotContains(t, out, `"t:thread.message_posting"`)
	assert.Contains(t, out, `"m:desk" -> "t:thread.*" [label="publishes"`)
	assert.Contains(t, out, `"t:object.*" -> "m:tickets" [label="tickets.NewOnCreated, tickets.NewOnDeleted, tickets.NewOnUpdated"];`,
		"each listener once, in dispatch order of the area's topics")
	assert.Contains(t, out, `"t:chat.*" -> "m:plugin widget" [label="12 listeners"];`,
		"more than three listeners of one plugin are counted")
	assert.Equal(t, 1, strings.Count(out, `"t:ban.*" -> "m:audit"`), "one edge per area and module")
	dottest.Render(t, out)
}

func TestWiringUsage(t *testing.T) {
	tests := []struct {
		args   []string
		stderr string
	}{
		{args: []string{"catalog", "-format", "xml"}, stderr: `app catalog: unknown format "xml" (want markdown or json)`},
		{args: []string{"catalog", "extra"}, stderr: `app catalog: unexpected arguments ["extra"]`},
		{args: []string{"listeners", "a", "b"}, stderr: `app listeners: unexpected arguments ["b"]`},
		{args: []string{"listeners", "-format", "json"}, stderr: "flag provided but not defined: -format"},
		{args: []string{"graph", "-format", "png"}, stderr: `app graph: unknown format "png" (want dot or mermaid)`},
		{args: []string{"graph", "-format"}, stderr: "flag needs an argument: -format"},
		{args: []string{"graph", "extra"}, stderr: `app graph: unexpected arguments ["extra"]`},
		{args: []string{"demo", "-areas"}, stderr: "flag provided but not defined: -areas"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			assert.Equal(t, 2, run(tt.args, &stdout, &stderr))
			assert.Contains(t, stderr.String(), tt.stderr)
			assert.Contains(t, stderr.String(), "usage:")
			assert.Empty(t, stdout.String())
		})
	}

	var stdout bytes.Buffer
	require.Equal(t, 0, run([]string{"help"}, &stdout, &bytes.Buffer{}))
	for _, cmd := range []string{"app catalog [-format markdown|json]", "app listeners [topic]", "app graph [-format dot|mermaid] [-wired] [-areas]"} {
		assert.Contains(t, stdout.String(), cmd)
	}
}

// TestDispatchGolden holds the reference app's dispatch order: for each
// topic with listeners, its listeners in order with their rank and module
// or plugin. A change of order shows as a diff of testdata/dispatch.golden;
// after checking that it is meant, rewrite the file with
//
//	go test ./app -run Golden -update
func TestDispatchGolden(t *testing.T) {
	const goldenHeader = "# The reference app's dispatch order, per topic: listener, rank, module or plugin.\n" +
		"# Checked by TestDispatchGolden; rewrite with: go test ./app -run Golden -update\n\n"
	got := bytes.NewBufferString(goldenHeader)
	require.NoError(t, dispatchTable(got, appCatalogT(t)))
	const golden = "testdata/dispatch.golden"
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
		require.NoError(t, os.WriteFile(golden, got.Bytes(), 0o644))
		t.Logf("wrote %s", golden)
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "create it with: go test ./app -run Golden -update")
	assert.Equal(t, string(want), got.String(),
		"the dispatch order changed; if that is meant, run: go test ./app -run Golden -update, and commit %s", golden)
}

func TestDispatchTable(t *testing.T) {
	c := bus.Catalog{Topics: []bus.TopicInfo{
		{Name: "a.quiet"},
		{Name: "b.busy", Listeners: []bus.ListenerInfo{
			{Name: "first", Rank: -10, Module: "m1", Source: bus.Source{File: "/x/y.go", Line: 3}},
			{Name: "a-much-longer-name", Module: "m2"},
			{Name: "p/sub", Rank: 5, Plugin: "p", Module: "ignored"},
			{Name: "anonymous", Rank: 7},
		}},
		{Name: "c.one", Listeners: []bus.ListenerInfo{{Name: "only", Module: "m1"}}},
	}}
	var got bytes.Buffer
	require.NoError(t, dispatchTable(&got, c))
	assert.Equal(t, `b.busy
  #1  first               rank -10  m1
  #2  a-much-longer-name  rank 0    m2
  #3  p/sub               rank 5    plugin p
  #4  anonymous           rank 7    -

c.one
  #1  only  rank 0  m1
`, got.String())
}

// TestDocsCurrent checks that the committed renderings in docs/ are those
// of the code as it is: the DOT and Mermaid sources are what the graph
// command prints now, and each SVG was rendered from its DOT (the SVG ends
// with the DOT's sha256). Regenerate them with docs/generate.sh.
func TestDocsCurrent(t *testing.T) {
	const fix = "the app's wiring changed: run docs/generate.sh and commit docs/"
	for _, d := range []struct {
		file string
		args []string
	}{
		{"graph.dot", []string{"graph", "-format", "dot"}},
		{"graph.mmd", []string{"graph", "-format", "mermaid"}},
		{"areas.dot", []string{"graph", "-format", "dot", "-areas"}},
		{"wired.dot", []string{"graph", "-format", "dot", "-wired"}},
	} {
		t.Run(d.file, func(t *testing.T) {
			committed, err := os.ReadFile(filepath.Join("..", "docs", d.file))
			require.NoError(t, err, fix)
			assert.Equal(t, runOK(t, d.args...), string(committed), "docs/%s: %s", d.file, fix)
		})
	}
	for _, g := range []string{"graph", "areas", "wired"} {
		t.Run(g+".svg", func(t *testing.T) {
			dot, err := os.ReadFile(filepath.Join("..", "docs", g+".dot"))
			require.NoError(t, err, fix)
			svg, err := os.ReadFile(filepath.Join("..", "docs", g+".svg"))
			require.NoError(t, err, fix)
			sum := sha256.Sum256(dot)
			assert.Equal(t, fmt.Sprintf("<!-- rendered from docs/%s.dot, sha256 %s -->", g, hex.EncodeToString(sum[:])), lastLine(svg),
				"docs/%s.svg was not rendered from docs/%s.dot: %s", g, g, fix)
		})
	}
}

func lastLine(b []byte) string {
	var last string
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		last = s.Text()
	}
	return last
}

// TestCatalogStable builds the catalogue several times: it must not
// change, although dig shuffles the value groups it comes from.
func TestCatalogStable(t *testing.T) {
	want := appCatalogT(t)
	for range 10 {
		var stderr bytes.Buffer
		got, err := appCatalog(context.Background(), &stderr)
		require.NoError(t, err, stderr.String())
		require.Equal(t, want, got)
	}
}

func TestWithTopics(t *testing.T) {
	c := appCatalogT(t)

	// A topic's Info describes it as the bus does, bar listeners and publishers.
	for _, ti := range c.Topics {
		var tp bus.AnyTopic
		for _, x := range topics.All() {
			if x.Name() == ti.Name {
				tp = x
			}
		}
		require.NotNil(t, tp, "%s is in topics.All", ti.Name)
		want := ti
		want.Listeners, want.Subscriptions, want.Publishers = nil, 0, nil
		want.Fields = slices.Clone(want.Fields) // not the shared catalogue's
		for i := range want.Fields {
			want.Fields[i].Doc = ""
		}
		assert.Equal(t, want, tp.Info(), ti.Name)
	}

	// Only the missing topics are added, in order of name.
	small := bus.Catalog{Topics: []bus.TopicInfo{{Name: "thread.created", Listeners: []bus.ListenerInfo{{Name: "kept"}}}}}
	got := withTopics(small, topics.ThreadMessagePosting, topics.ThreadCreated, topics.BanCreated)
	require.Len(t, got.Topics, 3)
	assert.Equal(t, []string{"ban.created", "thread.created", "thread.message_posting"},
		[]string{got.Topics[0].Name, got.Topics[1].Name, got.Topics[2].Name})
	assert.Equal(t, "kept", got.Topics[1].Listeners[0].Name)
	assert.Equal(t, "topics.MessagePosting", got.Topics[2].Payload)
	assert.Len(t, small.Topics, 1, "the catalogue given is not changed")
}

func TestModuleRoot(t *testing.T) {
	root := moduleRoot()
	require.NotEmpty(t, root)
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(mod), "module github.com/fxbus/fxbus\n"))
	wd, err := os.Getwd()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(root, "app"), wd)
}

func TestRelSources(t *testing.T) {
	root := filepath.FromSlash("/src/fxbus")
	c := bus.Catalog{Topics: []bus.TopicInfo{{
		Name: "x",
		Listeners: []bus.ListenerInfo{
			{Name: "in", Source: bus.Source{File: filepath.FromSlash("/src/fxbus/modules/a/a.go"), Line: 3}},
			{Name: "out", Source: bus.Source{File: filepath.FromSlash("/elsewhere/b.go"), Line: 4}},
			{Name: "trimmed", Source: bus.Source{File: "github.com/fxbus/fxbus/c.go", Line: 5}},
		},
		Publishers: []bus.PublisherInfo{{Module: "p", Source: bus.Source{File: filepath.FromSlash("/src/fxbus/app/desk/fx.go"), Line: 6}}},
	}}}
	got := relSources(c, root)
	assert.Equal(t, []bus.Source{{File: "modules/a/a.go", Line: 3}, {File: filepath.FromSlash("/elsewhere/b.go"), Line: 4}, {File: "github.com/fxbus/fxbus/c.go", Line: 5}},
		[]bus.Source{got.Topics[0].Listeners[0].Source, got.Topics[0].Listeners[1].Source, got.Topics[0].Listeners[2].Source})
	assert.Equal(t, "app/desk/fx.go", got.Topics[0].Publishers[0].Source.File)
	assert.Equal(t, filepath.FromSlash("/src/fxbus/modules/a/a.go"), c.Topics[0].Listeners[0].Source.File, "c is not changed")
	assert.Equal(t, c, relSources(c, ""))
}
