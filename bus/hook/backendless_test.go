package hook_test

// The scenario test of seed 004, Backendless event handlers
// (/work/shared/seeds/004_*.txt): a "before" and an "after" event around
// an API call; before handlers may modify the arguments or veto the call;
// after handlers may modify the return value or the error; handlers scoped
// to an asset (here a messaging channel); the request context with the
// user id, token and roles.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/hook"
	"github.com/fxbus/fxbus/internal/spantest"
)

// blChannel is the asset of the Messaging service. Handlers are scoped to
// a channel value, so scoping compares pointers, not names.
type blChannel struct{ Name string }

var (
	blDefault = &blChannel{Name: "default"}
	blAlerts  = &blChannel{Name: "alerts"}
)

type (
	blPublishReq struct {
		Channel *blChannel
		Message string
		Headers map[string]string
	}
	blPublishRes struct {
		MessageID string
		Status    string
	}
)

// blChannelOf is the asset of a publish request; blResultChannelOf of its
// after event.
func blChannelOf(r *blPublishReq) *blChannel { return r.Channel }
func blResultChannelOf(r *hook.Result[blPublishReq, blPublishRes]) *blChannel {
	return r.Req.Channel
}

// blMessagingPublish is Backendless.ServerCode.Messaging's beforePublish
// and afterPublish, around the Publish API call.
var blMessagingPublish = hook.New[blPublishReq, blPublishRes]("Messaging.publish",
	bus.Description("the Publish API call of the Messaging service"))

var errBLChannelFull = errors.New("channel is full")

// blMessaging is the service: its default Publish logic, run through the hook.
type blMessaging struct {
	b         *bus.Bus
	published []string
	full      bool
}

func (m *blMessaging) Publish(ctx context.Context, req *blPublishReq) (*blPublishRes, error) {
	if req.Headers == nil {
		req.Headers = map[string]string{}
	}
	return blMessagingPublish.Run(ctx, m.b, req, func(_ context.Context, req *blPublishReq) (*blPublishRes, error) {
		if m.full {
			return nil, errBLChannelFull
		}
		m.published = append(m.published, req.Channel.Name+": "+req.Message)
		return &blPublishRes{MessageID: fmt.Sprint("msg-", len(m.published)), Status: "published"}, nil
	})
}

// blCaller is the caller's identity, under the application's own context
// key (Backendless: the user id, token and roles of the call).
type blCaller struct {
	UserID, Token string
	Roles         []string
}

func (c blCaller) HasRole(r string) bool { return slices.Contains(c.Roles, r) }

type blCallerKey struct{}

func blCallerFrom(ctx context.Context) (blCaller, bool) {
	c, ok := ctx.Value(blCallerKey{}).(blCaller)
	return c, ok
}

func blAs(userID string, roles ...string) context.Context {
	return context.WithValue(context.Background(), blCallerKey{}, blCaller{UserID: userID, Token: "token-of-" + userID, Roles: roles})
}

