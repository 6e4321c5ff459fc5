package bus_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: the bus
// starts none, and a publish must not leak one even when handlers panic.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
