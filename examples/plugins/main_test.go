package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The example's output, exactly: if the program changes, this changes with it.
const golden = `a chat:
  transcript: customer said "my order is late"
  analytics: #1 from customer
  analytics: #2 from agent
replace the rule "customer" to keep every message; remove "end":
  transcript: agent said "it ships today"
  analytics: #3 from agent
unregister Transcript, which subscribed Transcript/onMessage and Transcript/onEnded:
  analytics: #4 from customer
Transcript has 0 listeners left
`

func TestRun(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(&out))
	require.Equal(t, golden, out.String())
}
