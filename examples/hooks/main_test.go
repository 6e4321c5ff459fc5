package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The example's output, exactly: if the program changes, this changes with it.
const golden = `bob [Customer] posts to #lobby:
  #lobby <bob> hi all
  sent as msg-1
bob [Customer] posts to #announcements:
  vetoed by admins-only: forbidden: bob [Customer] may not post to #announcements
ann [Admin] posts to #announcements:
  #announcements <ann> we open at 9 tomorrow
  sent as msg-2
bob [Customer] posts to #support:
  #support <bob> my order is late
  sent as msg-3, auto-reply: an operator will answer within 5 minutes
`

func TestRun(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(&out))
	require.Equal(t, golden, out.String())
}
