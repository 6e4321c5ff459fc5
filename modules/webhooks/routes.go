package webhooks

import (
	"context"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/hook"
	"github.com/fxbus/fxbus/bus/plugin"
	"github.com/fxbus/fxbus/bus/rules"
	"github.com/fxbus/fxbus/topics"
)

// route is the typed glue between one topic and the endpoints: what the
// bus's generic API needs, the payload type known. The bus has no
// subscription by an untyped topic, so every topic of [topics.All] has a
// route here; a test keeps the two lists equal.
type route interface {
	topic() bus.AnyTopic
	// before reports whether the topic is a hook's before stage.
	before() bool
	// match makes the bus rule of a configured rule.
	match(id string, where [][]Field) (rules.Rule, error)
	// subscribe subscribes e's delivery to the topic on b, owned by p, filtered
	// by e's rules.
	subscribe(b *bus.Bus, p *plugin.Plugin, e *endpoint) error
	// sample returns a new zero payload, for tests.
	sample() any
}

type typedRoute[T any] struct {
	t        *bus.Topic[T]
	isBefore bool
}

func (r typedRoute[T]) topic() bus.AnyTopic { return r.t }
func (r typedRoute[T]) before() bool        { return r.isBefore }
func (r typedRoute[T]) sample() any         { return new(T) }

func (r typedRoute[T]) match(id string, where [][]Field) (rules.Rule, error) {
	anyOf, err := compileWhere[T](where)
	if err != nil {
		return rules.Rule{}, err
	}
	return rules.Match(id, r.t, anyOf...), nil
}

func (r typedRoute[T]) subscribe(b *bus.Bus, p *plugin.Plugin, e *endpoint) error {
	name := r.t.Name()
	_, err := r.t.Subscribe(b, func(_ context.Context, ev *T) error {
		e.send(name, ev)
		return nil
	}, rules.When(e.rules, r.t), bus.Rank(Rank), bus.Name("deliver"), bus.OwnedBy(p))
	return err
}

func on[T any](t *bus.Topic[T]) []route { return []route{typedRoute[T]{t: t}} }

func around[Req, Res any](h *hook.Hook[Req, Res]) []route {
	return []route{typedRoute[Req]{t: h.Before(), isBefore: true}, typedRoute[hook.Result[Req, Res]]{t: h.After()}}
}

// routes returns a route for every topic of the catalogue.
func routes() []route {
	var rs []route
	for _, r := range [][]route{
		on(topics.BanCreated), on(topics.BanUpdated), on(topics.BanDeleted),
		on(topics.ButtonGenerated),
		on(topics.CronRun),
		on(topics.GroupCreated), on(topics.GroupUpdated), on(topics.GroupDeleted), on(topics.GroupOperatorsUpdated),
		on(topics.InvitationCreated), on(topics.InvitationAccepted), on(topics.InvitationRejected), on(topics.InvitationIgnored),
		on(topics.OperatorAuthenticate), on(topics.OperatorLoggedIn), on(topics.OperatorLoggedOut),
		on(topics.OperatorCreated), on(topics.OperatorUpdated), on(topics.OperatorDeleted),
		on(topics.PageAddCSS), on(topics.PageAddJS), on(topics.PageAddJSPluginOptions),
		on(topics.ResourceAccessDenied), on(topics.ResourceNotFound),
		on(topics.RoutingAlter),
		on(topics.ThreadFunctionCall), on(topics.ThreadCreated), on(topics.ThreadUpdated), on(topics.ThreadDeleted),
		on(topics.ThreadClosed), on(topics.ThreadMessagePosting), on(topics.ThreadMessagesAlter), on(topics.ThreadUserReady),
		on(topics.UsersThreadsAlter), on(topics.UsersVisitorsLoad), on(topics.UsersVisitorsAlter), on(topics.UsersFunctionCall),
		on(topics.VisitorCreated), on(topics.VisitorTracked), on(topics.VisitorOldDeleted),
		on(topics.WidgetResponseAlter),
		on(topics.ChatReady), on(topics.ChatStarted), on(topics.ChatEnded), on(topics.ChatMessageReceived),
		on(topics.ChatAgentConnected), on(topics.ChatAgentDisconnected), on(topics.ChatClientConnected),
		on(topics.ChatClientDisconnected), on(topics.ChatAgentTypingStarted), on(topics.ChatAgentTypingStopped),
		on(topics.ChatClientTypingStarted), on(topics.ChatClientTypingStopped), on(topics.ChatError),
		on(topics.ObjectCreated), on(topics.ObjectUpdated), on(topics.ObjectDeleted), on(topics.ObjectDocumentDownloaded),
		on(topics.ModerationBanRequested),
		around(topics.UserLogin), around(topics.UserRegister),
		around(topics.DataCreate), around(topics.DataUpdate), around(topics.DataFind), around(topics.DataRemove),
		around(topics.MessagingPublish),
	} {
		rs = append(rs, r...)
	}
	return rs
}
