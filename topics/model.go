package topics

import (
	"fmt"
	"net/http"
	"net/netip"
	"time"
)

// This file holds the domain types that the payloads of several areas share:
// the chat desk's bans, groups, operators, visitors, threads, messages and
// invitations (after Mibew Messenger), and the web pieces that the page,
// resource, routing and widget events carry.

// BanID identifies a [Ban].
type BanID int64

// GroupID identifies a [Group].
type GroupID int64

// OperatorID identifies an [Operator].
type OperatorID int64

// ThreadID identifies a [Thread].
type ThreadID int64

// MessageID identifies a [Message].
type MessageID int64

// VisitorID identifies one tracked [Visitor] record.
type VisitorID int64

// UserID identifies a site visitor across visits: the widget's cookie. A
// [Thread] names its visitor by it.
type UserID string

// Ban keeps an address from starting chats until it expires.
type Ban struct {
	// ID identifies the ban; it is zero until the ban is stored.
	ID BanID
	// Address is the banned IP address.
	Address netip.Addr
	// Comment says why the address was banned.
	Comment string
	// Created is when the ban was made.
	Created time.Time
	// Until is when the ban expires.
	Until time.Time
}

// Group is a set of operators that visitors can ask for, such as "Sales".
type Group struct {
	// ID identifies the group; it is zero until the group is stored.
	ID GroupID
	// Parent is the group this one belongs to; zero for a top-level group.
	Parent GroupID
	// Name is the group's name in the desk's own language.
	Name string
	// Description describes the group in the desk's own language.
	Description string
	// CommonName is the group's name in English.
	CommonName string
	// CommonDescription describes the group in English.
	CommonDescription string
	// Email is where messages left for the group are sent.
	Email string
	// Weight orders groups in lists: lighter ones come first.
	Weight int
}

// Permission is a set of rights of an [Operator], as bits.
type Permission uint32

const (
	// PermissionAdmin lets an operator administer the desk.
	PermissionAdmin Permission = 1 << iota
	// PermissionTakeOver lets an operator take over another's thread.
	PermissionTakeOver
	// PermissionViewThreads lets an operator watch others' threads.
	PermissionViewThreads
	// PermissionModifyProfile lets an operator edit their own profile.
	PermissionModifyProfile
)

// Has reports whether p includes every right in q.
func (p Permission) Has(q Permission) bool { return p&q == q }

// Operator is a member of staff who answers chats.
type Operator struct {
	// ID identifies the operator; it is zero until the operator is stored.
	ID OperatorID
	// Login is the name the operator logs in with.
	Login string
	// LocalName is the name shown to visitors in the desk's own language.
	LocalName string
	// CommonName is the name shown to visitors in English.
	CommonName string
	// Email is the operator's address.
	Email string
	// Code is a short code by which a button can ask for this operator.
	Code string
	// Permissions are the operator's rights.
	Permissions Permission
	// Groups are the groups the operator belongs to.
	Groups []GroupID
	// Disabled is set when the operator may not log in.
	Disabled bool
	// LastVisited is when the operator was last seen online.
	LastVisited time.Time
}

// ThreadState is where a [Thread] is in its life. The values follow
// Mibew's STATE_* constants.
type ThreadState uint8

const (
	// ThreadStateQueue is a thread waiting for an operator.
	ThreadStateQueue ThreadState = iota
	// ThreadStateWaiting is a thread whose operator left and that waits for another.
	ThreadStateWaiting
	// ThreadStateChatting is a thread in conversation.
	ThreadStateChatting
	// ThreadStateClosed is a finished thread.
	ThreadStateClosed
	// ThreadStateLoading is a thread whose visitor has not finished the pre-chat survey.
	ThreadStateLoading
	// ThreadStateLeft is a thread the visitor left.
	ThreadStateLeft
	// ThreadStateInvited is a thread opened by an invitation not yet answered.
	ThreadStateInvited
)

var threadStates = [...]string{"queue", "waiting", "chatting", "closed", "loading", "left", "invited"}

// String returns the state's name, such as "chatting".
func (s ThreadState) String() string {
	if int(s) < len(threadStates) {
		return threadStates[s]
	}
	return fmt.Sprintf("ThreadState(%d)", uint8(s))
}

// InvitationState is where the invitation behind a [Thread] is, if any.
// The values follow Mibew's INVITATION_* constants.
type InvitationState uint8

const (
	// InvitationStateNone is a thread the visitor started.
	InvitationStateNone InvitationState = iota
	// InvitationStateWaiting is an invitation not answered yet.
	InvitationStateWaiting
	// InvitationStateAccepted is an invitation the visitor accepted.
	InvitationStateAccepted
	// InvitationStateRejected is an invitation the visitor rejected.
	InvitationStateRejected
	// InvitationStateIgnored is an invitation the system closed unanswered.
	InvitationStateIgnored
)

var invitationStates = [...]string{"none", "waiting", "accepted", "rejected", "ignored"}

// String returns the state's name, such as "accepted".
func (s InvitationState) String() string {
	if int(s) < len(invitationStates) {
		return invitationStates[s]
	}
	return fmt.Sprintf("InvitationState(%d)", uint8(s))
}