// TestBackendless is the seed's Messaging.publish, with its before and
// after handlers, scoped to a channel, and the caller in the context.
func TestBackendless(t *testing.T) {
	t.Run("before handler changes arguments", func(t *testing.T) {
		b := spantest.NewBus(t, []bus.Listener{
			// beforePublish('default', ...)
			bus.On(blMessagingPublish.Before(), func(ctx context.Context, req *blPublishReq) error {
				c, _ := blCallerFrom(ctx)
				req.Message = "[" + c.UserID + "] " + req.Message
				req.Headers["x-checked"] = "yes"
				return nil
			}, blMessagingPublish.Before().When(func(r *blPublishReq) bool { return blChannelOf(r) == blDefault })),
		})
		m := &blMessaging{b: b}
		req := &blPublishReq{Channel: blDefault, Message: "hi"}
		res, err := m.Publish(blAs("u1"), req)
		require.NoError(t, err)
		assert.Equal(t, &blPublishRes{MessageID: "msg-1", Status: "published"}, res)
		assert.Equal(t, []string{"default: [u1] hi"}, m.published, "the default logic got the modified arguments")
		assert.Equal(t, "yes", req.Headers["x-checked"])
	})
	t.Run("before handler vetoes", func(t *testing.T) {
		errForbidden := errors.New("publishing requires the Publisher role")
		var afterRan bool
		b := spantest.NewBus(t, []bus.Listener{
			bus.On(blMessagingPublish.Before(), func(ctx context.Context, req *blPublishReq) error {
				if c, _ := blCallerFrom(ctx); !c.HasRole("Publisher") {
					return errForbidden
				}
				return nil
			}, bus.Name("requirePublisher")),
			bus.On(blMessagingPublish.After(), func(context.Context, *hook.Result[blPublishReq, blPublishRes]) error {
				afterRan = true
				return nil
			}),
		})
		m := &blMessaging{b: b}
		res, err := m.Publish(blAs("u2", "AuthenticatedUser"), &blPublishReq{Channel: blDefault, Message: "spam"})
		assert.Nil(t, res)
		assert.ErrorIs(t, err, hook.ErrVetoed)
		assert.ErrorIs(t, err, errForbidden, "the client receives the handler's error")
		assert.ErrorContains(t, err, "requirePublisher")
		assert.Empty(t, m.published, "the default logic did not run")
		assert.False(t, afterRan)

		_, err = m.Publish(blAs("u3", "AuthenticatedUser", "Publisher"), &blPublishReq{Channel: blDefault, Message: "ok"})
		require.NoError(t, err)
		assert.Equal(t, []string{"default: ok"}, m.published)
	})
	t.Run("after handler changes result", func(t *testing.T) {
		b := spantest.NewBus(t, []bus.Listener{
			bus.On(blMessagingPublish.After(), func(_ context.Context, r *hook.Result[blPublishReq, blPublishRes]) error {
				if r.Err == nil {
					r.Res.Status = "published and archived"
				}
				return nil
			}),
		})
		res, err := (&blMessaging{b: b}).Publish(blAs("u1"), &blPublishReq{Channel: blDefault, Message: "x"})
		require.NoError(t, err)
		assert.Equal(t, "published and archived", res.Status)
	})
	t.Run("after handler turns error into result", func(t *testing.T) {
		b := spantest.NewBus(t, []bus.Listener{
			bus.On(blMessagingPublish.After(), func(_ context.Context, r *hook.Result[blPublishReq, blPublishRes]) error {
				if errors.Is(r.Err, errBLChannelFull) {
					r.Res, r.Err = &blPublishRes{Status: "queued for later"}, nil
				}
				return nil
			}, blMessagingPublish.After().When(func(r *hook.Result[blPublishReq, blPublishRes]) bool { return blResultChannelOf(r) == blAlerts })),
		})
		m := &blMessaging{b: b, full: true}
		res, err := m.Publish(blAs("u1"), &blPublishReq{Channel: blAlerts, Message: "disk full"})
		require.NoError(t, err)
		assert.Equal(t, &blPublishRes{Status: "queued for later"}, res)

		_, err = m.Publish(blAs("u1"), &blPublishReq{Channel: blDefault, Message: "x"})
		assert.ErrorIs(t, err, errBLChannelFull, "the handler is scoped to alerts: default's error reaches the client")
	})
	t.Run("handler scoped to one channel", func(t *testing.T) {
		var seen []string
		b := spantest.NewBus(t, []bus.Listener{
			bus.On(blMessagingPublish.Before(), func(_ context.Context, req *blPublishReq) error {
				seen = append(seen, "before "+req.Channel.Name)
				return nil
			}, blMessagingPublish.Before().When(func(r *blPublishReq) bool { return blChannelOf(r) == blAlerts })),
			bus.On(blMessagingPublish.After(), func(_ context.Context, r *hook.Result[blPublishReq, blPublishRes]) error {
				seen = append(seen, "after "+r.Req.Channel.Name)
				return nil
			}, blMessagingPublish.After().When(func(r *hook.Result[blPublishReq, blPublishRes]) bool { return blResultChannelOf(r) == blAlerts })),
		})
		m := &blMessaging{b: b}
		for _, ch := range []*blChannel{blDefault, blAlerts, {Name: "alerts"}} { // the last: same name, another channel
			_, err := m.Publish(blAs("u1"), &blPublishReq{Channel: ch, Message: "m"})
			require.NoError(t, err)
		}
		assert.Equal(t, []string{"before alerts", "after alerts"}, seen)
		assert.Len(t, m.published, 3)
	})
	t.Run("caller identity from context", func(t *testing.T) {
		type seenCaller struct {
			UserID, Token string
			Roles         []string
			Known         bool
		}
		var seen []seenCaller
		record := func(ctx context.Context) {
			c, ok := blCallerFrom(ctx)
			seen = append(seen, seenCaller{c.UserID, c.Token, c.Roles, ok})
		}
		b := spantest.NewBus(t, []bus.Listener{
			bus.On(blMessagingPublish.Before(), func(ctx context.Context, _ *blPublishReq) error { record(ctx); return nil }),
			bus.On(blMessagingPublish.After(), func(ctx context.Context, _ *hook.Result[blPublishReq, blPublishRes]) error {
				record(ctx)
				return nil
			}),
		})
		m := &blMessaging{b: b}
		_, err := m.Publish(blAs("5A3F", "AuthenticatedUser", "Publisher"), &blPublishReq{Channel: blDefault})
		require.NoError(t, err)
		_, err = m.Publish(context.Background(), &blPublishReq{Channel: blDefault}) // no logged-in user
		require.NoError(t, err)
		u := seenCaller{"5A3F", "token-of-5A3F", []string{"AuthenticatedUser", "Publisher"}, true}
		assert.Equal(t, []seenCaller{u, u, {}, {}}, seen)
	})
}
