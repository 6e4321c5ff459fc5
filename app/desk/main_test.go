package desk_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a goroutine behind: the
// server, the webhook receiver, the trace exporter and the scenario's
// client all start some, and must stop them.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
