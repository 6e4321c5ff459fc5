package sso

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"go.uber.org/fx"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/topics"
)

// The request headers the module reads.
const (
	// HeaderLogin carries the operator's login.
	HeaderLogin = "X-SSO-Login"
	// HeaderTimestamp carries when the front end signed the login, in
	// seconds since the Unix epoch, in decimal.
	HeaderTimestamp = "X-SSO-Timestamp"
	// HeaderSignature carries the lower-case hex HMAC-SHA256, under the
	// shared secret, of the timestamp, a dot and the login (see [Sign]).
	HeaderSignature = "X-SSO-Signature"
)

// Defaults of a [Config].
const (
	// DefaultMaxAge is how long a signature is valid when
	// [Config.MaxAge] is not set.
	DefaultMaxAge = 2 * time.Minute
	// DefaultMaxPending bounds the signatures remembered against replay
	// when [Config.MaxPending] is not set.
	DefaultMaxPending = 10000
	// MinSecretLen is the shortest secret the module accepts, in bytes.
	MinSecretLen = 32
	// MaxLoginLen is the longest login the module accepts, in bytes.
	MaxLoginLen = 254
)

// ErrInvalid is wrapped by every error of the listener: the request claims
// a single sign-on, and the claim does not hold.
var ErrInvalid = errors.New("sso: invalid single sign-on")

// Config configures the module; the container must supply it.
type Config struct {
	// Secret is the key shared with the front end: at least
	// [MinSecretLen] random bytes.
	Secret []byte
	// MaxAge is how far from now a signature's timestamp may be, in the
	// past or the future (clock skew); [DefaultMaxAge] when zero.
	MaxAge time.Duration
	// MaxPending bounds the signatures remembered until they expire, so
	// that each is accepted once: beyond it, sign-ins are refused until
	// some expire. [DefaultMaxPending] when zero.
	MaxPending int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Module authenticates operators from signed request headers on
// [topics.OperatorAuthenticate]; it needs a [Config].
var Module = fx.Module("sso",
	bus.Listen(topics.OperatorAuthenticate, NewAuthenticate),
)

// Sign returns the signature of login at time at under secret: the
// lower-case hex HMAC-SHA256 of at's Unix seconds in decimal, a dot and the
// login, for [HeaderSignature]; send at in [HeaderTimestamp] (see
// [Headers]).
func Sign(secret []byte, login string, at time.Time) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(at.Unix(), 10)))
	m.Write([]byte{'.'})
	m.Write([]byte(login))
	return hex.EncodeToString(m.Sum(nil))
}

// Headers returns the three headers of a sign-in of login at time at,
// under secret, as a front end sends them.
func Headers(secret []byte, login string, at time.Time) map[string]string {
	return map[string]string{
		HeaderLogin:     login,
		HeaderTimestamp: strconv.FormatInt(at.Unix(), 10),
		HeaderSignature: Sign(secret, login, at),
	}
}

// NewAuthenticate returns the module's listener on
// [topics.OperatorAuthenticate], checking signatures under cfg.Secret. It
// fails for a secret shorter than [MinSecretLen].
func NewAuthenticate(cfg Config) (func(context.Context, *topics.Authentication) error, error) {
	if len(cfg.Secret) < MinSecretLen {
		return nil, fmt.Errorf("sso: Config.Secret has %d bytes; it needs at least %d random bytes", len(cfg.Secret), MinSecretLen)
	}
	v := &verifier{
		secret:     append([]byte(nil), cfg.Secret...),
		maxAge:     cfg.MaxAge,
		maxPending: cfg.MaxPending,
		now:        cfg.Now,
		seen:       map[string]time.Time{},
	}
	if v.maxAge <= 0 {
		v.maxAge = DefaultMaxAge
	}
	if v.maxPending <= 0 {
		v.maxPending = DefaultMaxPending
	}
	if v.now == nil {
		v.now = time.Now
	}
	return v.authenticate, nil
}

// verifier checks signatures and remembers those it accepted until they
// expire.
type verifier struct {
	secret     []byte
	maxAge     time.Duration
	maxPending int
	now        func() time.Time

	mu   sync.Mutex
	seen map[string]time.Time // accepted signature → when it expires
}

func (v *verifier) authenticate(_ context.Context, a *topics.Authentication) error {
	if a.Operator != nil || a.Request == nil {
		return nil
	}
	h := a.Request.Header
	login, ts, sig := h.Get(HeaderLogin), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	switch {
	case login == "" && ts == "" && sig == "":
		return nil // not ours
	case login == "" || ts == "" || sig == "":
		return fmt.Errorf("%w: %s, %s and %s are all required", ErrInvalid, HeaderLogin, HeaderTimestamp, HeaderSignature)
	case !isLowerHex(sig, sha256.Size*2):
		return fmt.Errorf("%w: %s is not %d lower-case hex digits", ErrInvalid, HeaderSignature, sha256.Size*2)
	}
	if err := CheckLogin(login); err != nil {
		return err
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s is not a number of seconds", ErrInvalid, HeaderTimestamp)
	}
	at := time.Unix(secs, 0)
	if !hmac.Equal([]byte(sig), []byte(Sign(v.secret, login, at))) {
		return fmt.Errorf("%w: wrong %s for login %q", ErrInvalid, HeaderSignature, login)
	}
	now := v.now()
	if d := now.Sub(at); d > v.maxAge || d < -v.maxAge {
		return fmt.Errorf("%w: the signature of login %q is from %s, more than %s from now", ErrInvalid, login, at.UTC().Format(time.RFC3339), v.maxAge)
	}
	if err := v.once(sig, at.Add(v.maxAge), now); err != nil {
		return fmt.Errorf("%w: login %q: %w", ErrInvalid, login, err)
	}
	a.Operator = OperatorFor(login)
	return bus.ErrStop
}

// once remembers sig until expires, and fails if it was seen already.
func (v *verifier) once(sig string, expires, now time.Time) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.seen[sig]; ok {
		return errors.New("this signature was used already (a replay)")
	}
	if len(v.seen) >= v.maxPending {
		for s, exp := range v.seen {
			if !now.Before(exp) {
				delete(v.seen, s)
			}
		}
		if len(v.seen) >= v.maxPending {
			return fmt.Errorf("more than %d sign-ins within %s; try again later", v.maxPending, v.maxAge)
		}
	}
	v.seen[sig] = expires
	return nil
}

// CheckLogin returns an error wrapping [ErrInvalid] unless login is valid
// UTF-8 of at most [MaxLoginLen] bytes, without control or bidirectional
// formatting characters.
func CheckLogin(login string) error {
	if len(login) > MaxLoginLen {
		return fmt.Errorf("%w: the login is longer than %d bytes", ErrInvalid, MaxLoginLen)
	}
	if !utf8.ValidString(login) {
		return fmt.Errorf("%w: the login is not valid UTF-8", ErrInvalid)
	}
	for _, r := range login {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return fmt.Errorf("%w: the login has the character %U", ErrInvalid, r)
		}
	}
	return nil
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
