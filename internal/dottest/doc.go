// Package dottest checks DOT graphs with Graphviz in tests: the graph must
// render as SVG, without an error or a warning. Where Graphviz's dot is not
// installed, the test is skipped with a message saying so.
package dottest
