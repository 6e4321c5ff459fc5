package bus_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/bus"
)

// TestErrorText: every error says "fxbus:" once, names the topic, and the
// listener with its source where one is concerned.
func TestErrorText(t *testing.T) {
	inner := bus.NewTopic[event]("errors.inner")
	outer := bus.NewTopic[event]("errors.outer")
	var b *bus.Bus
	innerLine := line() + 1
	boom := bus.On(inner, failWith("b", errors.New("boom")), bus.Name("b"))
	outerLine := line() + 1
	relay := bus.On(outer, func(ctx context.Context, e *event) error { return inner.Publish(ctx, b, e) }, bus.Name("a"))
	b = newBus(t, []bus.Listener{boom, relay})

	err := outer.Publish(t.Context(), b, &event{})
	assert.Equal(t, fmt.Sprintf(`fxbus: topic "errors.outer": listener a (%s:%d): topic "errors.inner": listener b (%s:%d): boom`,
		relay.Info().Source.File, outerLine, boom.Info().Source.File, innerLine), err.Error())

	for _, tc := range []struct {
		name string
		err  error
		want string
		is   error
	}{
		{"nil payload", outer.Publish(t.Context(), b, nil), `fxbus: publish "errors.outer": nil payload`, errors.New("nil payload")},
		{"nil bus", outer.Publish(t.Context(), nil, &event{}), `fxbus: publish "errors.outer": nil bus`, errors.New("nil bus")},
		{"closed", func() error {
			c := newBus(t, nil)
			require.NoError(t, c.Close())
			return outer.Publish(t.Context(), c, &event{})
		}(), `fxbus: publish "errors.outer": bus closed`, bus.ErrClosed},
		{"subscribe on closed", func() error {
			c := newBus(t, nil)
			require.NoError(t, c.Close())
			_, err := outer.Subscribe(c, record("x"))
			return err
		}(), `fxbus: subscribe to "errors.outer": bus closed`, bus.ErrClosed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.err.Error())
			assert.ErrorContains(t, tc.err, tc.is.Error())
		})
	}
}

// TestNewReturnsWiringErrors: New's error joins one *WiringError per
// mistake, whatever the mistake, and its Listener is the listener's name,
// as in a HandlerError.
func TestNewReturnsWiringErrors(t *testing.T) {
	topic := bus.NewTopic[event]("errors.wiring")
	bad := bus.NewTopic[event]("")
	one := bus.NewTopic[event]("errors.one", bus.ExactlyOne)
	var nilTopic *bus.Topic[event]
	_, err := bus.New(
		[]bus.Listener{
			nil,
			bus.On(topic, nil, bus.Name("nohandler")),
			bus.On(bad, record("x")),
			bus.On(one, record("y")), bus.On(one, record("z")),
		},
		bus.WithTopics(nil),
		bus.WithPublisher(nilTopic, "m"),
	)
	require.Error(t, err)
	joined, ok := err.(interface{ Unwrap() []error })
	require.True(t, ok, "a join of every mistake")
	errs := joined.Unwrap()
	assert.Len(t, errs, 6)
	for _, e := range errs {
		var werr *bus.WiringError
		assert.True(t, errors.As(e, &werr), "%T: %v", e, e)
		assert.Equal(t, 1, strings.Count(e.Error(), "fxbus:"), e.Error())
	}
	var werr *bus.WiringError
	require.ErrorAs(t, err, &werr)
	for _, e := range errs {
		if strings.Contains(e.Error(), "nil handler") {
			require.ErrorAs(t, e, &werr)
			assert.Equal(t, "nohandler", werr.Listener)
			assert.Contains(t, werr.Source.File, "errors_test.go")
		}
	}
}
