package topics

import "github.com/fxbus/fxbus/bus"

// Users events: the users application, where operators see the threads
// waiting and the visitors browsing the site.

// UsersThreadsAlter fires before the list of threads is sent to the users
// application (Mibew USERS_UPDATE_THREADS_ALTER). Listeners may attach
// fields of their own to each thread, or change the list entirely.
var UsersThreadsAlter = bus.NewTopic[ThreadList]("users.threads_alter",
	bus.Description("The list of threads is about to be sent to the users application; listeners may change it."))

// UsersVisitorsLoad fires before the list of the site's visitors is loaded
// for the users application (Mibew USERS_UPDATE_VISITORS_LOAD). A listener
// may load the list itself, sorting or trimming it as it likes: it fills
// [VisitorLoad.Visitors] and sets [VisitorLoad.Loaded]. When no listener
// does, the desk loads the list its own way.
var UsersVisitorsLoad = bus.NewTopic[VisitorLoad]("users.visitors_load",
	bus.Description("The list of visitors is about to be loaded for the users application; listeners may load it."))

// UsersVisitorsAlter fires before the list of the site's visitors is sent
// to the users application (Mibew USERS_UPDATE_VISITORS_ALTER). Listeners
// may attach fields of their own to each visitor, or change the list
// entirely.
var UsersVisitorsAlter = bus.NewTopic[VisitorList]("users.visitors_alter",
	bus.Description("The list of visitors is about to be sent to the users application; listeners may change it."))

// UsersFunctionCall fires when the users application, on the client side,
// calls an API function the desk does not know (Mibew USERS_FUNCTION_CALL).
// It works as [ThreadFunctionCall] does: the listener that knows
// [FunctionCall.Function] fills [FunctionCall.Results].
var UsersFunctionCall = bus.NewTopic[FunctionCall]("users.function_call",
	bus.Description("The users application called an API function the desk does not know; listeners may implement it."),
	bus.StopOnError).
	SpanAttributes(functionCallAttrs)

// ThreadListItem is a thread as the users application lists it.
type ThreadListItem struct {
	// Thread is the thread.
	Thread *Thread
	// Fields are extra fields sent with the thread, by name; they must
	// encode to JSON. Listeners may add their own.
	Fields map[string]any
}

// ThreadList is the payload of [UsersThreadsAlter].
type ThreadList struct {
	// Threads are the threads to send. Listeners may change the list; the
	// client gets it as the last listener left it.
	Threads []ThreadListItem
}

// VisitorListItem is a visitor as the users application lists it.
type VisitorListItem struct {
	// Visitor is the visitor.
	Visitor *Visitor
	// Fields are extra fields sent with the visitor, by name; they must
	// encode to JSON. Listeners may add their own.
	Fields map[string]any
}

// VisitorLoad is the payload of [UsersVisitorsLoad].
type VisitorLoad struct {
	// Visitors are the visitors loaded by a listener. It is empty when the
	// event fires.
	Visitors []VisitorListItem
	// Loaded is set by the listener that loaded Visitors, even when it found
	// none. While it is false, the desk loads the list its own way.
	Loaded bool
}

// VisitorList is the payload of [UsersVisitorsAlter].
type VisitorList struct {
	// Visitors are the visitors to send. Listeners may change the list; the
	// client gets it as the last listener left it.
	Visitors []VisitorListItem
}
