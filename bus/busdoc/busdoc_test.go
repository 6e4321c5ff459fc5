package busdoc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/busdoc"
	"github.com/fxbus/fxbus/bus/plugin"
	"github.com/fxbus/fxbus/internal/dottest"
)

type order struct {
	// ID identifies the order.
	ID    string
	Total int
}

func nop(context.Context, *order) error { return nil }

func line() int {
	_, _, l, _ := runtime.Caller(1)
	return l
}

// fixture is a small shop: checkout publishes order.placed, which billing
// and mail hear; order.cancelled is published but nobody listens; a plugin
// listens to order.placed at run time.
func fixture(t *testing.T) (bus.Catalog, int) {
	placed := bus.NewTopic[order]("order.placed", bus.Description("An order was placed."))
	cancelled := bus.NewTopic[order]("order.cancelled", bus.RunAll)
	l := line() + 2
	b, err := bus.New([]bus.Listener{
		bus.On(placed, nop, bus.Name("mail.Confirm"), bus.InModule("mail"), bus.Rank(10)),
		bus.On(placed, nop, bus.Name("billing.Charge"), bus.InModule("billing")),
		bus.On(placed, nop, bus.Name("billing.Invoice"), bus.InModule("billing"), bus.Rank(1)),
	}, bus.WithPublisher(placed, "checkout"), bus.WithPublisher(cancelled, "checkout"))
	require.NoError(t, err)
	p, err := plugin.Register(b, "crm")
	require.NoError(t, err)
	pl := line() + 1
	_, err = placed.Subscribe(b, nop, bus.Name("Track"), bus.Rank(100), bus.OwnedBy(p))
	require.NoError(t, err)
	subscribedAt = pl
	return busdoc.AddFieldDocs(b.Catalog(), map[string]map[string]string{"busdoc_test.order": {"ID": "ID identifies the order."}}), l
}

// subscribedAt is the line of the fixture's plugin subscription.
var subscribedAt int

func TestListeners(t *testing.T) {
	c, l := fixture(t)
	var out bytes.Buffer
	require.NoError(t, busdoc.Listeners(&out, c, "order.placed", busdoc.Options{Root: "."}))
	title := `"order.placed" topic (stop-on-error, optional)`
	want := title + "\n" + strings.Repeat("-", len(title)) + fmt.Sprintf(`
  ORDER  LISTENER         RANK  MODULE      SOURCE
  #1     billing.Charge   0     billing     busdoc_test.go:%d
  #2     billing.Invoice  1     billing     busdoc_test.go:%d
  #3     mail.Confirm     10    mail        busdoc_test.go:%d
  #4     crm/Track        100   plugin crm  busdoc_test.go:%d
`, l+1, l+2, l, subscribedAt)
	assert.Equal(t, want, out.String())

	out.Reset()
	require.NoError(t, busdoc.Listeners(&out, c, "", busdoc.Options{}))
	assert.Contains(t, out.String(), "\"order.cancelled\" topic (run-all, optional)\n---")
	assert.Contains(t, out.String(), "  no listeners\n")
	assert.Less(t, strings.Index(out.String(), "order.cancelled"), strings.Index(out.String(), "order.placed"))

	require.EqualError(t, busdoc.Listeners(&out, c, "order.lost", busdoc.Options{}), `busdoc: no topic "order.lost"`)
}

func TestMarkdown(t *testing.T) {
	c, l := fixture(t)
	var out bytes.Buffer
	require.NoError(t, busdoc.Markdown(&out, c, busdoc.Options{Root: "."}))
	md := out.String()
	for _, want := range []string{
		"# Topics\n\n* [order](#order): 2\n",
		"\n## order\n",
		"\n### order.placed\n\nAn order was placed.\n\nPayload: `busdoc_test.order`. Errors: stop-on-error. Listeners: optional.\n",
		"* `ID` (`string`): ID identifies the order.\n* `Total` (`int`)\n",
		"\nPublished by: checkout (`busdoc_test.go:",
		"| 1 | `billing.Charge` | 0 | billing | `busdoc_test.go:" + fmt.Sprint(l+1) + "` |\n",
		"| 4 | `crm/Track` | 100 | plugin crm |",
	} {
		assert.Contains(t, md, want)
	}
	assert.Less(t, strings.Index(md, "### order.cancelled"), strings.Index(md, "### order.placed"))
}

func TestJSON(t *testing.T) {
	c, _ := fixture(t)
	var out bytes.Buffer
	require.NoError(t, busdoc.JSON(&out, c))
	var back bus.Catalog
	require.NoError(t, json.Unmarshal(out.Bytes(), &back))
	require.Len(t, back.Topics, 2)
	assert.Equal(t, c.Topics[1].Listeners, back.Topics[1].Listeners)
	assert.Contains(t, out.String(), `"error_policy": "run-all"`)
}

