package bus

import (
	"go.uber.org/fx"

	"github.com/fxbus/fxbus/internal/otelbus"
)

// WithErrorRedaction sets what spans record of the text of an error: the
// status description and the exception event's exception.message become
// redact(err), and "" records no text at all. On a handler span, err is
// what the handler returned (or a [*PanicError]); on a publish or hook
// span, it is the error the call returns. The failure class, error.type
// (see [ErrorType]), is recorded whatever redact does.
//
// Without this option spans record err.Error() verbatim, which may carry
// personal data (an e-mail address in a failed login, say). A service
// that must record none can pass [ErrorType] itself: spans then read the
// class, "sso: invalid single sign-on" or "panic", and nothing else.
func WithErrorRedaction(redact func(err error) string) Option {
	return optionFunc(func(c *config) { c.redact = redact })
}

// ErrorType returns the failure class of err, as fxbus records it in
// error.type on spans and on the messaging.process.duration histogram: a
// low-cardinality name under which failures group, never the error's free
// text. First match wins:
//
//  1. an error in err's chain, outermost first, with an ErrorType() string
//     method names its class (the OpenTelemetry Go convention); a panic is
//     "panic" so, see [PanicError.ErrorType];
//  2. a done context: "context.Canceled" or "context.DeadlineExceeded";
//  3. passing over the wrappers of fmt.Errorf (%w), errors.Join and fxbus
//     ([*HandlerError] and the like), the innermost error of a named type
//     T or *T of its own (not errors.New's or fmt.Errorf's text-only
//     types): "<import path>.T";
//  4. the innermost error when something wrapped it, a sentinel such as
//     ErrInvalid in fmt.Errorf("%w: login %q", ErrInvalid, login): the
//     sentinel's own text, "sso: invalid single sign-on";
//  5. "_OTHER": an error returned as it was made, by errors.New or
//     fmt.Errorf without %w, may carry anything in its text.
//
// So a handler's failures group by its own sentinel or typed error, never
// by what wraps it. Return sentinels wrapped, or give error types an
// ErrorType method, to name a class.
func ErrorType(err error) string { return otelbus.ErrorType(err) }

// Configure gives [Module]'s bus more options, such as
// [WithErrorRedaction] or [WithMaxDepth]; they apply after the tracer and
// meter providers Module takes from the container.
func Configure(opts ...Option) fx.Option {
	return fx.Provide(fx.Annotate(func() []Option { return opts }, fx.ResultTags(`group:"fxbus.options,flatten"`)))
}
