package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The example's output, exactly: if the program changes, this changes with it.
const golden = `UserRequest written, published from it:
  notify-team: ticket R-1 changed
  search-index: reindex the UserRequest
Incident written, published from it:
  page-on-call: I-2 is priority 1
  notify-team: ticket I-2 changed
  search-index: reindex the Incident
Person written, published from it:
  search-index: reindex the Person
Incident written by a bulk import, published without a source:
  search-index: reindex the Incident
`

func TestRun(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(&out))
	require.Equal(t, golden, out.String())
}
