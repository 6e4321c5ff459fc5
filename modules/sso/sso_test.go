package sso_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/goleak"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/modules/sso"
	"github.com/fxbus/fxbus/topics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var secret = []byte("s3cret-s3cret-s3cret-s3cret-s3cret")

// now is the fixed clock of the tests.
var now = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func clock() time.Time { return now }

// The signature is the lower-case hex HMAC-SHA256 of "<seconds>.<login>".
func TestSignIsLowerHexHMACSHA256(t *testing.T) {
	m := hmac.New(sha256.New, []byte("Jefe"))
	m.Write([]byte("1767323045.jane"))
	assert.Equal(t, hex.EncodeToString(m.Sum(nil)), sso.Sign([]byte("Jefe"), "jane", time.Unix(1767323045, 0)))
}

func TestSignCoversTheTimestamp(t *testing.T) {
	a := sso.Sign(secret, "ada", now)
	assert.Len(t, a, 64)
	assert.NotEqual(t, a, sso.Sign(secret, "ada", now.Add(time.Second)))
	assert.NotEqual(t, a, sso.Sign(secret, "adb", now))
	h := sso.Headers(secret, "ada", now)
	assert.Equal(t, map[string]string{sso.HeaderLogin: "ada", sso.HeaderTimestamp: strconv.FormatInt(now.Unix(), 10), sso.HeaderSignature: a}, h)
}

func TestAuthenticate(t *testing.T) {
	const login = "jane.doe@example.com"
	good := sso.Sign(secret, login, now)
	ts := strconv.FormatInt(now.Unix(), 10)
	for _, tc := range []struct {
		name                 string
		login, ts, signature string
		operator             *topics.Operator // want
		err                  string           // want, "" for none
		later                bool             // whether the next authenticator runs
	}{
		{name: "valid", login: login, ts: ts, signature: good,
			operator: &topics.Operator{Login: login, LocalName: "Jane Doe", CommonName: "Jane Doe",
				Email: login, Permissions: topics.PermissionModifyProfile}},
		{name: "signed a minute ago", login: login, ts: strconv.FormatInt(now.Add(-time.Minute).Unix(), 10),
			signature: sso.Sign(secret, login, now.Add(-time.Minute)), operator: sso.OperatorFor(login)},
		{name: "no headers", later: true},
		{name: "login only", login: login, err: "X-SSO-Login, X-SSO-Timestamp and X-SSO-Signature are all required"},
		{name: "no timestamp", login: login, signature: good, err: "are all required"},
		{name: "signature only", signature: good, ts: ts, err: "are all required"},
		{name: "upper-case hex", login: login, ts: ts, signature: strings.ToUpper(good),
			err: "X-SSO-Signature is not 64 lower-case hex digits"},
		{name: "short", login: login, ts: ts, signature: good[:10], err: "not 64 lower-case hex digits"},
		{name: "timestamp not a number", login: login, ts: "soon", signature: good, err: "X-SSO-Timestamp is not a number"},
		{name: "another login's", login: "root", ts: ts, signature: good, err: `wrong X-SSO-Signature for login "root"`},
		{name: "another time's", login: login, ts: strconv.FormatInt(now.Unix()+1, 10), signature: good, err: "wrong X-SSO-Signature"},
		{name: "another secret's", login: login, ts: ts, signature: sso.Sign([]byte("other"), login, now), err: "wrong X-SSO-Signature"},
		{name: "expired", login: login, ts: strconv.FormatInt(now.Add(-3*time.Minute).Unix(), 10),
			signature: sso.Sign(secret, login, now.Add(-3*time.Minute)), err: "more than 2m0s from now"},
		{name: "from the future", login: login, ts: strconv.FormatInt(now.Add(3*time.Minute).Unix(), 10),
			signature: sso.Sign(secret, login, now.Add(3*time.Minute)), err: "more than 2m0s from now"},
		{name: "login with NUL", login: "ada\x00", ts: ts, signature: sso.Sign(secret, "ada\x00", now), err: "U+0000"},
		{name: "login with a bidi override", login: "ada\u202e", ts: ts, signature: sso.Sign(secret, "ada\u202e", now), err: "U+202E"},
		{name: "login not UTF-8", login: "ada\xff", ts: ts, signature: sso.Sign(secret, "ada\xff", now), err: "not valid UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b *bus.Bus
			later := false
			app := fxtest.New(t, fx.NopLogger, bus.Module, sso.Module,
				fx.Supply(sso.Config{Secret: secret, Now: clock}),
				bus.Listen(topics.OperatorAuthenticate, func(context.Context, *topics.Authentication) error {
					later = true
					return nil
				}, bus.Rank(10)),
				fx.Populate(&b))
			app.RequireStart()
			defer app.RequireStop()

			r := httptest.NewRequest("GET", "/operator", nil)
			for k, v := range map[string]string{sso.HeaderLogin: tc.login, sso.HeaderTimestamp: tc.ts, sso.HeaderSignature: tc.signature} {
				if v != "" {
					r.Header.Set(k, v)
				}
			}
			a := &topics.Authentication{Request: r}
			err := topics.OperatorAuthenticate.Publish(context.Background(), b, a)
			if tc.err != "" {
				require.Error(t, err)
				assert.ErrorIs(t, err, sso.ErrInvalid)
				assert.ErrorContains(t, err, tc.err)
				assert.NotContains(t, err.Error(), string(secret))
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.operator, a.Operator)
			assert.Equal(t, tc.later, later, "whether the next authenticator ran")
		})
	}
}

