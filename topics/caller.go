package topics

import (
	"context"
	"slices"
	"strings"
)

// Caller is the identity of whoever made the call that led to a publish:
// the user, their session token and their roles. Put it in the context with
// [WithCaller] where a request enters the service; handlers read it with
// [CallerFrom], at any depth of nested publishes and hooks.
//
// It belongs to the desk's domain, beside its topics, so that modules
// written apart, which talk only through topics, agree on where to find the
// caller; the bus knows nothing of it, and puts no context value on a span
// or in an error.
type Caller struct {
	// UserID identifies the logged-in user; "" for an anonymous caller.
	UserID string
	// Token is the user's session token; "" for none. It is a secret:
	// String leaves it out.
	Token string
	// Roles are the security roles of the call. Treat them as read-only.
	Roles []string
}

// HasRole reports whether role is one of the caller's roles.
func (c Caller) HasRole(role string) bool { return slices.Contains(c.Roles, role) }

// Anonymous reports whether no user is logged in.
func (c Caller) Anonymous() bool { return c.UserID == "" }

// String returns the user id and roles, never the token.
func (c Caller) String() string {
	id := c.UserID
	if id == "" {
		id = "anonymous"
	}
	return id + " [" + strings.Join(c.Roles, " ") + "]"
}

type callerKey struct{}

// WithCaller returns a copy of ctx that carries c; it keeps its own copy
// of c.Roles.
func WithCaller(ctx context.Context, c Caller) context.Context {
	c.Roles = slices.Clone(c.Roles)
	return context.WithValue(ctx, callerKey{}, &c)
}

// CallerFrom returns the caller that ctx carries, and whether it carries
// one.
func CallerFrom(ctx context.Context) (Caller, bool) {
	if c, ok := ctx.Value(callerKey{}).(*Caller); ok {
		return *c, true
	}
	return Caller{}, false
}
