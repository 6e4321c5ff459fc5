package topics

import (
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/fxbus/fxbus/bus"
)

// Thread events: the life of a chat [Thread] and of its messages.

// ThreadFunctionCall fires when the chat application, on the client side,
// calls an API function the desk does not know (Mibew THREAD_FUNCTION_CALL).
// Plugins implement their own API functions by listening to it: the
// listener that knows [FunctionCall.Function] reads
// [FunctionCall.Arguments] and fills [FunctionCall.Results]. The first error
// ends dispatch and fails the call. The function's name, never its
// arguments, goes on the publish span.
var ThreadFunctionCall = bus.NewTopic[FunctionCall]("thread.function_call",
	bus.Description("The chat application called an API function the desk does not know; listeners may implement it."),
	bus.StopOnError).
	SpanAttributes(functionCallAttrs)

// ThreadCreated fires after a thread has been created (Mibew THREAD_CREATE).
var ThreadCreated = bus.NewTopic[ThreadEvent]("thread.created",
	bus.Description("A thread has been created."),
	bus.RunAll)

// ThreadUpdated fires after a thread has been saved (Mibew THREAD_UPDATE).
var ThreadUpdated = bus.NewTopic[ThreadUpdate]("thread.updated",
	bus.Description("A thread has been saved."),
	bus.RunAll)

// ThreadDeleted fires after a thread has been deleted (Mibew THREAD_DELETE).
var ThreadDeleted = bus.NewTopic[ThreadDeletion]("thread.deleted",
	bus.Description("A thread has been deleted."),
	bus.RunAll)

// ThreadClosed fires after a thread has been closed (Mibew THREAD_CLOSE).
var ThreadClosed = bus.NewTopic[ThreadEvent]("thread.closed",
	bus.Description("A thread has been closed."),
	bus.RunAll)

// ThreadMessagePosting fires before a message is posted to a thread (Mibew
// THREAD_POST_MESSAGE). Listeners may change the message's body, kind and
// options; the message is stored as the last listener left it. A listener
// that returns an error keeps the message from being posted. The thread's
// id and the message's kind, never its body, go on the publish span.
var ThreadMessagePosting = bus.NewTopic[MessagePosting]("thread.message_posting",
	bus.Description("A message is about to be posted to a thread; listeners may change it.")).
	SpanAttributes(func(m *MessagePosting) []attribute.KeyValue {
		kv := []attribute.KeyValue{attribute.String("chat.message.kind", m.Kind.String())}
		if m.Thread != nil {
			kv = append(kv, attribute.Int64("chat.thread.id", int64(m.Thread.ID)))
		}
		return kv
	})

// ThreadMessagesAlter fires after the messages of a thread have been loaded
// and before they are sent to the client (Mibew THREAD_GET_MESSAGES_ALTER).
// Listeners may change, add or remove messages in [MessageList.Messages].
var ThreadMessagesAlter = bus.NewTopic[MessageList]("thread.messages_alter",
	bus.Description("The messages of a thread have been loaded; listeners may change them before they are sent."))

// ThreadUserReady fires after a thread has been created, its visitor has
// passed the pre-chat survey and the system messages have been sent to them
// (Mibew THREAD_USER_IS_READY). It does not fire when no operator is online,
// since the chat cannot start then.
var ThreadUserReady = bus.NewTopic[ThreadEvent]("thread.user_ready",
	bus.Description("The visitor of a new thread is ready to chat."),
	bus.RunAll)

// FunctionCall is the payload of [ThreadFunctionCall] and
// [UsersFunctionCall]: a call, from the client side, of an API function
// that a plugin implements.
type FunctionCall struct {
	// Request is the client's API request.
	Request *http.Request `json:"-"`
	// Thread is the thread the chat application called about; nil for calls
	// from the users application.
	Thread *Thread
	// Operator is the operator who called, if an operator did; nil otherwise.
	Operator *Operator
	// Function is the name of the function called.
	Function string
	// Arguments are the arguments of the call, by name.
	Arguments map[string]any
	// Results are the results of the call, by name, returned to the client.
	// It is never nil; the listener that implements the function fills it.
	Results map[string]any
}

func functionCallAttrs(c *FunctionCall) []attribute.KeyValue {
	return []attribute.KeyValue{attribute.String("chat.function.name", c.Function)}
}

// ThreadEvent is the payload of [ThreadCreated], [ThreadClosed] and
// [ThreadUserReady].
type ThreadEvent struct {
	// Thread is the state of the thread.
	Thread *Thread
}

// ThreadUpdate is the payload of [ThreadUpdated].
type ThreadUpdate struct {
	// Thread is the state of the thread after the update.
	Thread *Thread
	// Original is the state of the thread before the update.
	Original *Thread
}

// ThreadDeletion is the payload of [ThreadDeleted].
type ThreadDeletion struct {
	// ID identifies the deleted thread.
	ID ThreadID
}

// MessagePosting is the payload of [ThreadMessagePosting]: a message not
// yet posted.
type MessagePosting struct {
	// Thread is the thread the message goes to.
	Thread *Thread
	// Kind is who the message is from and who sees it. Listeners may change it.
	Kind MessageKind
	// Body is the text of the message. Listeners may change it; the message
	// is stored with the body the last listener left.
	Body string
	// Options are the message's other properties. Listeners may change them.
	Options MessageOptions
}

// MessageOptions are the properties of a message being posted besides its
// kind and body.
type MessageOptions struct {
	// From is the name of the author as shown; empty for system messages.
	From string
	// OperatorID is the author of an operator's message; zero otherwise.
	OperatorID OperatorID
	// Created is when the message was written; zero for now.
	Created time.Time
	// Plugin is the plugin a [MessageKindPlugin] message is for.
	Plugin string
	// Data is the plugin data of a [MessageKindPlugin] message.
	Data map[string]any
}

// MessageList is the payload of [ThreadMessagesAlter].
type MessageList struct {
	// Thread is the thread the messages belong to.
	Thread *Thread
	// Messages are the loaded messages, oldest first. Listeners may change,
	// add or remove messages; the client gets the list as the last listener
	// left it.
	Messages []Message
}
