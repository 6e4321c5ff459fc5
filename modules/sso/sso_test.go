package sso_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

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

var secret = []byte("s3cret")

// RFC 4231, test case 2.
func TestSignIsLowerHexHMACSHA256(t *testing.T) {
	assert.Equal(t, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
		sso.Sign([]byte("Jefe"), "what do ya want for nothing?"))
}

func TestAuthenticate(t *testing.T) {
	good := sso.Sign(secret, "jane.doe@example.com")
	for _, tc := range []struct {
		name      string
		login     string
		signature string
		operator  *topics.Operator // want
		err       string           // want, "" for none
		later     bool             // whether the next authenticator runs
	}{
		{name: "valid", login: "jane.doe@example.com", signature: good,
			operator: &topics.Operator{Login: "jane.doe@example.com", LocalName: "Jane Doe", CommonName: "Jane Doe",
				Email: "jane.doe@example.com", Permissions: topics.PermissionModifyProfile}},
		{name: "no headers", later: true},
		{name: "login only", login: "jane.doe@example.com", err: "X-SSO-Login without X-SSO-Signature"},
		{name: "signature only", signature: good, err: "X-SSO-Signature without X-SSO-Login"},
		{name: "upper-case hex", login: "jane.doe@example.com", signature: strings.ToUpper(good),
			err: "X-SSO-Signature is not 64 lower-case hex digits"},
		{name: "short", login: "jane.doe@example.com", signature: good[:10], err: "not 64 lower-case hex digits"},
		{name: "another login's", login: "root", signature: good, err: `wrong X-SSO-Signature for login "root"`},
		{name: "another secret's", login: "jane.doe@example.com", signature: sso.Sign([]byte("other"), "jane.doe@example.com"),
			err: "wrong X-SSO-Signature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b *bus.Bus
			later := false
			app := fxtest.New(t, fx.NopLogger, bus.Module, sso.Module,
				fx.Supply(sso.Config{Secret: secret}),
				bus.Listen(topics.OperatorAuthenticate, func(context.Context, *topics.Authentication) error {
					later = true
					return nil
				}, bus.Rank(10)),
				fx.Populate(&b))
			app.RequireStart()
			defer app.RequireStop()

			r := httptest.NewRequest("GET", "/operator", nil)
			if tc.login != "" {
				r.Header.Set(sso.HeaderLogin, tc.login)
			}
			if tc.signature != "" {
				r.Header.Set(sso.HeaderSignature, tc.signature)
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
	assert.ErrorContains(t, err, "sso: Config.Secret is empty")
}

// The listener keeps its own copy of the secret.
func TestAuthenticateCopiesTheSecret(t *testing.T) {
	key := []byte("s3cret")
	h, err := sso.NewAuthenticate(sso.Config{Secret: key})
	require.NoError(t, err)
	copy(key, "xxxxxx")
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set(sso.HeaderLogin, "ada")
	r.Header.Set(sso.HeaderSignature, sso.Sign([]byte("s3cret"), "ada"))
	a := &topics.Authentication{Request: r}
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
