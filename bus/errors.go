package bus

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// The bus's errors. Sentinels name a cause without a prefix; the bus wraps
// them, so that an error it returns says "fxbus:" once, then the topic,
// then the listener and its source where one is concerned, then the cause.
var (
	// ErrStop, returned by a handler, ends dispatch without failure: later
	// handlers do not run and Publish returns nil (or, under [RunAll], the
	// errors of earlier handlers). It may be wrapped. Only a handler's own
	// ErrStop stops its dispatch: found inside another handler's failure
	// (the error of a nested publish, or a panic), it is a failure.
	ErrStop = errors.New("stop dispatch")

	// ErrClosed is the cause of an error from Publish, Subscribe and the
	// like on a closed bus.
	ErrClosed = errors.New("bus closed")

	// ErrRequirement is the cause of a [WiringError] for a topic whose
	// listeners violate its [Requirement]: at [New], or when a subscription
	// would give a topic that needs [ExactlyOne] listener a second one.
	ErrRequirement = errors.New("listener requirement not met")

	// ErrNotAwaited is the cause of the error of [Subscription.CloseWait]
	// on a subscription made without [Awaited].
	ErrNotAwaited = errors.New("subscription not made with bus.Awaited(): its running calls are not counted")
)

// The causes of programming mistakes, which no caller handles at run time:
// the error's text names them, with the topic and the listener.
var (
	errNilBus        = errors.New("nil bus")
	errNilPayload    = errors.New("nil payload")
	errNilContext    = errors.New("nil context")
	errNilTopic      = errors.New("nil topic")
	errNilHandler    = errors.New("nil handler")
	errDuplicateName = errors.New("two topics have this name") // on one bus
	// The wiring report's findings (see WithPublisher).
	errNoListener  = errors.New("published, but nobody listens")
	errNoPublisher = errors.New("listened to, but nobody declared publishing it")
)

const prefix = "fxbus: "

// cause is err's text without the "fxbus: " of a nested bus error, so that
// a chain of them says it once.
func cause(err error) string {
	return strings.TrimPrefix(err.Error(), prefix)
}

// HandlerError is a handler's failure, naming the topic and the listener.
// Publish returns it (joined with others under [RunAll]); errors.Is and
// errors.As see through it to the handler's own error, or to a
// [*PanicError].
type HandlerError struct {
	Topic    string // the topic's name
	Listener string // the listener's name (see [ListenerInfo.Name])
	Source   Source // where the listener was declared
	Err      error  // the handler's error
}

// Error says "fxbus: topic %q: listener NAME (FILE:LINE): " and the cause.
// A publish nested too deeply says only its [DepthError], whose chain names
// every topic once, instead of one HandlerError per level.
func (e *HandlerError) Error() string {
	var d *DepthError
	if errors.As(e.Err, &d) {
		return d.Error()
	}
	return fmt.Sprintf("%stopic %q: listener %s: %s", prefix, e.Topic, listenerText(e.Listener, e.Source), cause(e.Err))
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
// on spans and metrics, whatever the panic's value.
func (e *PanicError) ErrorType() string { return "panic" }

// Unwrap returns the panic value when it is an error, so that
// errors.Is(err, io.EOF) holds after panic(io.EOF).
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// WiringError is a mistake found while building a bus or subscribing: it
// names the topic and, when one is concerned, the listener and the place
// that declared it. Its fields mean what [HandlerError]'s do.
type WiringError struct {
	Topic    string // the topic's name; "" when the mistake concerns none
	Listener string // the listener's name; "" when the mistake concerns the topic
	Source   Source // where the listener was declared
	Err      error  // the cause, such as [ErrRequirement]
}

func (e *WiringError) Error() string {
	var b strings.Builder
	b.WriteString(prefix)
	if e.Topic != "" {
		fmt.Fprintf(&b, "topic %q: ", e.Topic)
	}
	switch {
	case e.Listener != "":
		fmt.Fprintf(&b, "listener %s: ", listenerText(e.Listener, e.Source))
	case e.Source.File != "":
		fmt.Fprintf(&b, "listener at %s: ", e.Source)
	}
	b.WriteString(cause(e.Err))
	return b.String()
}

// Unwrap returns the cause, such as [ErrRequirement].
func (e *WiringError) Unwrap() error { return e.Err }

// DepthError is returned by a publish nested deeper than the bus allows
// (see [WithMaxDepth]); Chain is the topics from the outermost publish to
// the one refused.
type DepthError struct {
	Chain []string
	Limit int
}

func (e *DepthError) Error() string {
	return fmt.Sprintf("%spublish nested deeper than %d: %s", prefix, e.Limit, strings.Join(e.Chain, " -> "))
}

func listenerText(name string, src Source) string {
	if src.File == "" {
		return name
	}
	return name + " (" + src.String() + ")"
}

// wiringError is err about listener l; a listener without a topic names
// none, its error says "nil topic" once.
func (l *listener) wiringError(err error) *WiringError {
	e := &WiringError{Listener: l.info.Name, Source: l.info.Source, Err: err}
	if l.topic != nil && !reflect.ValueOf(l.topic).IsNil() {
		e.Topic = l.topic.Name()
	}
	return e
}
