package bus_test

// Scenario tests for seed 001, the iTop Events API
// (/work/shared/seeds/001_*.txt): events registered with a description and
// typed event data; an event fired with sources, where every parent class
// is a source, so a listener on Ticket hears UserRequest; a rank to order
// extensions; listeners registered in code by a setup class.

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/bus"
)

// The datamodel's class tree, in Go: a parent class is an interface that
// its subclasses implement. DBObject > Ticket > UserRequest, Incident;
// DBObject > Document > Attachment; DBObject > Person.
type (
	itopDBObject interface{ Class() string }
	itopTicket   interface {
		itopDBObject
		TicketRef() string
	}
	itopUserRequest struct{ Ref string }
	itopIncident    struct{ Ref string }
	itopPerson      struct{ Name string }
	itopAttachment  struct{ Name string }
	itopOrmDocument struct{ FileName string }
)

func (*itopUserRequest) Class() string       { return "UserRequest" }
func (r *itopUserRequest) TicketRef() string { return r.Ref }
func (*itopIncident) Class() string          { return "Incident" }
func (i *itopIncident) TicketRef() string    { return i.Ref }
func (*itopPerson) Class() string            { return "Person" }
func (*itopAttachment) Class() string        { return "Attachment" }

const itopDispositionAttachment = "attachment"

// The event data of EVENT_DOWNLOAD_DOCUMENT, as registered in XML: one
// typed field per event_datum, instead of $oEventData->Get('att_code').
type itopDownloadDocument struct {
	Object             itopDBObject     // the object containing the document
	Document           *itopOrmDocument // the document downloaded
	AttCode            string           // attribute code of the object containing the document
	ContentDisposition string           // preview ("inline") or a true download ("attachment")
	DebugInfo          string
}

// The event data of EVENT_DB_AFTER_WRITE.
type itopAfterWrite struct {
	Object  itopDBObject
	IsNew   bool
	Changes map[string]any
}

var (
	itopEventDownloadDocument = bus.NewTopic[itopDownloadDocument]("EVENT_DOWNLOAD_DOCUMENT",
		bus.Description("A document has been downloaded from the GUI"))
	itopEventDBAfterWrite = bus.NewTopic[itopAfterWrite]("EVENT_DB_AFTER_WRITE",
		bus.Description("An object has been written to the database"))
)

// itopDownload is ormDocument::DownloadDocument: it fires the event with
// the object as the source; the class tree makes every parent a source.
func itopDownload(ctx context.Context, b *bus.Bus, obj itopDBObject, attCode, disposition string) error {
	doc := &itopOrmDocument{FileName: obj.Class() + ".pdf"}
	return itopEventDownloadDocument.PublishFrom(ctx, b, obj, &itopDownloadDocument{
		Object: obj, Document: doc, AttCode: attCode, ContentDisposition: disposition, DebugInfo: doc.FileName,
	})
}

// itopAttachmentsSetup is the Go form of a class implementing
// iEventServiceSetup: RegisterEventsAndListeners returns its listeners.
type itopAttachmentsSetup struct{ triggered []string }

func (s *itopAttachmentsSetup) RegisterEventsAndListeners() []bus.Listener {
	return []bus.Listener{
		// EventService::RegisterListener(EVENT_DOWNLOAD_DOCUMENT, [$this, '...'], 'Attachment')
		bus.On(itopEventDownloadDocument, s.OnAttachmentDownloadActivateTriggers, bus.FromSource[*itopAttachment]()),
	}
}

func (s *itopAttachmentsSetup) OnAttachmentDownloadActivateTriggers(_ context.Context, e *itopDownloadDocument) error {
	if e.ContentDisposition != itopDispositionAttachment {
		return nil
	}
	s.triggered = append(s.triggered, e.Object.Class()+"."+e.AttCode+":"+e.Document.FileName)
	return nil
}

// itopAttributeBlobSetup registers without a source: it hears every download.
type itopAttributeBlobSetup struct{ downloads int }

func (s *itopAttributeBlobSetup) RegisterEventsAndListeners() []bus.Listener {
	return []bus.Listener{bus.On(itopEventDownloadDocument, func(context.Context, *itopDownloadDocument) error {
		s.downloads++
		return nil
	})}
}

