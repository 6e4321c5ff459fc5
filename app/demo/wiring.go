package demo

import (
	"go.uber.org/fx"

	"github.com/fxbus/fxbus/modules/webhooks"
	"github.com/fxbus/fxbus/topics"
)

// Module is what demo mode adds: a local webhook receiver, and the
// webhooks module's endpoint pointing at it, with rules that pass only the
// bans and the operators' replies, so that the receiver gets exactly those.
var Module = fx.Options(
	fx.Provide(NewWebhookReceiver, DemoWebhooks),
)

// DemoWebhooks is the demo's webhook plugin: an include policy with two
// rules, one passing a whole topic, one with a parameter group (seed 002's
// "match by parameter groups").
func DemoWebhooks(r *WebhookReceiver) webhooks.Config {
	return webhooks.Config{AllowLoopback: true, Endpoints: []webhooks.Endpoint{{
		Name: "demo", URL: r.URL(), Policy: webhooks.Include, Secret: r.Secret(),
		Rules: []webhooks.Rule{
			{ID: "bans", Topic: topics.BanCreated.Name()},
			{ID: "operator-replies", Topic: topics.ChatMessageReceived.Name(),
				Where: [][]webhooks.Field{{{Name: "Message.Kind", Equals: "agent"}}}},
		},
	}}}
}
