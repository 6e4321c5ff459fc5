package bus

import (
	"go.uber.org/fx"
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
// what failed by error.type alone.
func WithErrorRedaction(redact func(err error) string) Option {
	return optionFunc(func(c *config) { c.redact = redact })
}

// Configure gives [Module]'s bus more options, such as
// [WithErrorRedaction] or [WithMaxDepth]; they apply after the tracer and
// meter providers Module takes from the container.
func Configure(opts ...Option) fx.Option {
	return fx.Provide(fx.Annotate(func() []Option { return opts }, fx.ResultTags(`group:"fxbus.options,flatten"`)))
}
