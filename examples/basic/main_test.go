package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The example's output, exactly: if the program changes, this changes with it.
const golden = `A-1:
  receipt for A-1: teapot, 44.91 EUR
  done, total 4491 cents
T-2:
  T-2 is a test order: stop here
  done, total 100 cents
B-3:
  failed: topic "order.placed", listener main.(*Warehouse).Reserve (main.go:65): kettle: out of stock
  errors.Is(err, ErrOutOfStock) = true
`

func TestRun(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(&out))
	// go test compiles package main under its import path, so a name
	// derived from one of its functions starts with "basic." here and
	// with "main." under go run.
	require.Equal(t, golden, strings.ReplaceAll(out.String(), "basic.(*Warehouse)", "main.(*Warehouse)"))
}
