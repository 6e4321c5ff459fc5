package busdebug

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/plugin"
)

// Fixture topics: a secret in the payload, which no page may show.
const secret = "alice@example.com"

type Login struct {
	Email string
	OK    bool
}

type Order struct {
	ID    int64
	Total int
}

var (
	errDenied = errors.New("denied")

	userLogin = bus.NewTopic[Login]("user.login",
		bus.Description("a user signs in"), bus.RunAll)
	orderPlaced = bus.NewTopic[Order]("order.placed",
		bus.Description("an order is placed"), bus.AtLeastOne).
		SpanAttributes(func(o *Order) []attribute.KeyValue { return []attribute.KeyValue{attribute.Int64("order.id", o.ID)} })
	orderShipped = bus.NewTopic[Order]("order.shipped")
)

// fixture is a bus with listeners in two modules, an exported topic, a
// runtime subscription through a plugin, and a declared publisher.
func fixture(t *testing.T) *bus.Bus {
	t.Helper()
	b, err := bus.New([]bus.Listener{
		bus.On(userLogin, func(ctx context.Context, l *Login) error { return nil }, bus.Name("audit.login"), bus.InModule("audit"), bus.Rank(-10)),
		bus.On(userLogin, func(ctx context.Context, l *Login) error { return errDenied }, bus.Name("sso.check"), bus.InModule("sso")),
		bus.On(orderPlaced, func(ctx context.Context, o *Order) error { return nil }, bus.Name("billing.charge"), bus.InModule("billing")),
		bus.On(orderPlaced, func(ctx context.Context, o *Order) error { return nil }, bus.Name("bridge.export"), bus.InModule("bridge"), bus.Remote("nats:orders"), bus.Observer()),
	}, bus.WithPublisher(orderPlaced, "shop"), bus.WithTopics(orderShipped))
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	p, err := plugin.Register(b, "mailer")
	require.NoError(t, err)
	_, err = orderPlaced.Subscribe(b, func(ctx context.Context, o *Order) error { return nil }, bus.Name("mailer.confirm"), bus.Rank(5), bus.OwnedBy(p))
	require.NoError(t, err)
	return b
}

// get serves a GET of path on h and returns the status and body.
func get(t *testing.T, h http.Handler, path string) (int, string, http.Header) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	body, err := io.ReadAll(rec.Result().Body)
	require.NoError(t, err)
	return rec.Code, string(body), rec.Result().Header
}

// in asserts that the parts appear in body in this order.
func in(t *testing.T, body string, parts ...string) {
	t.Helper()
	at := 0
	for _, p := range parts {
		i := strings.Index(body[at:], p)
		require.GreaterOrEqualf(t, i, 0, "%q not found after offset %d (in order %q)", p, at, parts)
		at += i + len(p)
	}
}
