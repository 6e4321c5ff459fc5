package main

import (
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/goleak"

	"github.com/fxbus/fxbus/bus"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// The example's output, exactly: if the program changes, this changes with it.
const golden = `ann@example.com signs up:
  audit: ann@example.com signed up
  outbox: "Welcome!" to ann@example.com
  audit: mailed ann@example.com
without an Outbox, fx.New fails:
  ... missing dependencies for function "main".NewSendWelcome (main.go:47): missing type: *main.Outbox
`

func TestRun(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(&out))
	// go test compiles package main under its import path, which fx's
	// errors show instead of "main".
	require.Equal(t, golden, strings.ReplaceAll(out.String(), `"github.com/fxbus/fxbus/examples/fx".`, `"main".`))
}

// The whole error of fx.New, of which the example prints the last link:
// it starts from the bus and names every function on the way.
func TestMissingOutbox(t *testing.T) {
	err := fx.New(fx.NopLogger, fx.Supply(fx.Annotate(io.Discard, fx.As(new(io.Writer)))),
		MailerModule, AuditModule, bus.Module).Err()
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, "failed to build *bus.Bus")
	assert.Contains(t, msg, `.NewSendWelcome (`)
	assert.Contains(t, msg, "examples/fx/main.go:47): missing type: *main.Outbox")
}
