package topics

import (
	"time"

	"github.com/fxbus/fxbus/bus"
)

// Chat events: the lifecycle of the chat widget service, the client-side
// service that runs a visitor's chat session (after Genesys Widgets'
// WebChatService). The service publishes them as things happen, so every
// listener runs even when one fails, and Publish returns all the failures.

// ChatReady fires when the chat service is initialised and ready to accept
// commands (Genesys WebChatService.ready).
var ChatReady = bus.NewTopic[ChatEvent]("chat.ready",
	bus.Description("The chat service is initialised and ready to accept commands."),
	bus.RunAll)

// ChatStarted fires when a chat session has started (Genesys
// WebChatService.started).
var ChatStarted = bus.NewTopic[ChatEvent]("chat.started",
	bus.Description("A chat session has started."),
	bus.RunAll)

// ChatEnded fires when a chat session has ended (Genesys
// WebChatService.ended).
var ChatEnded = bus.NewTopic[ChatEvent]("chat.ended",
	bus.Description("A chat session has ended."),
	bus.RunAll)

// ChatMessageReceived fires when a message has been received from the
// server: a text, a status message, a notice or another kind (Genesys
// WebChatService.messageReceived).
var ChatMessageReceived = bus.NewTopic[ChatMessage]("chat.message_received",
	bus.Description("A message has been received from the server."),
	bus.RunAll)

// ChatAgentConnected fires when an operator has joined the chat (Genesys
// WebChatService.agentConnected).
var ChatAgentConnected = bus.NewTopic[ChatParticipants]("chat.agent_connected",
	bus.Description("An operator has joined the chat."),
	bus.RunAll)

// ChatAgentDisconnected fires when an operator has left the chat (Genesys
// WebChatService.agentDisconnected).
var ChatAgentDisconnected = bus.NewTopic[ChatParticipants]("chat.agent_disconnected",
	bus.Description("An operator has left the chat."),
	bus.RunAll)

// ChatClientConnected fires when the visitor has been connected to the chat
// session (Genesys WebChatService.clientConnected).
var ChatClientConnected = bus.NewTopic[ChatParticipants]("chat.client_connected",
	bus.Description("The visitor has been connected to the chat session."),
	bus.RunAll)

// ChatClientDisconnected fires when the visitor has been disconnected from
// the chat session (Genesys WebChatService.clientDisconnected).
var ChatClientDisconnected = bus.NewTopic[ChatParticipants]("chat.client_disconnected",
	bus.Description("The visitor has been disconnected from the chat session."),
	bus.RunAll)

// ChatAgentTypingStarted fires when an operator has started typing a
// message (Genesys WebChatService.agentTypingStarted).
var ChatAgentTypingStarted = bus.NewTopic[ChatEvent]("chat.agent_typing_started",
	bus.Description("An operator has started typing."),
	bus.RunAll)

// ChatAgentTypingStopped fires when an operator has stopped typing (Genesys
// WebChatService.agentTypingStopped).
var ChatAgentTypingStopped = bus.NewTopic[ChatEvent]("chat.agent_typing_stopped",
	bus.Description("An operator has stopped typing."),
	bus.RunAll)

// ChatClientTypingStarted fires when the visitor has started typing; the
// operator is told (Genesys WebChatService.clientTypingStarted).
var ChatClientTypingStarted = bus.NewTopic[ChatEvent]("chat.client_typing_started",
	bus.Description("The visitor has started typing."),
	bus.RunAll)

// ChatClientTypingStopped fires when the visitor has stopped typing and the
// countdown after their last key has run out, so the operator's typing
// notice clears (Genesys WebChatService.clientTypingStopped).
var ChatClientTypingStopped = bus.NewTopic[ChatEvent]("chat.client_typing_stopped",
	bus.Description("The visitor has stopped typing."),
	bus.RunAll)

// ChatError fires when a request between the chat service and the server
// has failed (Genesys WebChatService.error).
var ChatError = bus.NewTopic[ChatFailure]("chat.error",
	bus.Description("A request between the chat service and the server has failed."),
	bus.RunAll)

// ChatEvent is the payload of the chat topics that carry no data of their
// own.
type ChatEvent struct {
	// Thread is the thread of the chat session; zero before a session has
	// started, as for [ChatReady].
	Thread ThreadID
	// Time is when it happened.
	Time time.Time
}

// ChatMessage is the payload of [ChatMessageReceived].
type ChatMessage struct {
	// Thread is the thread of the chat session.
	Thread ThreadID
	// Message is the message received.
	Message *Message
}

// ChatAgent is an operator taking part in a chat session.
type ChatAgent struct {
	// ID identifies the operator.
	ID OperatorID
	// Name is the name the operator shows to the visitor.
	Name string
	// Supervisor is set for a supervisor watching the chat.
	Supervisor bool
	// Connected is set while the operator is connected to the chat.
	Connected bool
}

// ChatParticipants is the payload of the topics on people joining and
// leaving a chat session, such as [ChatAgentConnected].
type ChatParticipants struct {
	// Thread is the thread of the chat session.
	Thread ThreadID
	// Message is the notice shown in the chat about the change.
	Message *Message
	// Agents are the operators of the chat session, after the change.
	Agents []ChatAgent
	// AgentsConnected is how many operators are connected after the change.
	AgentsConnected int
}

// ChatFailure is the payload of [ChatError].
type ChatFailure struct {
	// Thread is the thread of the chat session; zero if none has started.
	Thread ThreadID
	// Status is the HTTP status of the server's answer; zero if none came.
	Status int
	// Err is what went wrong.
	Err error
}
