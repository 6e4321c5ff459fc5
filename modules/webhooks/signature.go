package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of a delivery.
const (
	// HeaderSignature carries "t=<unix seconds>,v1=<hex HMAC-SHA256>": the
	// HMAC, under the endpoint's secret, of the seconds, a dot and the
	// body, as Stripe signs its webhooks. See [Verify].
	HeaderSignature = "Fxbus-Signature"
	// HeaderDelivery carries the delivery's id, the same for each attempt
	// of one event: a receiver that has seen it may ignore it.
	HeaderDelivery = "Fxbus-Delivery"
	// HeaderEvent carries the name of the event's topic.
	HeaderEvent = "Fxbus-Event"
)

// DefaultTolerance is how old a signature [Verify] accepts when given no
// tolerance.
const DefaultTolerance = 5 * time.Minute

// ErrSignature is wrapped by every error of [Verify]: the delivery is not
// signed with the secret, or not now.
var ErrSignature = errors.New("webhooks: bad signature")

// Sign returns the value of [HeaderSignature] for body, signed with secret
// at time at.
func Sign(secret, body []byte, at time.Time) string {
	ts := strconv.FormatInt(at.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks the [HeaderSignature] value header of body under secret:
// a "v1" signature (one of several, during a rotation of secrets) must be
// the HMAC-SHA256 of "<t>.<body>", compared in constant time, and t must
// be within tolerance of now, either way ([DefaultTolerance] when zero),
// so that a captured delivery cannot be replayed later. To refuse a replay
// within the tolerance too, remember the [HeaderDelivery] ids seen.
//
// The recipe, in any language: split the header at commas into key=value
// pairs; take t and every v1; compute the hex HMAC-SHA256 of t, ".", and
// the raw body, as received, under the secret; accept if one v1 equals it
// and |now - t| is within the tolerance.
func Verify(secret, body []byte, header string, tolerance time.Duration, now time.Time) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	var ts string
	var sigs []string
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return fmt.Errorf("%w: %s %q is not t=<seconds>,v1=<hex>", ErrSignature, HeaderSignature, header)
	}
	if d := now.Sub(time.Unix(secs, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: signed at %s, more than %s from now", ErrSignature, time.Unix(secs, 0).UTC().Format(time.RFC3339), tolerance)
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if got, err := hex.DecodeString(s); err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("%w: no v1 signature matches", ErrSignature)
}

// VerifyRequest reads r's body, at most max bytes, and [Verify]s it
// against r's [HeaderSignature], now; it returns the body when it is
// signed. It is the receiving end of a delivery, in Go:
//
//	body, err := webhooks.VerifyRequest(r, secret, 1<<20, 0)
//	if err != nil {
//		http.Error(w, "bad signature", http.StatusUnauthorized)
//		return
//	}
func VerifyRequest(r *http.Request, secret []byte, max int64, tolerance time.Duration) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > max {
		return nil, fmt.Errorf("webhooks: a delivery of more than %d bytes", max)
	}
	if err := Verify(secret, body, r.Header.Get(HeaderSignature), tolerance, time.Now()); err != nil {
		return nil, err
	}
	return body, nil
}
