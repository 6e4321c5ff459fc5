package main

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The example's output, exactly: if the program changes, this changes with
// it. LINE is the line of main.go that declares the failing listener.
const golden = `A-1:
  receipt for A-1: teapot, 44.91 EUR
  done, total 4491 cents
T-2:
  T-2 is a test order: stop here
  done, total 100 cents
B-3:
  failed: topic "order.placed", listener main.(*Warehouse).Reserve (main.go:LINE): kettle: out of stock
  errors.Is(err, ErrOutOfStock) = true
`

func TestRun(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(&out))
	// go test compiles package main under its import path, so a name
	// derived from one of its functions starts with "basic." here and
	// with "main." under go run.
	want := strings.ReplaceAll(golden, "LINE", strconv.Itoa(lineOf(t, "main.go", "bus.On(OrderPlaced, wh.Reserve")))
	require.Equal(t, want, strings.ReplaceAll(out.String(), "basic.(*Warehouse)", "main.(*Warehouse)"))
}

// lineOf returns the number of the first line of file that contains s.
func lineOf(t *testing.T, file, s string) int {
	t.Helper()
	src, err := os.ReadFile(file)
	require.NoError(t, err)
	for i, l := range strings.Split(string(src), "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	t.Fatalf("%s has no line with %q", file, s)
	return 0
}
