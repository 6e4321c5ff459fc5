// Package topics is the catalogue of the typed topics of the reference
// domain: a customer-support chat desk that unites the event systems fxbus
// was built to serve. Modules listen to these topics and publish them; they
// never import each other.
//
// Each topic is a package-level [bus.Topic] whose documentation says when
// it fires, with a payload struct whose fields are documented. [All] lists
// them, for catalogues.
//
// # Areas
//
// The chat desk, after Mibew Messenger's catalogue of server-side events,
// in its order:
//
//   - ban: bans created, saved, deleted ([BanCreated], ...).
//   - button: the chat button's markup, which listeners may change ([ButtonGenerated]).
//   - cron: periodic maintenance ([CronRun]).
//   - group: operator groups and their members ([GroupCreated], [GroupOperatorsUpdated], ...).
//   - invitation: invitations to chat, created and answered ([InvitationAccepted], ...).
//   - operator: custom authentication ([OperatorAuthenticate]), login, logout, and operators' life.
//   - page: the CSS, scripts and plugin options of the operators' pages ([PageAddCSS], ...).
//   - resource: requests denied or not found, which listeners may answer ([ResourceNotFound], ...).
//   - routing: the server's routes, which listeners may change ([RoutingAlter]).
//   - thread: chat threads and their messages, API functions that plugins
//     implement ([ThreadMessagePosting], [ThreadFunctionCall], ...).
//   - users: the lists the operators' application shows ([UsersVisitorsLoad], ...).
//   - visitor: visitors tracked by the widget ([VisitorTracked], ...).
//   - widget: the answer to the widget, which listeners may change ([WidgetResponseAlter]).
//
// Then two more, from the other systems:
//
//   - chat: the lifecycle of the chat widget service, after Genesys
//     Widgets' WebChatService ([ChatStarted], [ChatAgentConnected], ...).
//   - object: the desk's tickets and documents, after iTop's events; each
//     event's source is an [Object] in a type hierarchy ([ObjectUpdated], ...).
//   - moderation: what moderators ask of the desk ([ModerationBanRequested]).
//   - user, data, messaging: the desk's API calls wrapped in before and after
//     hooks, after Backendless's event handlers ([UserLogin], [DataCreate],
//     [MessagingPublish], ...); data calls are about a [Table], messaging
//     calls about a [Channel], typed keys that handlers scope themselves to.
//
// The domain types that several areas share, such as [Thread], [Operator]
// and [Visitor], are in model.go.
//
// # Conventions
//
// A topic is named "area.event" in lower case with underscores, and its Go
// name is the same in CamelCase: "thread.message_posting" is
// [ThreadMessagePosting]. Events that report what has happened are in the
// past tense ("ban.created"); events that let listeners act before
// something happens, or change what is about to be used, are not
// ("page.add_css", "widget.response_alter", "operator.authenticate").
//
// Events that report what has happened run every listener, even when one
// fails, and return all the failures ([bus.RunAll]). Alter events,
// authentication and function calls stop at the first error
// ([bus.StopOnError]): a failure there means the result is not to be used.
// No topic requires a listener: when nobody listens, the desk does without.
//
// In alter events, every listener gets the same payload, in rank order, and
// the desk uses it as the last listener left it. In function calls, the
// listener that implements the function fills the results.
package topics

//go:generate go run ../internal/cmd/fielddocs -o zz_fielddocs.go