// Thread is one chat between a visitor and the desk.
type Thread struct {
	// ID identifies the thread; it is zero until the thread is stored.
	ID ThreadID
	// State is where the thread is in its life.
	State ThreadState
	// Invitation is the state of the invitation that opened the thread, if any.
	Invitation InvitationState
	// UserID identifies the visitor.
	UserID UserID
	// UserName is the name the visitor gave.
	UserName string
	// UserAgent is the visitor's browser.
	UserAgent string
	// Remote is the visitor's address, as the desk saw it.
	Remote string
	// Referer is the page the visitor started the chat from.
	Referer string
	// Locale is the language of the chat, such as "en".
	Locale string
	// GroupID is the group the visitor asked for; zero for any.
	GroupID GroupID
	// AgentID is the operator in charge; zero while there is none.
	AgentID OperatorID
	// AgentName is the name the operator in charge shows to the visitor.
	AgentName string
	// NextAgent is the operator the thread is being passed to; zero if none.
	NextAgent OperatorID
	// Created is when the thread was opened.
	Created time.Time
	// Modified is when the thread last changed.
	Modified time.Time
	// ChatStarted is when an operator first joined; zero before.
	ChatStarted time.Time
}

// MessageKind is who a [Message] is from and who sees it. The values follow
// Mibew's KIND_* constants.
type MessageKind uint8

const (
	// MessageKindUser is a message from the visitor.
	MessageKindUser MessageKind = iota + 1
	// MessageKindAgent is a message from an operator.
	MessageKindAgent
	// MessageKindForAgent is a message only operators see.
	MessageKindForAgent
	// MessageKindInfo is a notice from the system.
	MessageKindInfo
	// MessageKindConn is a notice that someone joined or left.
	MessageKindConn
	// MessageKindEvents is a notice about the visitor's actions.
	MessageKindEvents
	// MessageKindAvatar is a change of the operator's picture.
	MessageKindAvatar
	// MessageKindPlugin is a message for a plugin, with data in [Message.Data].
	MessageKindPlugin
)

var messageKinds = [...]string{"", "user", "agent", "for_agent", "info", "conn", "events", "avatar", "plugin"}

// String returns the kind's name, such as "agent".
func (k MessageKind) String() string {
	if k > 0 && int(k) < len(messageKinds) {
		return messageKinds[k]
	}
	return fmt.Sprintf("MessageKind(%d)", uint8(k))
}

// Message is one message of a [Thread].
type Message struct {
	// ID identifies the message; it is zero until the message is stored.
	ID MessageID
	// ThreadID is the thread the message belongs to.
	ThreadID ThreadID
	// Kind is who the message is from and who sees it.
	Kind MessageKind
	// From is the name of the author as shown; empty for system messages.
	From string
	// OperatorID is the author of an operator's message; zero otherwise.
	OperatorID OperatorID
	// Body is the text of the message.
	Body string
	// Created is when the message was posted.
	Created time.Time
	// Plugin is the plugin a [MessageKindPlugin] message is for.
	Plugin string
	// Data is the plugin data of a [MessageKindPlugin] message.
	Data map[string]any
}

// Visitor is a person browsing the site that embeds the chat widget.
type Visitor struct {
	// ID identifies this tracking record.
	ID VisitorID
	// UserID identifies the person across visits.
	UserID UserID
	// UserName is the name the visitor gave, or a generated one.
	UserName string
	// UserAgent is the visitor's browser.
	UserAgent string
	// UserIP is the visitor's IP address.
	UserIP netip.Addr
	// Remote is the visitor's address as reported, such as a host name.
	Remote string
	// FirstTime is when the visitor was first tracked.
	FirstTime time.Time
	// LastTime is when the visitor was last tracked.
	LastTime time.Time
	// Invitations is how many invitations the visitor has had.
	Invitations int
	// Chats is how many chats the visitor has had.
	Chats int
	// Invitation is the invitation waiting for the visitor's answer; nil if none.
	Invitation *Invitation
}

// Invitation is an operator's offer to chat, made to a visitor browsing the
// site. Accepting it starts a chat in its thread.
type Invitation struct {
	// Thread is the thread opened for the invitation.
	Thread *Thread
	// VisitorID is the visitor invited.
	VisitorID VisitorID
	// OperatorID is the operator who invited.
	OperatorID OperatorID
	// Sent is when the invitation was made.
	Sent time.Time
}

// AssetKind says what an [Asset]'s Content is.
type AssetKind uint8

const (
	// AssetKindRelativeURL is the URL of a file, relative to the desk's root.
	AssetKindRelativeURL AssetKind = iota
	// AssetKindAbsoluteURL is the full URL of a file.
	AssetKindAbsoluteURL
	// AssetKindInline is code to put in the page itself.
	AssetKindInline
)

// Asset is a CSS or JavaScript file, or inline code, attached to a page.
type Asset struct {
	// Kind says what Content is.
	Kind AssetKind
	// Content is the URL of the file, or the inline code.
	Content string
	// Weight orders the page's assets: lighter ones come first.
	Weight int
}

// Response is an HTTP response to send to the client instead of the desk's
// own.
type Response struct {
	// Status is the HTTP status code, such as 403.
	Status int
	// Header holds the response's headers.
	Header http.Header
	// Body is the response's body.
	Body []byte
}

// Route is one route of the desk's HTTP server.
type Route struct {
	// Name identifies the route, such as "chat.user.start".
	Name string
	// Pattern is the route's [http.ServeMux] pattern, such as "GET /chat/{id}".
	Pattern string
	// Handler serves the route.
	Handler http.Handler `json:"-"`
}