// TestITop is the seed's events API: events declared with a description
// and typed data, sources as filters that hear every type below them,
// and ranks.
func TestITop(t *testing.T) {
	t.Run("event declared with description and typed data", func(t *testing.T) {
		assert.Equal(t, "EVENT_DOWNLOAD_DOCUMENT", itopEventDownloadDocument.Name())
		assert.Equal(t, "A document has been downloaded from the GUI", itopEventDownloadDocument.Info().Description)
		assert.Equal(t, "bus_test.itopDownloadDocument", itopEventDownloadDocument.Info().Payload)

		attachments, blobs := &itopAttachmentsSetup{}, &itopAttributeBlobSetup{}
		b := newBus(t, append(attachments.RegisterEventsAndListeners(), blobs.RegisterEventsAndListeners()...))
		ctx := context.Background()
		require.NoError(t, itopDownload(ctx, b, &itopAttachment{Name: "contract"}, "contents", itopDispositionAttachment))
		require.NoError(t, itopDownload(ctx, b, &itopAttachment{Name: "contract"}, "contents", "inline"))
		require.NoError(t, itopDownload(ctx, b, &itopUserRequest{Ref: "R-1"}, "doc", itopDispositionAttachment))
		assert.Equal(t, []string{"Attachment.contents:Attachment.pdf"}, attachments.triggered,
			"the Attachment listener hears attachments only, and acts on true downloads")
		assert.Equal(t, 3, blobs.downloads, "the listener without a filter hears every download")
	})
	t.Run("listener on parent source hears child sources", func(t *testing.T) {
		var log notes
		on := func(name string, opts ...bus.ListenerOption) bus.Listener {
			return bus.On(itopEventDBAfterWrite, func(_ context.Context, e *itopAfterWrite) error {
				log.add(name + "<-" + e.Object.Class())
				return nil
			}, opts...)
		}
		b := newBus(t, []bus.Listener{
			on("Ticket", bus.FromSource[itopTicket]()),
			on("UserRequest", bus.FromSource[*itopUserRequest]()),
			on("Person", bus.FromSource[*itopPerson]()), // unrelated to tickets
			on("DBObject", bus.FromSource[itopDBObject]()),
			on("any"),
		})
		ctx := context.Background()
		write := func(obj itopDBObject) {
			log = nil
			require.NoError(t, itopEventDBAfterWrite.PublishFrom(ctx, b, obj, &itopAfterWrite{Object: obj}))
		}
		write(&itopUserRequest{Ref: "R-1"})
		assert.Equal(t, notes{"Ticket<-UserRequest", "UserRequest<-UserRequest", "DBObject<-UserRequest", "any<-UserRequest"}, log)
		write(&itopIncident{Ref: "I-1"})
		assert.Equal(t, notes{"Ticket<-Incident", "DBObject<-Incident", "any<-Incident"}, log)
		write(&itopPerson{Name: "Ann"})
		assert.Equal(t, notes{"Person<-Person", "DBObject<-Person", "any<-Person"}, log)
	})
	t.Run("unrelated source type hears nothing", func(t *testing.T) {
		var heard []string
		type itopUnrelated interface{ Shred() }
		b := newBus(t, []bus.Listener{
			bus.On(itopEventDBAfterWrite, func(_ context.Context, e *itopAfterWrite) error {
				heard = append(heard, e.Object.Class())
				return nil
			}, bus.FromSource[itopUnrelated](), bus.FromSource[*itopAttachment]()),
		})
		ctx := context.Background()
		for _, obj := range []itopDBObject{&itopUserRequest{}, &itopIncident{}, &itopPerson{}} {
			require.NoError(t, itopEventDBAfterWrite.PublishFrom(ctx, b, obj, &itopAfterWrite{Object: obj}))
		}
		require.NoError(t, itopEventDBAfterWrite.Publish(ctx, b, &itopAfterWrite{Object: &itopPerson{}}))
		assert.Empty(t, heard)
	})
	t.Run("rank orders two extensions", func(t *testing.T) {
		var log notes
		// Two extensions on one event: the later-declared one knows the other's
		// rank (0) and asks to run before it.
		b := newBus(t, []bus.Listener{
			bus.On(itopEventDBAfterWrite, func(_ context.Context, e *itopAfterWrite) error {
				log.add(fmt.Sprint("itop-request-mgmt: OnUserRequestUpdateDone, sla ", e.Changes["sla"]))
				return nil
			}, bus.FromSource[*itopUserRequest](), bus.Rank(0)),
			bus.On(itopEventDBAfterWrite, func(_ context.Context, e *itopAfterWrite) error {
				e.Changes["sla"] = "recomputed" // the extension ranked after it sees this
				log.add("itop-sla: recompute SLA")
				return nil
			}, bus.FromSource[itopTicket](), bus.Rank(-10)),
		})
		e := &itopAfterWrite{Object: &itopUserRequest{Ref: "R-9"}, Changes: map[string]any{}}
		require.NoError(t, itopEventDBAfterWrite.PublishFrom(context.Background(), b, e.Object, e))
		assert.Equal(t, notes{"itop-sla: recompute SLA", "itop-request-mgmt: OnUserRequestUpdateDone, sla recomputed"}, log)
	})
}
