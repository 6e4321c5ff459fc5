package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"slices"
	"strings"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/hook"
)

// Channel is an asset: handlers compare it by pointer, never by name.
type Channel struct{ Name string }

var (
	Lobby         = &Channel{Name: "lobby"}
	Announcements = &Channel{Name: "announcements"}
	Support       = &Channel{Name: "support"}
)

// PublishReq and PublishRes are what the operation takes and returns.
type (
	PublishReq struct {
		Channel       *Channel
		From, Message string
	}
	PublishRes struct{ MessageID, AutoReply string }
	// PublishResult is the payload of the hook's after stage.
	PublishResult = hook.Result[PublishReq, PublishRes]
)

// MessagingPublish is two topics, "Messaging.publish.before" and
// "Messaging.publish.after", around whatever operation Run is given.
var MessagingPublish = hook.New[PublishReq, PublishRes]("Messaging.publish")

// Caller is who makes a call: the application's own type, under its own
// context key, which every handler and nested publish can read.
type Caller struct {
	UserID string
	Token  string // a secret: String leaves it out
	Roles  []string
}

// HasRole reports whether role is one of the caller's roles.
func (c Caller) HasRole(role string) bool { return slices.Contains(c.Roles, role) }

// String returns the user id and roles, never the token.
func (c Caller) String() string { return c.UserID + " [" + strings.Join(c.Roles, " ") + "]" }

type callerKey struct{}

// WithCaller returns a copy of ctx that carries c.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller that ctx carries, and whether it carries one.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// ErrForbidden is what a before handler returns to veto a call.
var ErrForbidden = errors.New("forbidden")

func main() {
	if err := run(os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(w io.Writer) error {
	b, err := bus.New([]bus.Listener{
		// Before, on every channel: change the request.
		bus.On(MessagingPublish.Before(), func(ctx context.Context, r *PublishReq) error {
			c, _ := CallerFrom(ctx)
			r.From, r.Message = c.UserID, strings.TrimSpace(r.Message)
			return nil
		}, bus.Name("stamp-sender")),
		// Before, on announcements only, and first: an error vetoes the call.
		bus.On(MessagingPublish.Before(), func(ctx context.Context, r *PublishReq) error {
			if c, _ := CallerFrom(ctx); !c.HasRole("Admin") {
				return fmt.Errorf("%w: %v may not post to #%s", ErrForbidden, c, r.Channel.Name)
			}
			return nil
		}, bus.Name("admins-only"), bus.Rank(-10),
			MessagingPublish.Before().When(func(r *PublishReq) bool { return r.Channel == Announcements })),
		// After, on support only: change the result.
		bus.On(MessagingPublish.After(), func(_ context.Context, r *PublishResult) error {
			if r.Err == nil {
				r.Res.AutoReply = "an operator will answer within 5 minutes"
			}
			return nil
		}, bus.Name("auto-reply"), MessagingPublish.After().When(func(r *PublishResult) bool { return r.Req.Channel == Support })),
	})
	if err != nil {
		return err
	}
	defer b.Close()

	// The operation itself knows nothing of the handlers around it.
	sent := 0
	deliver := func(_ context.Context, r *PublishReq) (*PublishRes, error) {
		sent++
		fmt.Fprintf(w, "  #%s <%s> %s\n", r.Channel.Name, r.From, r.Message)
		return &PublishRes{MessageID: fmt.Sprintf("msg-%d", sent)}, nil
	}

	// Where a request enters the service, put the caller in its context;
	// every handler and the operation can read it. (Never on a span.)
	ctx := context.Background()
	ann := WithCaller(ctx, Caller{UserID: "ann", Token: "s3cr3t", Roles: []string{"Admin"}})
	bob := WithCaller(ctx, Caller{UserID: "bob", Roles: []string{"Customer"}})
	for _, call := range []struct {
		ctx     context.Context
		channel *Channel
		message string
	}{
		{bob, Lobby, "  hi all  "},
		{bob, Announcements, "free coffee!"},
		{ann, Announcements, "we open at 9 tomorrow"},
		{bob, Support, "my order is late"},
	} {
		c, _ := CallerFrom(call.ctx) // %v prints the user and roles, never the token
		fmt.Fprintf(w, "%v posts to #%s:\n", c, call.channel.Name)
		res, err := MessagingPublish.Run(call.ctx, b, &PublishReq{Channel: call.channel, Message: call.message}, deliver)
		var herr *bus.HandlerError
		switch {
		case errors.Is(err, hook.ErrVetoed) && errors.As(err, &herr):
			fmt.Fprintf(w, "  vetoed by %s: %v\n", herr.Listener, herr.Err)
		case err != nil:
			return err
		case res.AutoReply != "":
			fmt.Fprintf(w, "  sent as %s, auto-reply: %s\n", res.MessageID, res.AutoReply)
		default:
			fmt.Fprintf(w, "  sent as %s\n", res.MessageID)
		}
	}
	return nil
}
