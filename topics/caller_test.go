package topics_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/topics"
)

func TestCallerInContext(t *testing.T) {
	ctx := context.Background()
	_, ok := topics.CallerFrom(ctx)
	assert.False(t, ok)

	roles := []string{"admin", "operator"}
	ctx = topics.WithCaller(ctx, topics.Caller{UserID: "u1", Token: "secret-token", Roles: roles})
	roles[0] = "changed" // WithCaller kept its own copy
	c, ok := topics.CallerFrom(ctx)
	require.True(t, ok)
	assert.Equal(t, "u1", c.UserID)
	assert.Equal(t, "secret-token", c.Token)
	assert.True(t, c.HasRole("admin"))
	assert.False(t, c.HasRole("changed"))
	assert.False(t, c.Anonymous())
	assert.Equal(t, "u1 [admin operator]", c.String())
	assert.NotContains(t, c.String(), "secret")
	assert.True(t, topics.Caller{}.Anonymous())
	assert.Equal(t, "anonymous []", topics.Caller{}.String())
}
