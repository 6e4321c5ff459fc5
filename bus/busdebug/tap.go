package busdebug

import "github.com/fxbus/fxbus/bus"

// busTap returns the tap of b.
func busTap(b *bus.Bus) tapFunc {
	return func(o observer) func() { return func() {} }
}
