// Package webhooks delivers the desk's events to HTTP endpoints, filtered
// by rules that come from configuration: the plugin event subscriptions
// with filter rules of seed 002, made typed.
//
// # Configuration
//
// The container may supply a [Config]; without one there is no endpoint.
// Each [Endpoint] has a name, a URL, a policy and [Rule]s:
//
//	webhooks.Config{Endpoints: []webhooks.Endpoint{{
//		Name:   "crm",
//		URL:    "https://crm.example.com/hooks/desk",
//		Secret: crmSecret, // shared with the receiver, which verifies each delivery
//		Rules: []webhooks.Rule{
//			{ID: "bans", Topic: "ban.created"},
//			{ID: "vip", Topic: "thread.message_posting", Where: [][]webhooks.Field{
//				{{Name: "Thread.UserID", Equals: "vip-1"}, {Name: "Kind", Equals: "user"}},
//				{{Name: "Options.OperatorID", Equals: "7"}},
//			}},
//		},
//	}}}
//
// A rule names its topic as [topics.All] does, and matches every event of
// it, or only those whose payload satisfies all the [Field]s of one of the
// groups of Where. Under the [Include] policy, the default, an endpoint
// receives the events that match a rule; under [Exclude], those that match
// none. An include endpoint without rules receives nothing; an exclude
// endpoint without rules receives everything.
//
// # At start
//
// The config is checked once, before anything runs ([New]): topic names
// are resolved against [topics.All], field names to paths of field indices
// in the payload type, and the values of Where parsed into the fields'
// types. A mistake fails the app's start with a [*ConfigError] that names
// the endpoint, the rule's id and the topic. Events are then never matched
// by a string: each rule becomes a typed [rules.Rule], and each endpoint a
// [rules.Set] with its policy.
//
// When the app starts, each endpoint registers a plugin named
// "webhooks/<Name>" on the bus (package bus/plugin) and subscribes, owned
// by it, at [Rank] (after the other modules, so it sees the events as they
// left them), obeying its rule set with rules.When, to the topics its rules
// name; an exclude endpoint
// subscribes to every topic of [topics.All] except the before stages of
// hooks, which report a request that may yet be vetoed, not something that
// happened (a rule may still name one under [Include]).
//
// # Endpoint URLs
//
// An endpoint's URL is an absolute http or https URL without user
// information. It may not be on the loopback interface (127.0.0.0/8, ::1,
// localhost) unless [Config.AllowLoopback] is set, nor on a private,
// link-local, multicast or unspecified address (10.0.0.0/8,
// 192.168.0.0/16, 169.254.169.254, ...) unless [Config.AllowPrivate] is:
// an address is checked at start, and every address a name resolves to is
// checked again at each connection, so that a name cannot be pointed at
// the desk's own network later. Proxies from the environment are not used.
// Redirects are never followed: a 3xx answer fails the delivery, so that an
// endpoint cannot send the desk's events on to another address.
//
// # Delivery
//
// A listener encodes the event, in the publisher's goroutine, as
//
//	{"topic": "<name>", "event": <the payload as JSON>}
//
// and puts it on the endpoint's bounded queue; it never blocks and never
// fails the publish. One worker goroutine per endpoint POSTs the queue's
// events, in order, with Content-Type application/json and three headers:
//
//	Fxbus-Event: <the topic's name>
//	Fxbus-Delivery: <a random id, the same for every attempt>
//	Fxbus-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">
//
// The signature is made with the endpoint's [Endpoint.Secret], as Stripe
// signs its webhooks (GitHub's X-Hub-Signature-256 is the same HMAC
// without the timestamp). To verify a delivery: split the header at
// commas; compute the HMAC-SHA256 of t, ".", and the raw body as received,
// under the secret; accept it if a v1 equals it (in constant time) and t
// is within five minutes of now; to refuse a replay within those minutes,
// remember the delivery ids seen. [Verify] does it, and [VerifyRequest]
// reads and verifies a request in one call.
//
// A network error, a timeout, a 429 or a 5xx is retried, up to
// [Config.MaxAttempts] attempts in all, after a backoff that starts at
// [Config.Backoff] and doubles, with jitter, up to [MaxBackoff]. Another
// answer that is not 2xx fails the delivery at once. A full queue drops
// the event. Drops and failures are counted ([Stats]) and logged, with the
// *slog.Logger in the container or slog.Default, at most once per
// [Config.LogInterval] each, with how many happened since the last line:
// a burst of a thousand drops is two lines, not a thousand.
//
// When the app stops, the plugins unregister, and the workers deliver
// what is queued, within [Config.DrainTimeout]; what is left then is
// dropped, and the stop returns an error saying so. Each endpoint then
// logs its totals: delivered, failed, dropped. Give the module before the
// HTTP server in the app's lifecycle, so that the server stops accepting
// and finishes its requests before the webhooks drain: then every event
// published is either delivered or counted.
//
// An event whose dispatch ends before the webhooks' rank, by an error or
// bus.ErrStop, is not delivered.
package webhooks
