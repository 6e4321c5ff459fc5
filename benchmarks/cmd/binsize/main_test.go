package main

import (
	"os/exec"
	"strings"
	"testing"
)

// A payload type of a layout of its own costs a stripped binary less than
// 10 KB (issue 11): the bus's generic code is shells over non-generic code.
// It builds two programs, so it does not run under -short.
func TestPayloadTypeCost(t *testing.T) {
	if testing.Short() {
		t.Skip("builds programs; run without -short")
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/fxbus/fxbus").Output()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := writeModule(dir, strings.TrimSpace(string(out))); err != nil {
		t.Fatal(err)
	}
	const n = 10
	small, large, err := measure(dir, n, true, true)
	if err != nil {
		t.Fatal(err)
	}
	per := (large - small) / n
	t.Logf("%d B per payload type (distinct layouts, -s -w)", per)
	if per >= 10*1024 {
		t.Errorf("a payload type costs the binary %d B; want under 10 KB", per)
	}
}
