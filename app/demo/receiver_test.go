package demo_test

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx/fxtest"
	"go.uber.org/goleak"

	"github.com/fxbus/fxbus/app/demo"
	"github.com/fxbus/fxbus/modules/webhooks"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The receiver records what is signed with its secret, once per delivery
// id, and refuses the rest.
func TestReceiverVerifiesSignatures(t *testing.T) {
	lc := fxtest.NewLifecycle(t)
	r := demo.NewWebhookReceiver(lc)
	lc.RequireStart()
	defer lc.RequireStop()
	body := []byte(`{"topic":"ban.created","event":{}}`)
	post := func(sig, id string) int {
		req, err := http.NewRequest(http.MethodPost, r.URL(), bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set(webhooks.HeaderSignature, sig)
		req.Header.Set(webhooks.HeaderDelivery, id)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res.StatusCode
	}
	defer http.DefaultClient.CloseIdleConnections()
	assert.Equal(t, 401, post(webhooks.Sign([]byte("not-the-receivers-secret"), body, time.Now()), "a"))
	assert.Equal(t, 401, post("", "b"))
	assert.Equal(t, 204, post(webhooks.Sign(r.Secret(), body, time.Now()), "c"))
	assert.Equal(t, 204, post(webhooks.Sign(r.Secret(), body, time.Now()), "c"), "a retry is answered")
	assert.Len(t, r.Deliveries(), 1, "and recorded once")
	assert.Equal(t, 2, r.Refused())
}
