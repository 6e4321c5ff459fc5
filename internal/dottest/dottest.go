package dottest

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// Render has Graphviz's dot render the DOT graph src as SVG, and returns
// the SVG. It fails tb when dot rejects the graph or warns about it, and
// skips it when dot is not installed (Debian package graphviz).
func Render(tb testing.TB, src string) string {
	tb.Helper()
	path, err := exec.LookPath("dot")
	if err != nil {
		tb.Skip("Graphviz's dot is not installed (Debian package graphviz): the DOT output was not rendered")
	}
	cmd := exec.Command(path, "-Tsvg")
	cmd.Stdin = strings.NewReader(src)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	svg, err := cmd.Output()
	if err != nil {
		tb.Fatalf("dot -Tsvg rejected the graph: %v: %s", err, stderr.String())
	}
	if stderr.Len() > 0 {
		tb.Errorf("dot -Tsvg warned: %s", stderr.String())
	}
	if !bytes.Contains(svg, []byte("<svg")) {
		tb.Errorf("dot -Tsvg wrote no SVG: %.200s", svg)
	}
	return string(svg)
}
