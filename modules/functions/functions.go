package functions

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/fx"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/topics"
)

// The functions the module implements.
const (
	// Echo returns Arguments["text"] as Results["text"].
	Echo = "echo"
	// Now returns the time as Results["time"], in RFC 3339, UTC.
	Now = "now"
)

// ErrMissingArgument is wrapped by the error of a call without an argument
// its function needs.
var ErrMissingArgument = errors.New("missing argument")

// Clock tells the time for [Now]. The container may supply one.
type Clock func() time.Time

// Params are the dependencies of [NewCall].
type Params struct {
	fx.In

	// Clock is optional; time.Now without it.
	Clock Clock `optional:"true"`
}

// Module implements [Echo] and [Now] on [topics.ThreadFunctionCall].
var Module = fx.Module("functions",
	bus.Listen(topics.ThreadFunctionCall, NewCall),
)

// NewCall returns the module's listener on [topics.ThreadFunctionCall].
func NewCall(p Params) func(context.Context, *topics.FunctionCall) error {
	now := p.Clock
	if now == nil {
		now = time.Now
	}
	return func(_ context.Context, c *topics.FunctionCall) error {
		switch c.Function {
		case Echo:
			text, ok := c.Arguments["text"]
			if !ok {
				return fmt.Errorf("functions: %s: %w %q", Echo, ErrMissingArgument, "text")
			}
			results(c)["text"] = text
		case Now:
			results(c)["time"] = now().UTC().Format(time.RFC3339)
		}
		return nil
	}
}

// results returns c.Results, made if the caller left it nil.
func results(c *topics.FunctionCall) map[string]any {
	if c.Results == nil {
		c.Results = map[string]any{}
	}
	return c.Results
}
