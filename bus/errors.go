package bus

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrStop, returned by a handler, ends dispatch without failure: later
	// handlers do not run and Publish returns nil (or, under [RunAll], the
	// errors of earlier handlers). It may be wrapped.
	ErrStop = errors.New("fxbus: stop dispatch")

	// ErrClosed is returned by Publish and Subscribe on a closed bus.
	ErrClosed = errors.New("fxbus: bus closed")

	// ErrNilBus is returned by Publish and Subscribe given a nil *Bus.
	ErrNilBus = errors.New("fxbus: nil bus")

	// ErrNilPayload is returned by Publish given a nil payload.
	ErrNilPayload = errors.New("fxbus: nil payload")

	// ErrNilContext is returned by Publish given a nil context.
	ErrNilContext = errors.New("fxbus: nil context")

	// ErrNilTopic is the cause of a [WiringError] for a listener without a topic.
	ErrNilTopic = errors.New("nil topic")

	// ErrNilHandler is the cause of a [WiringError] for a listener without a handler.
	ErrNilHandler = errors.New("nil handler")

	// ErrRequirement is the cause of a [WiringError] for a topic whose
	// listeners violate its [Requirement].
	ErrRequirement = errors.New("listener requirement not met")

	// ErrMaxDepth is the cause of a [DepthError].
	ErrMaxDepth = errors.New("fxbus: publish depth limit exceeded")
)

// HandlerError is a handler's failure, naming the topic and the listener.
// Publish returns it (joined with others under [RunAll]); errors.Is and
// errors.As see through it to the handler's own error, or to a
// [*PanicError].
type HandlerError struct {
	Topic    string
	Listener string
	Source   Source
	Err      error
}

func (e *HandlerError) Error() string {
	return fmt.Sprintf("fxbus: topic %q: listener %s (%s): %v", e.Topic, e.Listener, e.Source, e.Err)
}

// Unwrap returns the handler's own error.
func (e *HandlerError) Unwrap() error { return e.Err }

// PanicError is a handler panic, recovered: the value passed to panic and
// the stack of the goroutine where it happened. It reaches the publisher
// inside a [*HandlerError].
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// ErrorType returns "panic": the failure class of a panic, for error.type
// on spans and metrics (see [ErrorType]), whatever the panic's value.
func (e *PanicError) ErrorType() string { return "panic" }

// Unwrap returns the panic value when it is an error, so that
// errors.Is(err, io.EOF) holds after panic(io.EOF).
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// WiringError is a mistake found while building a bus or subscribing: it
// names the topic, the listener and the place that declared it.
type WiringError struct {
	Topic    string
	Listener string // name and source; several, comma-separated, for a requirement
	Err      error
}

func (e *WiringError) Error() string {
	if e.Listener == "" {
		return fmt.Sprintf("fxbus: topic %q: %v", e.Topic, e.Err)
	}
	return fmt.Sprintf("fxbus: topic %q: listener %s: %v", e.Topic, e.Listener, e.Err)
}

// Unwrap returns the cause, such as [ErrNilHandler] or [ErrRequirement].
func (e *WiringError) Unwrap() error { return e.Err }

// DepthError is returned by a publish nested deeper than the bus allows
// (see [WithMaxDepth]); Chain is the topics from the outermost publish to
// the one refused.
type DepthError struct {
	Chain []string
	Limit int
}

func (e *DepthError) Error() string {
	return fmt.Sprintf("fxbus: publish nested deeper than %d: %s", e.Limit, strings.Join(e.Chain, " -> "))
}

// Unwrap returns [ErrMaxDepth].
func (e *DepthError) Unwrap() error { return ErrMaxDepth }
