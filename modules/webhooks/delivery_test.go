package webhooks_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/modules/webhooks"
	"github.com/fxbus/fxbus/topics"
)

// Every delivery is signed with the endpoint's secret, over a timestamp
// and the body, and carries its id and topic; the receiver verifies it
// with the documented helper.
func TestDeliveriesAreSignedAndVerified(t *testing.T) {
	var got atomic.Pointer[http.Header]
	var verified atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Clone()
		got.Store(&h)
		body, err := webhooks.VerifyRequest(r, testSecret, 1<<20, 0)
		if err != nil {
			verified.Store(err.Error())
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		verified.Store(string(body))
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	a := newApp(t, webhooks.Config{Endpoints: []webhooks.Endpoint{
		{Name: "crm", URL: srv.URL, Rules: []webhooks.Rule{{Topic: "ban.deleted"}}},
	}})
	a.RequireStart()
	require.NoError(t, topics.BanDeleted.Publish(ctx, a.b, &topics.BanDeletion{ID: 7}))
	a.RequireStop()
	require.Equal(t, 1, a.stats.Delivered("crm"), "verified: %v", verified.Load())
	assert.JSONEq(t, `{"topic":"ban.deleted","event":{"ID":7}}`, verified.Load().(string))
	h := *got.Load()
	assert.Equal(t, "ban.deleted", h.Get(webhooks.HeaderEvent))
	assert.Len(t, h.Get(webhooks.HeaderDelivery), 26, "a random delivery id")
	assert.Regexp(t, `^t=\d+,v1=[0-9a-f]{64}$`, h.Get(webhooks.HeaderSignature))
}

// The recipe of Verify: the HMAC of "<t>.<body>", within the tolerance,
// any of several v1 signatures.
func TestVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"topic":"ban.created","event":{}}`)
	good := webhooks.Sign(testSecret, body, now)
	assert.Equal(t, "t=1800000000,v1=", good[:16])
	for _, tc := range []struct {
		name, header string
		body         []byte
		now          time.Time
		err          string
	}{
		{name: "good", header: good, body: body, now: now},
		{name: "a minute later", header: good, body: body, now: now.Add(time.Minute)},
		{name: "two signatures, a rotation", header: webhooks.Sign([]byte("the-old-secret-0"), body, now) + "," + strings.Split(good, ",")[1], body: body, now: now},
		{name: "tampered body", header: good, body: append(bytes.Clone(body), ' '), now: now, err: "no v1 signature matches"},
		{name: "other secret", header: webhooks.Sign([]byte("another-secret-!"), body, now), body: body, now: now, err: "no v1 signature matches"},
		{name: "too old: a replay", header: good, body: body, now: now.Add(6 * time.Minute), err: "more than 5m0s from now"},
		{name: "from the future", header: good, body: body, now: now.Add(-6 * time.Minute), err: "more than 5m0s from now"},
		{name: "other timestamp", header: strings.Replace(good, "t=1800000000", "t=1800000001", 1), body: body, now: now, err: "no v1 signature matches"},
		{name: "empty", header: "", body: body, now: now, err: "is not t=<seconds>,v1=<hex>"},
		{name: "no v1", header: "t=1800000000", body: body, now: now, err: "is not t=<seconds>,v1=<hex>"},
		{name: "not hex", header: "t=1800000000,v1=zz", body: body, now: now, err: "no v1 signature matches"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := webhooks.Verify(testSecret, tc.body, tc.header, 0, tc.now)
			if tc.err == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, webhooks.ErrSignature)
			assert.ErrorContains(t, err, tc.err)
		})
	}
}

// A redirect is not followed: the event is not re-POSTed elsewhere, and
// the delivery counts as failed.
func TestRedirectsAreNotFollowed(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL, http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	var log syncBuffer
	a := newApp(t, webhooks.Config{Endpoints: []webhooks.Endpoint{
		{Name: "crm", URL: redirect.URL, Rules: []webhooks.Rule{{Topic: "ban.deleted"}}},
	}}, logger(&log))
	a.RequireStart()
	require.NoError(t, topics.BanDeleted.Publish(ctx, a.b, &topics.BanDeletion{ID: 1}))
	a.RequireStop()
	assert.Zero(t, elsewhere.Load(), "nothing reached the redirect's target")
	assert.Equal(t, 1, a.stats.Failed("crm"))
	assert.Zero(t, a.stats.Retried("crm"), "a redirect is not retried")
	assert.Contains(t, log.String(), "307 Temporary Redirect: redirects are not followed")
}

// A 5xx is retried, with the same delivery id, until it succeeds; a 4xx
// is not.
func TestRetriesWithBackoff(t *testing.T) {
	r := newReceiver(t)
	r.answers = make(chan int, 4)
	r.answers <- http.StatusServiceUnavailable
	r.answers <- http.StatusInternalServerError
	a := newApp(t, webhooks.Config{Endpoints: []webhooks.Endpoint{
		{Name: "crm", URL: r.url("crm"), Rules: []webhooks.Rule{{Topic: "ban.deleted"}}},
	}})
	a.RequireStart()
	require.NoError(t, topics.BanDeleted.Publish(ctx, a.b, &topics.BanDeletion{ID: 1}))
	ids := []string{r.await(t).ID, r.await(t).ID, r.await(t).ID}
	assert.Equal(t, ids[0], ids[1])
	assert.Equal(t, ids[0], ids[2], "one delivery id for every attempt")

	r.answers <- http.StatusBadRequest
	require.NoError(t, topics.BanDeleted.Publish(ctx, a.b, &topics.BanDeletion{ID: 2}))
	r.await(t)
	a.RequireStop()
	assert.Equal(t, 1, a.stats.Delivered("crm"))
	assert.Equal(t, 2, a.stats.Retried("crm"))
	assert.Equal(t, 1, a.stats.Failed("crm"), "the 400, at once")
}

// A queue that overflows logs its drops once per interval, with their
// count, not once per event; and the count adds up at stop.
func TestDropsLoggedOncePerInterval(t *testing.T) {
	r := newReceiver(t).gated()
	var log syncBuffer
	a := newApp(t, webhooks.Config{LogInterval: time.Hour, Endpoints: []webhooks.Endpoint{
		{Name: "slow", URL: r.url("slow"), QueueSize: 1, Rules: []webhooks.Rule{{Topic: "ban.deleted"}}},
	}}, logger(&log))
	a.RequireStart()
	require.NoError(t, topics.BanDeleted.Publish(ctx, a.b, &topics.BanDeletion{ID: 0}))
	r.await(t) // held by the worker
	for i := range 1000 {
		require.NoError(t, topics.BanDeleted.Publish(ctx, a.b, &topics.BanDeletion{ID: topics.BanID(i + 1)}))
	}
	assert.Equal(t, 999, a.stats.Dropped("slow"), "one queued, the rest dropped")
	r.release()
	a.RequireStop()
	lines := strings.Count(log.String(), "events dropped")
	assert.Equal(t, 2, lines, "the first drop, then the rest at stop:\n%s", log.String())
	assert.Contains(t, log.String(), "count=998")
	assert.Contains(t, log.String(), "delivered=2 failed=0 dropped=999")
}

// The dialer refuses, at each connection, an address the config does not
// allow, whatever name resolved to it.
func TestDialRefusesAddressesNotAllowed(t *testing.T) {
	for _, tc := range []struct {
		loopback, private bool
		addr              string
		ok                bool
	}{
		{false, false, "93.184.216.34:443", true},
		{false, false, "[2606:2800:220:1::]:443", true},
		{false, false, "127.0.0.1:80", false},
		{false, false, "[::1]:80", false},
		{false, false, "[::ffff:127.0.0.1]:80", false},
		{true, false, "127.0.0.1:80", true},
		{true, false, "10.0.0.1:80", false},
		{false, false, "169.254.169.254:80", false},
		{false, false, "0.0.0.0:80", false},
		{false, true, "192.168.1.1:80", true},
	} {
		err := webhooks.CheckDial(tc.loopback, tc.private, tc.addr)
		assert.Equal(t, tc.ok, err == nil, fmt.Sprintf("%s (loopback %t, private %t): %v", tc.addr, tc.loopback, tc.private, err))
	}
}
