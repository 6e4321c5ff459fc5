package topics

import "github.com/fxbus/fxbus/bus"

// All returns every topic of the package, grouped by area in the order of
// the package documentation, and within an area in the order of
// declaration. It returns a new slice at each call. Use it for catalogues,
// and to tell a bus of the topics that may have no listener
// ([bus.WithTopics]).
func All() []bus.AnyTopic {
	return []bus.AnyTopic{
		// Ban
		BanCreated, BanUpdated, BanDeleted,
		// Button
		ButtonGenerated,
		// Cron
		CronRun,
		// Group
		GroupCreated, GroupUpdated, GroupDeleted, GroupOperatorsUpdated,
		// Invitation
		InvitationCreated, InvitationAccepted, InvitationRejected, InvitationIgnored,
		// Operator
		OperatorAuthenticate, OperatorLoggedIn, OperatorLoggedOut,
		OperatorCreated, OperatorUpdated, OperatorDeleted,
		// Page
		PageAddCSS, PageAddJS, PageAddJSPluginOptions,
		// Resource
		ResourceAccessDenied, ResourceNotFound,
		// Routing
		RoutingAlter,
		// Thread
		ThreadFunctionCall, ThreadCreated, ThreadUpdated, ThreadDeleted, ThreadClosed,
		ThreadMessagePosting, ThreadMessagesAlter, ThreadUserReady,
		// Users
		UsersThreadsAlter, UsersVisitorsLoad, UsersVisitorsAlter, UsersFunctionCall,
		// Visitor
		VisitorCreated, VisitorTracked, VisitorOldDeleted,
		// Widget
		WidgetResponseAlter,
		// Chat
		ChatReady, ChatStarted, ChatEnded, ChatMessageReceived,
		ChatAgentConnected, ChatAgentDisconnected, ChatClientConnected, ChatClientDisconnected,
		ChatAgentTypingStarted, ChatAgentTypingStopped, ChatClientTypingStarted, ChatClientTypingStopped,
		ChatError,
		// Object
		ObjectCreated, ObjectUpdated, ObjectDeleted, ObjectDocumentDownloaded,
		// Moderation
		ModerationBanRequested,
		// User hooks
		UserLogin.Before(), UserLogin.After(), UserRegister.Before(), UserRegister.After(),
		// Data hooks
		DataCreate.Before(), DataCreate.After(), DataUpdate.Before(), DataUpdate.After(),
		DataFind.Before(), DataFind.After(), DataRemove.Before(), DataRemove.After(),
		// Messaging hooks
		MessagingPublish.Before(), MessagingPublish.After(),
	}
}
