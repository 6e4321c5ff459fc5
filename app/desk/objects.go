package desk

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"mime"
	"strconv"
	"time"

	"github.com/fxbus/fxbus/topics"
)

// Tickets and documents go through the data hooks, as records: maps from
// field names to values, which before handlers may change. A ticket's
// record is also its JSON form in the HTTP API.

// The ticket classes, as in a record's "class".
const (
	ClassUserRequest = "UserRequest"
	ClassIncident    = "Incident"
)

// CreateTicket creates a ticket from rec through the [topics.DataCreate]
// hook on [topics.TableTickets]: before handlers may change rec, the desk
// stores the ticket they leave, and after handlers may change the result.
// Then [topics.ObjectCreated] fires with the ticket as its source, so
// listeners on [topics.Ticket] or on its class hear it. It returns the
// record as the after handlers left it.
//
// rec needs "class" (UserRequest or Incident) and "title"; it may have
// "description", "thread_id", "caller", "agent_id", "service" for a
// request, "impact" and "urgency" for an incident.
func (s *Service) CreateTicket(ctx context.Context, rec map[string]any) (map[string]any, error) {
	if _, err := s.requireOperator(ctx); err != nil {
		return nil, err
	}
	var created topics.Ticket
	res, err := topics.DataCreate.Run(ctx, s.bus, &topics.DataRequest{Table: topics.TableTickets, Record: rec},
		func(_ context.Context, req *topics.DataRequest) (*topics.DataResult, error) {
			t, err := newTicket(req.Record, s.now())
			if err != nil {
				return nil, err
			}
			if created, err = s.store.CreateTicket(t); err != nil {
				return nil, err
			}
			return &topics.DataResult{Records: []map[string]any{TicketRecord(created)}}, nil
		})
	if err != nil {
		return nil, s.hookError(ctx, err)
	}
	if created != nil {
		s.reported(ctx, topics.ObjectCreated.PublishFrom(ctx, s.bus, created, &topics.ObjectEvent{Object: created}))
	}
	return firstRecord(res)
}

// UpdateTicket writes changes to ticket id through the
// [topics.DataUpdate] hook on [topics.TableTickets]; then
// [topics.ObjectUpdated] fires with the ticket as its source and the
// attributes written. The fields that may change are "title",
// "description", "status", "agent_id", and "service" for a request,
// "impact" and "urgency" for an incident.
func (s *Service) UpdateTicket(ctx context.Context, id int64, changes map[string]any) (map[string]any, error) {
	if _, err := s.requireOperator(ctx); err != nil {
		return nil, err
	}
	var updated topics.Ticket
	var written map[string]any
	req := &topics.DataRequest{Table: topics.TableTickets, ID: strconv.FormatInt(id, 10), Record: changes}
	res, err := topics.DataUpdate.Run(ctx, s.bus, req, func(_ context.Context, req *topics.DataRequest) (*topics.DataResult, error) {
		t, ok, err := s.store.UpdateTicket(id, func(t topics.Ticket) error {
			var err error
			written, err = applyTicket(t, req.Record, s.now())
			return err
		})
		switch {
		case !ok:
			return nil, fmt.Errorf("ticket %d: %w", id, ErrNotFound)
		case err != nil:
			return nil, err
		}
		updated = t
		return &topics.DataResult{Records: []map[string]any{TicketRecord(t)}}, nil
	})
	if err != nil {
		return nil, s.hookError(ctx, err)
	}
	if updated != nil {
		s.reported(ctx, topics.ObjectUpdated.PublishFrom(ctx, s.bus, updated, &topics.ObjectUpdate{Object: updated, Changes: written}))
	}
	return firstRecord(res)
}

func firstRecord(res *topics.DataResult) (map[string]any, error) {
	if res == nil || len(res.Records) == 0 {
		return nil, fmt.Errorf("%w: the data hook returned no record", ErrRejected)
	}
	return res.Records[0], nil
}

// Ticket returns the record of ticket id, for an operator.
func (s *Service) Ticket(ctx context.Context, id int64) (map[string]any, error) {
	if _, err := s.requireOperator(ctx); err != nil {
		return nil, err
	}
	t, ok := s.store.Ticket(id)
	if !ok {
		return nil, fmt.Errorf("ticket %d: %w", id, ErrNotFound)
	}
	return TicketRecord(t), nil
}

// Tickets returns a page of the records of the tickets, by ID, and the
// cursor of the next page, for an operator.
func (s *Service) Tickets(ctx context.Context, pg Page) ([]map[string]any, string, error) {
	after, limit, err := s.listing(ctx, pg)
	if err != nil {
		return nil, "", err
	}
	ts, next := s.store.Tickets(after, limit)
	out := make([]map[string]any, len(ts))
	for i, t := range ts {
		out[i] = TicketRecord(t)
	}
	return out, cursor(next), nil
}

