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

// trail collects what handlers did, in order. Not safe for concurrent use.
type trail []string

func (l *trail) add(s string) { *l = append(*l, s) }

// note returns a handler that adds name to log.
func note[T any](log *trail, name string) func(context.Context, *T) error {
	return func(context.Context, *T) error { log.add(name); return nil }
}
