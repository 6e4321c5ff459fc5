package bus_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/fxbus/fxbus/bus"
)

var errInvalidLogin = errors.New("sso: invalid login")

type quotaError struct{ User string }

func (e *quotaError) Error() string { return "quota exceeded for " + e.User }

type classedError struct{ err error }

func (e classedError) Error() string     { return "classed: " + e.err.Error() }
func (e classedError) Unwrap() error     { return e.err }
func (e classedError) ErrorType() string { return "billing.declined" }

// error.type groups failures by the handler's own sentinel or typed error,
// past every wrapper, and never takes free text that may carry personal
// data.
func TestErrorType(t *testing.T) {
	topic := bus.NewTopic[event]("errtype.nested")
	b, err := bus.New([]bus.Listener{bus.On(topic, failWith("inner", fmt.Errorf("%w: user %q", errInvalidLogin, "ann")))})
	require.NoError(t, err)
	nested := topic.Publish(t.Context(), b, &event{})
	require.Error(t, nested)
	plain := bus.NewTopic[event]("errtype.plain")
	b3, err := bus.New([]bus.Listener{bus.On(plain, failWith("inner", errors.New("login ann refused")))})
	require.NoError(t, err)
	nestedPlain := plain.Publish(t.Context(), b3, &event{})
	require.Error(t, nestedPlain)
	panicked := bus.NewTopic[event]("errtype.panic")
	b2, err := bus.New([]bus.Listener{bus.On(panicked, func(context.Context, *event) error { panic(errInvalidLogin) })})
	require.NoError(t, err)
	panicErr := panicked.Publish(t.Context(), b2, &event{})
	require.Error(t, panicErr)

	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"a wrapped sentinel: its own text", fmt.Errorf("%w: wrong signature for login %q", errInvalidLogin, "olivia@example.com"), "sso: invalid login"},
		{"wrapped twice", fmt.Errorf("moderation: %w", fmt.Errorf("%w: %q", errInvalidLogin, "x")), "sso: invalid login"},
		{"a typed error: its type", &quotaError{User: "olivia"}, "github.com/fxbus/fxbus/bus_test.quotaError"},
		{"a typed error, wrapped", fmt.Errorf("charge %q: %w", "olivia", &quotaError{User: "olivia"}), "github.com/fxbus/fxbus/bus_test.quotaError"},
		{"a standard typed error", fmt.Errorf("load: %w", &fs.PathError{Op: "open", Path: "/home/olivia", Err: fs.ErrNotExist}), "io/fs.PathError"},
		{"the innermost typed error wins", &quotaError{}, "github.com/fxbus/fxbus/bus_test.quotaError"},
		{"an ErrorType method names the class", fmt.Errorf("x: %w", classedError{err: &quotaError{}}), "billing.declined"},
		{"a nested publish's failure: the inner handler's class", fmt.Errorf("ban %q: %w", "ann", nested), "sso: invalid login"},
		{"a nested publish's unclassed failure stays unclassed", fmt.Errorf("ban: %w", nestedPlain), "_OTHER"},
		{"a joined error: the first", errors.Join(fmt.Errorf("%w: a", errInvalidLogin), &quotaError{}), "sso: invalid login"},
		{"a panic, whatever its value", panicErr, "panic"},
		{"a done context", fmt.Errorf("wait: %w", context.DeadlineExceeded), "context.DeadlineExceeded"},
		{"cancelled", context.Canceled, "context.Canceled"},
		{"errors.New's text names nothing", errors.New("login olivia@example.com refused"), "_OTHER"},
		{"nor fmt.Errorf's without %w", fmt.Errorf("login %q refused: %v", "olivia", errInvalidLogin), "_OTHER"},
		{"nil", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, bus.ErrorType(tc.err))
		})
	}
}

// personal is the login that must not reach a span.
const personal = "olivia@example.com"

func failLogin(context.Context, *event) error {
	return fmt.Errorf("%w: wrong signature for login %q", errInvalidLogin, personal)
}

// spanText is everything a span says in text: name, status, attributes,
// events and their attributes.
func spanText(s sdktrace.ReadOnlySpan) string {
	var b strings.Builder
	fmt.Fprintln(&b, s.Name(), s.Status().Description)
	for _, kv := range s.Attributes() {
		fmt.Fprintln(&b, kv.Key, kv.Value.String())
	}
	for _, ev := range s.Events() {
		fmt.Fprintln(&b, ev.Name)
		for _, kv := range ev.Attributes {
			fmt.Fprintln(&b, kv.Key, kv.Value.String())
		}
	}
	return b.String()
}