func TestGraph(t *testing.T) {
	c, _ := fixture(t)
	g := busdoc.NewGraph(c)
	assert.Equal(t, []string{"billing", "checkout", "mail", "plugin crm"}, g.Modules)
	assert.Equal(t, []string{"order.cancelled", "order.placed"}, g.Topics)
	assert.Equal(t, []busdoc.Edge{{From: "checkout", To: "order.cancelled"}, {From: "checkout", To: "order.placed"}}, g.Publishes)
	assert.Equal(t, []busdoc.Edge{
		{From: "order.placed", To: "billing", Label: "billing.Charge, billing.Invoice"},
		{From: "order.placed", To: "mail", Label: "mail.Confirm"},
		{From: "order.placed", To: "plugin crm", Label: "crm/Track"},
	}, g.Delivers)

	var mm bytes.Buffer
	require.NoError(t, g.Mermaid(&mm))
	assert.Equal(t, `flowchart LR
  n0["billing"]
  n1["checkout"]
  n2["mail"]
  n3["plugin crm"]
  n4(["order.cancelled"])
  n5(["order.placed"])
  n1 -->|publishes| n4
  n1 -->|publishes| n5
  n5 -->|"billing.Charge, billing.Invoice"| n0
  n5 -->|"mail.Confirm"| n2
  n5 -->|"crm/Track"| n3
`, mm.String())

	var dot bytes.Buffer
	require.NoError(t, g.DOT(&dot))
	assert.Contains(t, dot.String(), `"m:checkout" -> "t:order.placed" [label="publishes"`)
	assert.Contains(t, dot.String(), `"t:order.placed" -> "m:billing" [label="billing.Charge, billing.Invoice"];`)
	dottest.Render(t, dot.String())
}

func TestDOTQuotesNames(t *testing.T) {
	g := busdoc.Graph{Modules: []string{`we"ird\mod`}, Topics: []string{"a.b"},
		Publishes: []busdoc.Edge{{From: `we"ird\mod`, To: "a.b"}}}
	var dot bytes.Buffer
	require.NoError(t, g.DOT(&dot))
	assert.Contains(t, dot.String(), `"m:we\"ird\\mod" -> "t:a.b"`)
	dottest.Render(t, dot.String())
}

func TestArea(t *testing.T) {
	assert.Equal(t, "thread", busdoc.Area("thread.message_posting"))
	assert.Equal(t, "nodot", busdoc.Area("nodot"))
}

// bridged is a catalogue of a process that imports order.placed from NATS
// and exports order.shipped to it.
func bridged() bus.Catalog {
	return bus.Catalog{Topics: []bus.TopicInfo{
		{Name: "order.placed", Payload: "busdoc_test.order",
			Publishers: []bus.PublisherInfo{{Module: "bridge", Remote: "nats:fxbus.topic.order.placed (group mail)", Source: bus.Source{File: "main.go", Line: 7}}},
			Listeners:  []bus.ListenerInfo{{Name: "mail.Confirm", Module: "mail"}}},
		{Name: "order.shipped", Payload: "busdoc_test.order",
			Publishers: []bus.PublisherInfo{{Module: "mail"}},
			Listeners:  []bus.ListenerInfo{{Name: "bridge.Export", Module: "bridge", Remote: "nats:fxbus.topic.order.shipped", Rank: 1 << 62}}},
	}}
}

func TestGraphShowsWhatCrossesTheProcess(t *testing.T) {
	g := busdoc.NewGraph(bridged())
	assert.Equal(t, []string{"nats:fxbus.topic.order.placed (group mail)", "nats:fxbus.topic.order.shipped"}, g.Remotes)
	assert.Equal(t, []busdoc.Edge{{From: "nats:fxbus.topic.order.placed (group mail)", To: "order.placed"}}, g.Imports)
	assert.Equal(t, []busdoc.Edge{{From: "order.shipped", To: "nats:fxbus.topic.order.shipped", Label: "bridge.Export"}}, g.Exports)
	assert.Equal(t, []string{"mail"}, g.Modules, "the forwarding listener and the remote publisher are no modules of the process")
	assert.Equal(t, []busdoc.Edge{{From: "mail", To: "order.shipped"}}, g.Publishes)

	var dot, mm bytes.Buffer
	require.NoError(t, g.DOT(&dot))
	assert.Contains(t, dot.String(), `"r:nats:fxbus.topic.order.placed (group mail)" -> "t:order.placed" [label="imports", style=dashed`)
	assert.Contains(t, dot.String(), `"t:order.shipped" -> "r:nats:fxbus.topic.order.shipped" [label="exports (bridge.Export)", style=dashed`)
	dottest.Render(t, dot.String())
	require.NoError(t, g.Mermaid(&mm))
	assert.Contains(t, mm.String(), `-.->|imports|`)
	assert.Contains(t, mm.String(), `>"nats:fxbus.topic.order.shipped"]`)

	var md, ls bytes.Buffer
	require.NoError(t, busdoc.Markdown(&md, bridged(), busdoc.Options{}))
	assert.Contains(t, md.String(), "Published by: remote nats:fxbus.topic.order.placed (group mail), imported by bridge (`main.go:7`).")
	assert.Contains(t, md.String(), "| bridge → nats:fxbus.topic.order.shipped |")
	require.NoError(t, busdoc.Listeners(&ls, bridged(), "order.shipped", busdoc.Options{}))
	assert.Contains(t, ls.String(), "bridge → nats:fxbus.topic.order.shipped")
}

func TestAddFieldDocs(t *testing.T) {
	c, _ := fixture(t) // documents order.ID
	require.Len(t, c.Topics, 2)
	for _, ti := range c.Topics {
		require.NotEmpty(t, ti.Fields)
		assert.Equal(t, "ID identifies the order.", ti.Fields[0].Doc, ti.Name)
	}
	again := busdoc.AddFieldDocs(c, map[string]map[string]string{"busdoc_test.order": {"ID": "the order's id"}, "other.T": {"X": "x"}})
	assert.Equal(t, "the order's id", again.Topics[0].Fields[0].Doc)
	assert.Equal(t, "ID identifies the order.", c.Topics[0].Fields[0].Doc, "the catalogue given is left alone")
}
