// Package sso authenticates operators who come from a single sign-on
// front end, through [topics.OperatorAuthenticate], the Mibew
// OPERATOR_AUTHENTICATE event.
//
// The front end and the desk share a secret of at least [MinSecretLen]
// random bytes. The front end sends the operator's login in [HeaderLogin],
// the time of signing in [HeaderTimestamp] (Unix seconds), and in
// [HeaderSignature] the lower-case hex HMAC-SHA256, under the secret, of
// "<timestamp>.<login>", which [Sign] computes ([Headers] gives all three):
//
//	for k, v := range sso.Headers(secret, "jane.doe", time.Now()) {
//		req.Header.Set(k, v)
//	}
//
// The listener compares signatures in constant time, refuses a timestamp
// more than [Config.MaxAge] (two minutes by default) from its clock, in
// either direction, and accepts each signature once: it remembers those it
// accepted until they expire (at most [Config.MaxPending]), so that
// headers captured in transit or from a log cannot be replayed. On a valid
// signature it sets [topics.Authentication.Operator] to an operator made
// from the login (see [OperatorFor]) and returns [bus.ErrStop], so that no
// later authenticator overrides it. On a request with none of the headers
// it does nothing: another authenticator may know the request. On a
// request with only some of them, a malformed, wrong, expired or replayed
// signature, or a login with control or bidirectional formatting
// characters ([CheckLogin]), it returns an error wrapping [ErrInvalid] that
// says why, and the topic refuses the request.
//
// The module needs a [Config] with the secret from the container; it fails
// the app's start without one, or with a secret that is too short.
package sso
