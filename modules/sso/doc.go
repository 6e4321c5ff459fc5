// Package sso authenticates operators who come from a single sign-on
// front end, through [topics.OperatorAuthenticate], the Mibew
// OPERATOR_AUTHENTICATE event.
//
// The front end and the desk share a secret. The front end sends the
// operator's login in the header [HeaderLogin], and in [HeaderSignature] the
// lower-case hex HMAC-SHA256 of the login under the secret, which [Sign]
// computes:
//
//	req.Header.Set(sso.HeaderLogin, "jane.doe")
//	req.Header.Set(sso.HeaderSignature, sso.Sign(secret, "jane.doe"))
//
// The listener compares signatures in constant time. On a valid one it sets
// [topics.Authentication.Operator] to an operator made from the login (see
// [OperatorFor]) and returns [bus.ErrStop], so that no later authenticator
// overrides it. On a request with neither header it does nothing: another
// authenticator may know the request. On a request with only one of them,
// or with a malformed or wrong signature, it returns an error wrapping
// [ErrInvalid] that says why, and the topic refuses the request.
//
// The module needs a [Config] with the secret from the container; it fails
// the app's start without one, or with an empty secret.
package sso
