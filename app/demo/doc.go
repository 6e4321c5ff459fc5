// Package demo is what `go run ./app` adds to the desk to show it at work:
// [RunScenario], which drives a running desk through its HTTP API as real
// clients would (visitors with the tokens their arrival returned, an
// operator signed in through single sign-on, a registered user); the
// single sign-on signing a front end would do ([SignSSO], [SSOHeaders])
// with a secret made for the run ([NewSSOSecret]); and a local
// [WebhookReceiver], which verifies the signature of what the webhooks
// module posts to it ([Module] points the module's endpoint at it).
//
// Nothing here is for a deployment: `app serve` uses none of it.
package demo
