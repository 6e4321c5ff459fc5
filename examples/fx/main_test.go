package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
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

// The example's output, exactly: if the program changes, this changes with
// it. LINE is the line of main.go that declares NewMailer.
const golden = `ann@example.com signs up:
  audit: ann@example.com signed up
  outbox: "Welcome!" to ann@example.com
  audit: mailed ann@example.com
without an Outbox, fx.New fails:
  ... missing dependencies for function "main".NewMailer (main.go:LINE): missing type: *main.Outbox
`

func TestRun(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(&out))
	// go test compiles package main under its import path, which fx's
	// errors show instead of "main".
	want := strings.ReplaceAll(golden, "LINE", strconv.Itoa(lineOf(t, "main.go", "func NewMailer(")))
	require.Equal(t, want, strings.ReplaceAll(out.String(), `"github.com/fxbus/fxbus/examples/fx".`, `"main".`))
}

// The whole error of fx.New, of which the example prints the last link:
// it starts from bus.Module's listeners and names every function on the
// way, the listener's constructor first.
func TestMissingOutbox(t *testing.T) {
	err := fx.New(fx.NopLogger, fx.Supply(fx.Annotate(io.Discard, fx.As(new(io.Writer)))),
		MailerModule, AuditModule, bus.Module).Err()
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, `could not build value group bus.Listener[group="fxbus.listeners"]`)
	assert.Contains(t, msg, fmt.Sprintf(`examples/fx/main.go:%d): failed to build *main.Mailer`, lineOf(t, "main.go", "func NewSendWelcome(")))
	assert.NotContains(t, msg, "makeFuncStub")
	assert.Contains(t, msg, fmt.Sprintf("examples/fx/main.go:%d): missing type: *main.Outbox", lineOf(t, "main.go", "func NewMailer(")))
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