func TestErrorRedaction(t *testing.T) {
	run := func(t *testing.T, opts ...bus.Option) []sdktrace.ReadOnlySpan {
		rec, tp := newRecorder(t)
		topic := bus.NewTopic[event]("redact")
		b := newBus(t, []bus.Listener{
			bus.On(topic, failLogin, bus.Name("sso")),
		}, append([]bus.Option{bus.WithTracerProvider(tp)}, opts...)...)
		err := topic.Publish(t.Context(), b, &event{})
		require.ErrorIs(t, err, errInvalidLogin)
		assert.Contains(t, err.Error(), personal, "the caller still gets the whole error")
		ctx, end := b.StartSpan(t.Context(), "op redact")
		end(failLogin(ctx, &event{}))
		return rec.Ended()
	}

	t.Run("default: verbatim", func(t *testing.T) {
		spans := run(t)
		h := spanNamed(t, spans, "sso redact")
		assert.Contains(t, h.Status().Description, personal)
		assert.Equal(t, "sso: invalid login", attrMap(h.Attributes())["error.type"])
	})

	t.Run("the class only", func(t *testing.T) {
		spans := run(t, bus.WithErrorRedaction(bus.ErrorType))
		require.NotEmpty(t, spans)
		for _, s := range spans {
			assert.NotContains(t, spanText(s), "olivia", "span %q", s.Name())
		}
		for _, name := range []string{"sso redact", "publish redact", "op redact"} {
			s := spanNamed(t, spans, name)
			assert.Equal(t, codes.Error, s.Status().Code, name)
			assert.Equal(t, "sso: invalid login", s.Status().Description, name)
			assert.Equal(t, "sso: invalid login", attrMap(s.Attributes())["error.type"], name)
			require.Len(t, s.Events(), 1, name)
			assert.Equal(t, "sso: invalid login", attrMap(s.Events()[0].Attributes)["exception.type"], name)
		}
	})

	t.Run("no text", func(t *testing.T) {
		spans := run(t, bus.WithErrorRedaction(func(error) string { return "" }))
		h := spanNamed(t, spans, "sso redact")
		assert.Equal(t, codes.Error, h.Status().Code)
		assert.Empty(t, h.Status().Description)
		assert.Equal(t, "sso: invalid login", attrMap(h.Attributes())["error.type"], "the class is recorded whatever the redaction")
		require.Len(t, h.Events(), 1)
		assert.NotContains(t, attrMap(h.Events()[0].Attributes), "exception.message")
	})

	t.Run("panic", func(t *testing.T) {
		rec, tp := newRecorder(t)
		topic := bus.NewTopic[event]("redact.panic")
		b := newBus(t, []bus.Listener{bus.On(topic, func(context.Context, *event) error { panic("login " + personal) }, bus.Name("p"))},
			bus.WithTracerProvider(tp), bus.WithErrorRedaction(bus.ErrorType))
		require.Error(t, topic.Publish(t.Context(), b, &event{}))
		for _, s := range rec.Ended() {
			assert.NotContains(t, spanText(s), "olivia", "span %q", s.Name())
		}
		ev := spanNamed(t, rec.Ended(), "p redact.panic").Events()[0]
		assert.Contains(t, attrMap(ev.Attributes)["exception.stacktrace"], "panic", "the stack is kept")
	})
}

// Under fx, Configure hands options to Module's bus.
func TestConfigureUnderFx(t *testing.T) {
	rec, tp := newRecorder(t)
	topic := bus.NewTopic[event]("redact.fx")
	var b *bus.Bus
	app := fxtest.New(t,
		fx.NopLogger,
		bus.Module,
		fx.Supply(fx.Annotate(tp, fx.As(new(trace.TracerProvider)))),
		bus.Configure(bus.WithErrorRedaction(bus.ErrorType)),
		bus.Listen(topic, failLogin, bus.Name("sso")),
		fx.Populate(&b),
	)
	app.RequireStart()
	defer app.RequireStop()
	require.Error(t, topic.Publish(t.Context(), b, &event{}))
	s := spanNamed(t, rec.Ended(), "sso redact.fx")
	assert.Equal(t, "sso: invalid login", s.Status().Description)
}
