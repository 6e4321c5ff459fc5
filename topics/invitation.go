package topics

import "github.com/fxbus/fxbus/bus"

// Invitation events: an operator invites a visitor browsing the site to
// chat. They fire after the fact, so every listener runs even when one
// fails, and Publish returns all the failures.

// InvitationCreated fires after an operator has invited a visitor to chat
// (Mibew INVITATION_CREATE).
var InvitationCreated = bus.NewTopic[InvitationEvent]("invitation.created",
	bus.Description("An operator has invited a visitor to chat."),
	bus.RunAll)

// InvitationAccepted fires after a visitor has accepted an invitation
// (Mibew INVITATION_ACCEPT).
var InvitationAccepted = bus.NewTopic[InvitationEvent]("invitation.accepted",
	bus.Description("A visitor has accepted an invitation."),
	bus.RunAll)

// InvitationRejected fires after a visitor has rejected an invitation
// (Mibew INVITATION_REJECT).
var InvitationRejected = bus.NewTopic[InvitationEvent]("invitation.rejected",
	bus.Description("A visitor has rejected an invitation."),
	bus.RunAll)

// InvitationIgnored fires after a visitor has left an invitation
// unanswered and the system has closed it (Mibew INVITATION_IGNORE).
var InvitationIgnored = bus.NewTopic[InvitationEvent]("invitation.ignored",
	bus.Description("A visitor has ignored an invitation and the system has closed it."),
	bus.RunAll)

// InvitationEvent is the payload of the invitation topics.
type InvitationEvent struct {
	// Invitation is the invitation, with the state of its thread.
	Invitation *Invitation
}
