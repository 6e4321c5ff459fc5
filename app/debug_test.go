package main

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var debugURL = regexp.MustCompile(`bus debug page: (http://\S+/debug/fxbus/) \(operators only`)

// Serve prints the debug page's URL at start; there, an anonymous caller
// and a visitor are refused, an operator served.
func TestServePrintsTheDebugPage(t *testing.T) {
	stdout, stderr := newLines(), newLines()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, code := startServe(ctx, t, stdout, stderr)
	page := stdout.await(t, debugURL, 10*time.Second)[1]
	assert.Equal(t, base+"/debug/fxbus/", page)

	get := func(token string) int {
		req, err := http.NewRequest(http.MethodGet, page, nil)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		return res.StatusCode
	}
	assert.Equal(t, http.StatusUnauthorized, get(""), "anonymous")

	res, err := http.Post(base+"/visitors", "application/json", strings.NewReader(`{"user_id":"v","name":"V"}`))
	require.NoError(t, err)
	var visitor struct{ Token string }
	require.NoError(t, decodeJSON(res, &visitor))
	assert.Equal(t, http.StatusForbidden, get(visitor.Token), "a visitor")

	assert.Equal(t, http.StatusOK, get(operatorToken(t, base, []byte(strings.Repeat("s", 32)))), "an operator")
	http.DefaultClient.CloseIdleConnections()
	cancel()
	require.Equal(t, 0, waitCode(t, code), stderr.String())
}

func decodeJSON(res *http.Response, into any) error {
	defer res.Body.Close()
	return json.NewDecoder(res.Body).Decode(into)
}
