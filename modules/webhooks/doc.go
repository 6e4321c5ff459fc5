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
//		Name: "crm",
//		URL:  "https://crm.example.com/hooks/desk",
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
// by a string: each rule becomes a typed [bus.Rule], and each endpoint a
// [bus.RuleSet] with its policy.
//
// When the app starts, each endpoint registers a plugin named
// "webhooks/<Name>" on the bus and subscribes through it, at [Rank] (after
// the other modules, so it sees the events as they left them), with
// bus.WithRules, to the topics its rules name; an exclude endpoint
// subscribes to every topic of [topics.All] except the before stages of
// hooks, which report a request that may yet be vetoed, not something that
// happened (a rule may still name one under [Include]).
//
// # Delivery
//
// A listener encodes the event, in the publisher's goroutine, as
//
//	{"topic": "<name>", "event": <the payload as JSON>}
//
// and puts it on the endpoint's bounded queue; it never blocks and never
// fails the publish. One worker goroutine per endpoint POSTs the queue's
// events, in order, with Content-Type application/json. A full queue drops
// the event, counts it and logs it (with the *slog.Logger in the container,
// or slog.Default). A failed delivery (a network error, a timeout, a status
// other than 2xx) is counted and logged, not retried. [Stats] has the
// counts.
//
// When the app stops, the plugins unregister, and the workers deliver
// what is queued, within [Config.DrainTimeout]; what is left then is
// dropped, and the stop returns an error saying so.
//
// An event whose dispatch ends before the webhooks' rank, by an error or
// bus.ErrStop, is not delivered.
package webhooks
