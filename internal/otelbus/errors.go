package otelbus

import (
	"context"
	"errors"
	"reflect"
	"strings"

	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Other is error.type when an error names no class: the fallback of the
// OpenTelemetry conventions.
const Other = "_OTHER"

// busPkg is the import path of package bus and the packages under it,
// whose wrappers (a handler's failure naming topic and listener, a hook's
// stage) are not failure classes: the class is what they wrap.
const busPkg = "github.com/fxbus/fxbus/bus"

// ErrorType returns the failure class of err, the value of error.type: a
// short, low-cardinality name under which failures group, never the
// error's free text. The rule, first match wins:
//
//  1. an error in err's chain, outermost first, with an ErrorType() string
//     method returning non-empty text names its class (the OpenTelemetry Go
//     convention); a handler's panic is "panic" that way;
//  2. a done context is "context.Canceled" or "context.DeadlineExceeded";
//  3. otherwise the chain is followed to its end (through Unwrap() error,
//     and the first error of an Unwrap() []error), passing over the
//     wrappers of fmt.Errorf, errors.Join and fxbus itself. The innermost
//     error of a named type T or *T of its own (not the text-only types of
//     errors.New and fmt.Errorf) names the class as "<import path>.T".
//     Failing that, the innermost error, when it is a sentinel
//     (an error of an unexported type that something wrapped, as
//     fmt.Errorf("%w: ...", ErrInvalid) does; fxbus's wrappers do not
//     count), names it with its own text, which is constant for a
//     sentinel;
//  4. otherwise the class is [Other]: an error returned as it was made,
//     by errors.New or fmt.Errorf without %w, may carry anything in its
//     text, so its text is never used. Wrap sentinels, or give the error
//     type an ErrorType method.
func ErrorType(err error) string {
	if err == nil {
		return ""
	}
	chain := make([]error, 0, 4)
	for e := err; e != nil; e = next(e) {
		chain = append(chain, e)
		if len(chain) > 100 { // a cycle of wrappers
			break
		}
	}
	for _, e := range chain {
		if et, ok := e.(interface{ ErrorType() string }); ok {
			if s := et.ErrorType(); s != "" {
				return s
			}
		}
	}
	switch {
	case errors.Is(err, context.Canceled):
		return "context.Canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "context.DeadlineExceeded"
	}
	for i := len(chain) - 1; i >= 0; i-- {
		if wrapper(chain[i]) {
			continue
		}
		if name := namedType(chain[i]); name != "" {
			return name
		}
	}
	// A sentinel is wrapped by the code that returns it; fxbus's own
	// wrappers, which wrap every handler's error, do not count.
	if n := len(chain); n > 1 && !ours(chain[n-2]) && !wrapper(chain[n-1]) {
		leaf := chain[n-1]
		if s := leaf.Error(); s != "" {
			return s
		}
	}
	return Other
}

// next is the error e wraps: its Unwrap() error, or the first of its
// Unwrap() []error; nil at the end of the chain.
func next(e error) error {
	switch u := e.(type) {
	case interface{ Unwrap() error }:
		return u.Unwrap()
	case interface{ Unwrap() []error }:
		for _, x := range u.Unwrap() {
			if x != nil {
				return x
			}
		}
	}
	return nil
}

// wrapper reports whether e is a wrapper that names no failure class: one
// of fmt.Errorf's or errors.Join's, or one of fxbus's own.
func wrapper(e error) bool {
	t := reflect.TypeOf(e)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if next(e) == nil {
		return false
	}
	p := t.PkgPath()
	return p == "fmt" || p == "errors" || ours(e)
}

// ours reports whether e is of a type of package bus or one under it.
func ours(e error) bool {
	t := reflect.TypeOf(e)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	p := t.PkgPath()
	return p == busPkg || strings.HasPrefix(p, busPkg+"/")
}

// namedType is "<import path>.T" when e is a T or a *T of a named type T
// of its own; "" for the types that only carry text, those of errors.New
// and fmt.Errorf, and for unnamed types.
func namedType(e error) string {
	t := reflect.TypeOf(e)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch p := t.PkgPath(); {
	case p == "", p == "errors", p == "fmt", t.Name() == "":
		return ""
	}
	return t.PkgPath() + "." + t.Name()
}

// message is what a span records of err's text: err.Error(), or what the
// bus's redaction makes of it.
func (in *Instrumentation) message(err error) string {
	if in.redact != nil {
		return in.redact(err)
	}
	return err.Error()
}

// Fail marks span as failed with err: status Error with err's message
// (redacted), error.type its class (see [ErrorType]), and an exception
// event with the class as exception.type and the message.
func (in *Instrumentation) Fail(span trace.Span, err error) {
	class, msg := ErrorType(err), in.message(err)
	span.SetStatus(codes.Error, msg)
	span.SetAttributes(semconv.ErrorTypeKey.String(class))
	attrs := []trace.EventOption{trace.WithAttributes(semconv.ExceptionType(class))}
	if msg != "" {
		attrs = append(attrs, trace.WithAttributes(semconv.ExceptionMessage(msg)))
	}
	span.AddEvent(semconv.ExceptionEventName, attrs...)
}

// Panic marks span as failed by a panic, err: status Error with err's
// message (redacted), error.type "panic", and an exception event of type
// "panic" with the message and the stack of the goroutine where it
// happened.
func (in *Instrumentation) Panic(span trace.Span, err error, stack []byte) {
	msg := in.message(err)
	span.SetStatus(codes.Error, msg)
	span.SetAttributes(semconv.ErrorTypeKey.String(PanicType), PanicKey.Bool(true))
	attrs := []trace.EventOption{trace.WithAttributes(semconv.ExceptionType(PanicType), semconv.ExceptionStacktrace(string(stack)))}
	if msg != "" {
		attrs = append(attrs, trace.WithAttributes(semconv.ExceptionMessage(msg)))
	}
	span.AddEvent(semconv.ExceptionEventName, attrs...)
}

// PanicType is error.type and exception.type of a handler's panic.
const PanicType = "panic"
