package topics

import (
	"time"

	"github.com/fxbus/fxbus/bus"
)

// Object events: the desk's stored objects, tickets and documents, after
// iTop's events on its data model. Each event has a source, its object, in a
// hierarchy of types: [Object] at the top, [Ticket] below it, implemented by
// *[UserRequest] and *[Incident], and *[Document]. Whoever filters these
// events by the type of their object filters at any level of the
// hierarchy: asking for a Ticket hears of every *UserRequest and *Incident,
// as a listener on iTop's Ticket class hears UserRequest.
//
// The events that change objects fire after the fact, so every listener
// runs even when one fails, and Publish returns all the failures.

// ObjectCreated fires after an object has been created and stored.
var ObjectCreated = bus.NewTopic[ObjectEvent]("object.created",
	bus.Description("An object has been created."),
	bus.RunAll)

// ObjectUpdated fires after changes to an object have been written (iTop
// EVENT_DB_AFTER_WRITE, for an object that existed).
var ObjectUpdated = bus.NewTopic[ObjectUpdate]("object.updated",
	bus.Description("Changes to an object have been written."),
	bus.RunAll)

// ObjectDeleted fires after an object has been deleted.
var ObjectDeleted = bus.NewTopic[ObjectEvent]("object.deleted",
	bus.Description("An object has been deleted."),
	bus.RunAll)

// ObjectDocumentDownloaded fires when a file held by an object, such as the
// file of a [Document], has been downloaded or shown in a preview (iTop
// EVENT_DOWNLOAD_DOCUMENT). Its source is the object holding the file.
var ObjectDocumentDownloaded = bus.NewTopic[DocumentDownload]("object.document_downloaded",
	bus.Description("A document has been downloaded, or shown in a preview."),
	bus.RunAll)

// Object is a stored object of the desk: the root of the hierarchy of the
// object events' sources.
type Object interface {
	// Class returns the name of the object's class, such as "UserRequest".
	Class() string
	// ObjectID returns the object's id within its class; zero until stored.
	ObjectID() int64
}

// Ticket is an [Object] that tracks a customer's case: a *[UserRequest] or
// an *[Incident].
type Ticket interface {
	Object
	// Ticket returns the fields that every ticket has.
	Ticket() *TicketInfo
}

// TicketStatus is where a [Ticket] is in its life.
type TicketStatus string

const (
	// TicketStatusNew is a ticket nobody has taken yet.
	TicketStatusNew TicketStatus = "new"
	// TicketStatusAssigned is a ticket an operator has taken.
	TicketStatusAssigned TicketStatus = "assigned"
	// TicketStatusPending is a ticket waiting for the customer.
	TicketStatusPending TicketStatus = "pending"
	// TicketStatusResolved is a ticket whose case is solved.
	TicketStatusResolved TicketStatus = "resolved"
	// TicketStatusClosed is a finished ticket.
	TicketStatusClosed TicketStatus = "closed"
)

// TicketInfo holds the fields that every [Ticket] has. The ticket types
// embed it, and so implement Ticket's method.
type TicketInfo struct {
	// ID identifies the ticket within its class; zero until stored.
	ID int64
	// Ref is the ticket's reference, such as "R-000123".
	Ref string
	// Title sums the case up.
	Title string
	// Description tells the case.
	Description string
	// Status is where the ticket is in its life.
	Status TicketStatus
	// ThreadID is the chat the ticket was opened from; zero if none.
	ThreadID ThreadID
	// Caller is the visitor the ticket is for.
	Caller UserID
	// AgentID is the operator in charge; zero while there is none.
	AgentID OperatorID
	// Created is when the ticket was opened.
	Created time.Time
	// Updated is when the ticket last changed.
	Updated time.Time
}

// Ticket returns t, so that the types embedding TicketInfo implement [Ticket].
func (t *TicketInfo) Ticket() *TicketInfo { return t }

// UserRequest is a [Ticket] for a customer's request for help or for a
// service.
type UserRequest struct {
	TicketInfo
	// Service is the service requested, such as "password reset".
	Service string
}

// Class returns "UserRequest".
func (*UserRequest) Class() string { return "UserRequest" }

// ObjectID returns the request's id.
func (r *UserRequest) ObjectID() int64 { return r.ID }

// Priority ranks how pressing an [Incident] is: 1 is the most pressing.
type Priority uint8

// Incident is a [Ticket] for a failure that affects customers.
type Incident struct {
	TicketInfo
	// Impact is how widely the failure is felt.
	Impact Priority
	// Urgency is how soon the failure must be fixed.
	Urgency Priority
}

// Class returns "Incident".
func (*Incident) Class() string { return "Incident" }

// ObjectID returns the incident's id.
func (i *Incident) ObjectID() int64 { return i.ID }

// File is the content of a stored file.
type File struct {
	// Name is the file's name, such as "invoice.pdf".
	Name string
	// MIMEType is the file's media type, such as "application/pdf".
	MIMEType string
	// Data is the file's content.
	Data []byte
}

// Document is an [Object] holding a file, such as a transcript or an
// attachment of a ticket.
type Document struct {
	// ID identifies the document; zero until stored.
	ID int64
	// Name is the document's title.
	Name string
	// Description says what the document is.
	Description string
	// File is the document's file.
	File File
	// Created is when the document was stored.
	Created time.Time
}

// Class returns "Document".
func (*Document) Class() string { return "Document" }

// ObjectID returns the document's id.
func (d *Document) ObjectID() int64 { return d.ID }

// The type hierarchy of the object events' sources.
var (
	_ Ticket = (*UserRequest)(nil)
	_ Ticket = (*Incident)(nil)
	_ Object = (*Document)(nil)
)

// ObjectEvent is the payload of [ObjectCreated] and [ObjectDeleted].
type ObjectEvent struct {
	// Object is the object, and the event's source: its state when created,
	// or its last state before deletion.
	Object Object
}

// ObjectUpdate is the payload of [ObjectUpdated].
type ObjectUpdate struct {
	// Object is the object after the changes, and the event's source.
	Object Object
	// Changes maps the name of each attribute written, such as "Status", to
	// its new value.
	Changes map[string]any
}

// Disposition says how a downloaded file is shown.
type Disposition string

const (
	// DispositionAttachment is a file downloaded to be saved.
	DispositionAttachment Disposition = "attachment"
	// DispositionInline is a file shown in a preview.
	DispositionInline Disposition = "inline"
)

// DocumentDownload is the payload of [ObjectDocumentDownloaded].
type DocumentDownload struct {
	// Object is the object holding the file, and the event's source.
	Object Object
	// File is the file downloaded.
	File *File
	// Attribute names the attribute of Object that holds the file, such as "File".
	Attribute string
	// Disposition says whether the file was downloaded or shown in a preview.
	Disposition Disposition
	// DebugInfo is a short text for logs, such as the file's name.
	DebugInfo string
}
