package hook_test

import (
	"context"

	"github.com/fxbus/fxbus/internal/spantest"
)

// The helpers shared with the other packages built on bus.
var (
	newBus    = spantest.NewBus
	tracing   = spantest.Tracing
	spanNames = spantest.SpanNames
	span      = spantest.Span
	attr      = spantest.Attr
)

// trail collects what handlers did, in order; note returns a handler that
// adds a name to it.
type trail = spantest.Trail

func note[T any](log *trail, name string) func(context.Context, *T) error {
	return spantest.Note[T](log, name)
}
