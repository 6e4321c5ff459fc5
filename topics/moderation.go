package topics

import "github.com/fxbus/fxbus/bus"

// Moderation events: what moderators, human or not, ask of the desk.

// ModerationBanRequested fires when a moderator asks the desk to ban a
// visitor, after repeated abuse say. The desk stores the ban and then
// publishes [BanCreated]; a listener that returns an error keeps the ban
// from being stored.
var ModerationBanRequested = bus.NewTopic[BanRequest]("moderation.ban_requested",
	bus.Description("A moderator asks the desk to ban a visitor."))

// BanRequest is the payload of [ModerationBanRequested].
type BanRequest struct {
	// UserID is the visitor to ban.
	UserID UserID
	// Address is the visitor's address, which the ban blocks.
	Address string
	// Reason says why, for operators.
	Reason string
	// By names who asks: a module or an operator.
	By string
	// Ban is the ban the desk stored, filled in by the desk's own listener.
	Ban *Ban
}
