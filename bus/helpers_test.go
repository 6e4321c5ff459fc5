package bus_test

import "context"

// notes collects what handlers did, in order. Not safe for concurrent use.
type notes []string

func (l *notes) add(s string) { *l = append(*l, s) }

// note returns a handler that adds name to log.
func note[T any](log *notes, name string) func(context.Context, *T) error {
	return func(context.Context, *T) error { log.add(name); return nil }
}

// defaultMaxDepth is how deeply publishes nest by default, as WithMaxDepth
// documents it.
const defaultMaxDepth = 32
