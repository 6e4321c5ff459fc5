package bus

import (
	"go.uber.org/fx"

	"github.com/fxbus/fxbus/internal/otelbus"
)

// WithErrorRedaction sets what spans record of the text of an error: the
// status description and the exception event's exception.message become
// redact(err), and "" records no text at all. On a handler span, err is
// what the handler returned (or a [*PanicError]); on a publish or hook
// span, it is the error the call returns. The failure class, error.type,
// is recorded whatever redact does (see "Telemetry" in the package doc).
//
// Without this option spans record err.Error() verbatim, which may carry
// personal data (an e-mail address in a failed login, say). A service
// that must record none passes a redact that returns "": spans then say
// what failed by error.type alone. Passing [ErrorType] records the class
// as the text too, which tracing UIs that show only the status
// description then show.
func WithErrorRedaction(redact func(err error) string) Option {
	return optionFunc(func(c *config) { c.redact = redact })
}

// ErrorType returns the failure class of err that spans and measurements
// record as error.type (see "Telemetry" in the package doc): for logs and
// metrics of your own that group failures as the traces do, or as a
// redaction ([WithErrorRedaction]) that records the class alone.
func ErrorType(err error) string { return otelbus.ErrorType(err) }

// Configure gives [Module]'s bus more options, such as
// [WithErrorRedaction] or [WithMaxDepth]; they apply after the tracer and
// meter providers Module takes from the container.
func Configure(opts ...Option) fx.Option {
	return fx.Provide(fx.Annotate(func() []Option { return opts }, fx.ResultTags(`group:"fxbus.options,flatten"`)))
}