func signedRequest(login string, at time.Time) *topics.Authentication {
	r := httptest.NewRequest("POST", "/operators/login", nil)
	for k, v := range sso.Headers(secret, login, at) {
		r.Header.Set(k, v)
	}
	return &topics.Authentication{Request: r}
}

// A signature is accepted once: the same headers again, within the
// window, are a replay.
func TestAuthenticateRefusesAReplay(t *testing.T) {
	h, err := sso.NewAuthenticate(sso.Config{Secret: secret, Now: clock})
	require.NoError(t, err)
	require.ErrorIs(t, h(context.Background(), signedRequest("ada", now)), bus.ErrStop)
	err = h(context.Background(), signedRequest("ada", now))
	assert.ErrorIs(t, err, sso.ErrInvalid)
	assert.ErrorContains(t, err, "used already (a replay)")
	// A new signature, a second later, is fine.
	assert.ErrorIs(t, h(context.Background(), signedRequest("ada", now.Add(-time.Second))), bus.ErrStop)
}

// The signatures remembered are bounded: beyond MaxPending within the
// window, sign-ins are refused; once the first expire, they are accepted
// again.
func TestAuthenticateBoundsWhatItRemembers(t *testing.T) {
	clk := now
	h, err := sso.NewAuthenticate(sso.Config{Secret: secret, MaxPending: 2, Now: func() time.Time { return clk }})
	require.NoError(t, err)
	require.ErrorIs(t, h(context.Background(), signedRequest("a", now)), bus.ErrStop)
	require.ErrorIs(t, h(context.Background(), signedRequest("b", now)), bus.ErrStop)
	assert.ErrorContains(t, h(context.Background(), signedRequest("c", now)), "more than 2 sign-ins within 2m0s")
	clk = now.Add(2*time.Minute + time.Second)
	assert.ErrorIs(t, h(context.Background(), signedRequest("c", clk)), bus.ErrStop)
}

// An operator an earlier authenticator recognised is left alone.
func TestAuthenticateKeepsAnEarlierOperator(t *testing.T) {
	h, err := sso.NewAuthenticate(sso.Config{Secret: secret})
	require.NoError(t, err)
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set(sso.HeaderLogin, "mallory")
	r.Header.Set(sso.HeaderSignature, "bad")
	earlier := &topics.Operator{Login: "ada"}
	a := &topics.Authentication{Request: r, Operator: earlier}
	require.NoError(t, h(context.Background(), a))
	assert.Same(t, earlier, a.Operator)
}

func TestModuleNeedsASecret(t *testing.T) {
	err := fx.New(fx.NopLogger, bus.Module, sso.Module).Err()
	assert.ErrorContains(t, err, "sso.Config", "missing Config")

	err = fx.New(fx.NopLogger, bus.Module, sso.Module, fx.Supply(sso.Config{})).Err()
	assert.ErrorContains(t, err, "sso: Config.Secret has 0 bytes; it needs at least 32")

	err = fx.New(fx.NopLogger, bus.Module, sso.Module, fx.Supply(sso.Config{Secret: []byte("short")})).Err()
	assert.ErrorContains(t, err, "Config.Secret has 5 bytes")
}

// The listener keeps its own copy of the secret.
func TestAuthenticateCopiesTheSecret(t *testing.T) {
	key := []byte(string(secret))
	h, err := sso.NewAuthenticate(sso.Config{Secret: key, Now: clock})
	require.NoError(t, err)
	copy(key, "xxxxxx")
	a := signedRequest("ada", now)
	assert.True(t, errors.Is(h(context.Background(), a), bus.ErrStop))
	require.NotNil(t, a.Operator)
	assert.Equal(t, "Ada", a.Operator.LocalName)
}

func TestDisplayName(t *testing.T) {
	for login, want := range map[string]string{
		"jane.doe@example.com": "Jane Doe",
		"jdoe":                 "Jdoe",
		"mary_ann-smith":       "Mary Ann Smith",
		"élodie.roux":          "Élodie Roux",
		"...":                  "...",
		"ops+desk@example.com": "Ops Desk",
	} {
		assert.Equal(t, want, sso.DisplayName(login), login)
	}
}
