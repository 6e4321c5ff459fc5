// Package busdoc renders a [bus.Catalog] for people and tools: the topic
// catalogue as Markdown or JSON, the dispatch table of listeners (like
// Symfony's debug:event-dispatcher), and the graph of who publishes and who
// listens as Graphviz DOT or Mermaid.
//
// Everything is generated from the running code, so it is always current:
//
//	c := busdoc.AddFieldDocs(b.Catalog(), topics.FieldDocs)
//	busdoc.Markdown(os.Stdout, c, busdoc.Options{Root: "."})
//
// Output is in a stable order, so it can be committed and diffed.
package busdoc
