package sso

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"go.uber.org/fx"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/topics"
)

// The request headers the module reads.
const (
	// HeaderLogin carries the operator's login.
	HeaderLogin = "X-SSO-Login"
	// HeaderSignature carries the lower-case hex HMAC-SHA256 of the login
	// under the shared secret.
	HeaderSignature = "X-SSO-Signature"
)

// ErrInvalid is wrapped by every error of the listener: the request claims
// a single sign-on, and the claim does not hold.
var ErrInvalid = errors.New("sso: invalid single sign-on")

// Config configures the module; the container must supply it.
type Config struct {
	// Secret is the key shared with the front end. It must not be empty.
	Secret []byte
}

// Module authenticates operators from signed request headers on
// [topics.OperatorAuthenticate]; it needs a [Config].
var Module = fx.Module("sso",
	bus.Listen(topics.OperatorAuthenticate, NewAuthenticate),
)

// Sign returns the signature of login under secret: the lower-case hex
// HMAC-SHA256 of the login, for [HeaderSignature].
func Sign(secret []byte, login string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(login))
	return hex.EncodeToString(m.Sum(nil))
}

// NewAuthenticate returns the module's listener on
// [topics.OperatorAuthenticate], checking signatures under cfg.Secret. It
// fails for an empty secret.
func NewAuthenticate(cfg Config) (func(context.Context, *topics.Authentication) error, error) {
	if len(cfg.Secret) == 0 {
		return nil, errors.New("sso: Config.Secret is empty")
	}
	secret := append([]byte(nil), cfg.Secret...)
	return func(_ context.Context, a *topics.Authentication) error {
		if a.Operator != nil || a.Request == nil {
			return nil
		}
		login, sig := a.Request.Header.Get(HeaderLogin), a.Request.Header.Get(HeaderSignature)
		switch {
		case login == "" && sig == "":
			return nil // not ours
		case login == "":
			return fmt.Errorf("%w: %s without %s", ErrInvalid, HeaderSignature, HeaderLogin)
		case sig == "":
			return fmt.Errorf("%w: %s without %s", ErrInvalid, HeaderLogin, HeaderSignature)
		case !isLowerHex(sig, sha256.Size*2):
			return fmt.Errorf("%w: %s is not %d lower-case hex digits", ErrInvalid, HeaderSignature, sha256.Size*2)
		case !hmac.Equal([]byte(sig), []byte(Sign(secret, login))):
			return fmt.Errorf("%w: wrong %s for login %q", ErrInvalid, HeaderSignature, login)
		}
		a.Operator = OperatorFor(login)
		return bus.ErrStop
	}, nil
}

func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// OperatorFor returns the operator that a signed login stands for: not
// stored (ID zero), with the login, the display name [DisplayName] makes of
// it in both LocalName and CommonName, the login as Email when it is an
// address, and the right to edit their own profile only.
func OperatorFor(login string) *topics.Operator {
	o := &topics.Operator{
		Login:       login,
		LocalName:   DisplayName(login),
		Permissions: topics.PermissionModifyProfile,
	}
	o.CommonName = o.LocalName
	if strings.Contains(login, "@") {
		o.Email = login
	}
	return o
}

// DisplayName makes a name to show from a login: the part before an "@",
// split at dots, underscores, hyphens and plus signs, each word capitalised
// ("jane.doe@example.com" is "Jane Doe"). A login with no word in it is its
// own display name.
func DisplayName(login string) string {
	local, _, _ := strings.Cut(login, "@")
	words := strings.FieldsFunc(local, func(r rune) bool {
		return r == '.' || r == '_' || r == '-' || r == '+' || unicode.IsSpace(r)
	})
	if len(words) == 0 {
		return login
	}
	for i, w := range words {
		r := []rune(w)
		r[0] = unicode.ToUpper(r[0])
		words[i] = string(r)
	}
	return strings.Join(words, " ")
}