// newTicket builds a ticket from a record.
func newTicket(rec map[string]any, now time.Time) (topics.Ticket, error) {
	var t topics.Ticket
	switch class, _ := rec["class"].(string); class {
	case ClassUserRequest:
		t = &topics.UserRequest{}
	case ClassIncident:
		t = &topics.Incident{}
	default:
		return nil, fmt.Errorf("%w: class must be %s or %s, not %q", ErrInvalid, ClassUserRequest, ClassIncident, class)
	}
	info := t.Ticket()
	info.Status, info.Created = topics.TicketStatusNew, now
	fields := maps.Clone(rec)
	delete(fields, "class")
	if _, err := applyTicket(t, fields, now); err != nil {
		return nil, err
	}
	if info.Title == "" {
		return nil, fmt.Errorf("%w: title is required", ErrInvalid)
	}
	return t, nil
}

// applyTicket writes the fields of rec to t and returns the attributes
// written, by their Go names, with their new values.
func applyTicket(t topics.Ticket, rec map[string]any, now time.Time) (map[string]any, error) {
	info := t.Ticket()
	written := map[string]any{}
	for k, v := range rec {
		var err error
		switch k {
		case "title":
			info.Title, err = str(k, v)
			written["Title"] = info.Title
		case "description":
			info.Description, err = str(k, v)
			written["Description"] = info.Description
		case "caller":
			var c string
			c, err = str(k, v)
			info.Caller = topics.UserID(c)
			written["Caller"] = info.Caller
		case "status":
			var st string
			st, err = str(k, v)
			info.Status = topics.TicketStatus(st)
			switch info.Status {
			case topics.TicketStatusNew, topics.TicketStatusAssigned, topics.TicketStatusPending,
				topics.TicketStatusResolved, topics.TicketStatusClosed:
			default:
				err = fmt.Errorf("%w: status %q is not one of new, assigned, pending, resolved, closed", ErrInvalid, st)
			}
			written["Status"] = info.Status
		case "thread_id":
			var n int64
			n, err = integer(k, v)
			info.ThreadID = topics.ThreadID(n)
			written["ThreadID"] = info.ThreadID
		case "agent_id":
			var n int64
			n, err = integer(k, v)
			info.AgentID = topics.OperatorID(n)
			written["AgentID"] = info.AgentID
		default:
			err = applyClassField(t, k, v, written)
		}
		if err != nil {
			return nil, err
		}
	}
	info.Updated = now
	return written, nil
}

func applyClassField(t topics.Ticket, k string, v any, written map[string]any) error {
	switch t := t.(type) {
	case *topics.UserRequest:
		if k == "service" {
			var err error
			t.Service, err = str(k, v)
			written["Service"] = t.Service
			return err
		}
	case *topics.Incident:
		if k == "impact" || k == "urgency" {
			n, err := integer(k, v)
			if err == nil && (n < 1 || n > 5) {
				err = fmt.Errorf("%w: %s must be from 1 to 5", ErrInvalid, k)
			}
			if k == "impact" {
				t.Impact = topics.Priority(n)
				written["Impact"] = t.Impact
			} else {
				t.Urgency = topics.Priority(n)
				written["Urgency"] = t.Urgency
			}
			return err
		}
	}
	return fmt.Errorf("%w: a %s has no field %q that can be written", ErrInvalid, t.Class(), k)
}

func str(k string, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%w: %s must be a string", ErrInvalid, k)
	}
	return s, CheckText(k, s, MaxTextLen)
}

func integer(k string, v any) (int64, error) {
	switch v := v.(type) {
	case int:
		return int64(v), nil
	case int64:
		return v, nil
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return int64(v), nil
		}
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("%w: %s must be an integer", ErrInvalid, k)
}

// TicketRecord returns a ticket's record: its JSON form in the HTTP API.
func TicketRecord(t topics.Ticket) map[string]any {
	info := t.Ticket()
	rec := map[string]any{
		"id": info.ID, "class": t.Class(), "ref": info.Ref, "title": info.Title,
		"description": info.Description, "status": string(info.Status), "thread_id": int64(info.ThreadID),
		"caller": string(info.Caller), "agent_id": int64(info.AgentID), "created": info.Created, "updated": info.Updated,
	}
	switch t := t.(type) {
	case *topics.UserRequest:
		rec["service"] = t.Service
	case *topics.Incident:
		rec["impact"], rec["urgency"] = int(t.Impact), int(t.Urgency)
	}
	return rec
}

