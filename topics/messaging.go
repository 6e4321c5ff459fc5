package topics

import (
	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/hook"
)

// Messaging hooks: the desk's messaging API, wrapped in before and after
// hooks (Backendless "messaging service" handlers), each call about one
// [Channel]. Handlers scope themselves to a channel with the topic's When
// on [PublishRequest.Channel].

// MessagingPublish wraps the publication of a message to a channel
// (Backendless beforePublish / afterPublish).
var MessagingPublish = hook.New[PublishRequest, PublishStatus]("messaging.publish",
	bus.Description("A message is published to a channel."))

// Channel names a messaging channel; handlers compare it, typed, to scope
// themselves.
type Channel string

// The desk's channels.
const (
	// ChannelOperators reaches every operator online.
	ChannelOperators Channel = "operators"
	// ChannelAnnouncements reaches every visitor's widget.
	ChannelAnnouncements Channel = "announcements"
)

// PublishRequest is the request of [MessagingPublish].
type PublishRequest struct {
	// Channel is where the message goes.
	Channel Channel
	// Message is the message; before handlers may change it.
	Message string
	// Headers are the message's headers.
	Headers map[string]string
}

// PublishStatus is the result of [MessagingPublish].
type PublishStatus struct {
	// MessageID identifies the published message.
	MessageID string
	// Delivered counts the subscribers the message reached.
	Delivered int
}