// CreateDocument stores a document through the [topics.DataCreate] hook
// on [topics.TableDocuments]; then [topics.ObjectCreated] fires with the
// document as its source. rec needs "name" and "file_name"; "data" is the
// file's content in standard base64; it may have "description" and
// "mime_type". It returns the record as the after handlers left it.
func (s *Service) CreateDocument(ctx context.Context, rec map[string]any) (map[string]any, error) {
	if _, err := s.requireOperator(ctx); err != nil {
		return nil, err
	}
	var created *topics.Document
	res, err := topics.DataCreate.Run(ctx, s.bus, &topics.DataRequest{Table: topics.TableDocuments, Record: rec},
		func(_ context.Context, req *topics.DataRequest) (*topics.DataResult, error) {
			d, err := newDocument(req.Record, s.now(), s.limits)
			if err != nil {
				return nil, err
			}
			stored, err := s.store.AddDocument(d)
			if err != nil {
				return nil, err
			}
			created = &stored
			return &topics.DataResult{Records: []map[string]any{DocumentRecord(stored)}}, nil
		})
	if err != nil {
		return nil, s.hookError(ctx, err)
	}
	if created != nil {
		s.reported(ctx, topics.ObjectCreated.PublishFrom(ctx, s.bus, created, &topics.ObjectEvent{Object: created}))
	}
	return firstRecord(res)
}

func newDocument(rec map[string]any, now time.Time, l Limits) (topics.Document, error) {
	d := topics.Document{Created: now, File: topics.File{MIMEType: "application/octet-stream"}}
	for k, v := range rec {
		var err error
		switch k {
		case "name":
			d.Name, err = str(k, v)
		case "description":
			d.Description, err = str(k, v)
		case "file_name":
			d.File.Name, err = str(k, v)
		case "mime_type":
			d.File.MIMEType, err = str(k, v)
		case "data":
			var b64 string
			if b64, err = str(k, v); err == nil {
				if n := base64.StdEncoding.DecodedLen(len(b64)); n > l.MaxDocumentBytes+2 {
					return d, fmt.Errorf("%w: data holds more than %d bytes", ErrInvalid, l.MaxDocumentBytes)
				}
				d.File.Data, err = base64.StdEncoding.DecodeString(b64)
				if err != nil {
					err = fmt.Errorf("%w: data must be standard base64: %v", ErrInvalid, err)
				} else if len(d.File.Data) > l.MaxDocumentBytes {
					err = fmt.Errorf("%w: data holds more than %d bytes", ErrInvalid, l.MaxDocumentBytes)
				}
			}
		default:
			err = fmt.Errorf("%w: a document has no field %q", ErrInvalid, k)
		}
		if err != nil {
			return d, err
		}
	}
	if d.Name == "" || d.File.Name == "" {
		return d, fmt.Errorf("%w: name and file_name are required", ErrInvalid)
	}
	if err := errors.Join(CheckName("name", d.Name), CheckName("file_name", d.File.Name)); err != nil {
		return d, err
	}
	mt, params, err := mime.ParseMediaType(d.File.MIMEType)
	if err != nil || len(params) > 1 || (len(params) == 1 && params["charset"] == "") {
		return d, fmt.Errorf("%w: mime_type %q is not a media type such as text/plain; charset=utf-8", ErrInvalid, d.File.MIMEType)
	}
	d.File.MIMEType = mime.FormatMediaType(mt, params)
	return d, nil
}

// DocumentRecord returns a document's record, without its content: its
// JSON form in the HTTP API.
func DocumentRecord(d topics.Document) map[string]any {
	return map[string]any{
		"id": d.ID, "name": d.Name, "description": d.Description, "file_name": d.File.Name,
		"mime_type": d.File.MIMEType, "size": len(d.File.Data), "created": d.Created,
	}
}

// Document returns the record of document id, for an operator.
func (s *Service) Document(ctx context.Context, id int64) (map[string]any, error) {
	if _, err := s.requireOperator(ctx); err != nil {
		return nil, err
	}
	d, ok := s.store.Document(id)
	if !ok {
		return nil, fmt.Errorf("document %d: %w", id, ErrNotFound)
	}
	return DocumentRecord(d), nil
}

// DownloadDocument returns the file of document id, to be sent with the
// disposition given, and [topics.ObjectDocumentDownloaded] fires with the
// document as its source.
func (s *Service) DownloadDocument(ctx context.Context, id int64, disp topics.Disposition) (topics.File, error) {
	if _, err := s.requireOperator(ctx); err != nil {
		return topics.File{}, err
	}
	d, ok := s.store.Document(id)
	if !ok {
		return topics.File{}, fmt.Errorf("document %d: %w", id, ErrNotFound)
	}
	switch disp {
	case "":
		disp = topics.DispositionAttachment
	case topics.DispositionAttachment, topics.DispositionInline:
	default:
		return topics.File{}, fmt.Errorf("%w: disposition must be attachment or inline", ErrInvalid)
	}
	file := d.File
	s.reported(ctx, topics.ObjectDocumentDownloaded.PublishFrom(ctx, s.bus, &d, &topics.DocumentDownload{
		Object: &d, File: &file, Attribute: "File", Disposition: disp, DebugInfo: d.File.Name,
	}))
	return d.File, nil
}
