package desk

import (
	"errors"
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// ErrFull is a request that would take the store beyond its [Limits]
// (507).
var ErrFull = errors.New("store full")

// Limits bound what the desk holds and reads, so that its memory stays
// bounded whatever its clients send. The zero value of a field is its
// default (see [DefaultLimits]).
type Limits struct {
	// MaxBodyBytes bounds a request's body.
	MaxBodyBytes int64
	// MaxMessageBytes bounds a chat message's body, and a message
	// published to a channel.
	MaxMessageBytes int
	// MaxDocumentBytes bounds a document's content.
	MaxDocumentBytes int
	// MaxStoreBytes bounds the sum of the content the store keeps: the
	// bodies of messages, the content of documents, the messages
	// published to channels. Beyond it, what would add more is refused
	// with [ErrFull].
	MaxStoreBytes int64
	// MaxRecords bounds the records of each kind the store keeps
	// (visitors, threads, operators, sessions, bans, tickets, documents,
	// accounts): beyond it, a new one is refused with [ErrFull].
	MaxRecords int
	// MaxMessagesPerThread bounds the messages of one thread.
	MaxMessagesPerThread int
	// MaxPage bounds a page of a listing; DefaultPage is the size of a
	// page when the request does not say.
	MaxPage, DefaultPage int
}

// DefaultLimits are the limits of a zero [Limits]. With them, the store
// holds at most 64 MiB of content, and a page of messages is at most 100
// messages of 4 KiB.
var DefaultLimits = Limits{
	MaxBodyBytes:         2 << 20, // a document of 1 MiB, in base64, and its fields
	MaxMessageBytes:      4 << 10,
	MaxDocumentBytes:     1 << 20,
	MaxStoreBytes:        64 << 20,
	MaxRecords:           100_000,
	MaxMessagesPerThread: 10_000,
	MaxPage:              100,
	DefaultPage:          50,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	or := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = d.MaxBodyBytes
	}
	if l.MaxStoreBytes <= 0 {
		l.MaxStoreBytes = d.MaxStoreBytes
	}
	or(&l.MaxMessageBytes, d.MaxMessageBytes)
	or(&l.MaxDocumentBytes, d.MaxDocumentBytes)
	or(&l.MaxRecords, d.MaxRecords)
	or(&l.MaxMessagesPerThread, d.MaxMessagesPerThread)
	or(&l.MaxPage, d.MaxPage)
	or(&l.DefaultPage, min(d.DefaultPage, l.MaxPage))
	l.DefaultPage = min(l.DefaultPage, l.MaxPage)
	return l
}

// MaxNameLen bounds an identifier or a name (a user id, a login, a
// channel, a file name, a locale), in bytes; MaxTextLen a short text (a
// title, a description, a reason, a user agent).
const (
	MaxNameLen = 256
	MaxTextLen = 4 << 10
)

// CheckName returns an [ErrInvalid] error naming field unless s is an
// acceptable identifier or name: valid UTF-8, at most [MaxNameLen] bytes,
// without control characters (NUL, newlines) or bidirectional formatting
// characters (U+202E and its kin), which could make a name display as
// another. The empty string passes: whether a field is required is the
// caller's business.
func CheckName(field, s string) error {
	return check(field, s, MaxNameLen, false)
}

// CheckText is [CheckName] for a text of at most max bytes, which may hold
// newlines and tabs.
func CheckText(field, s string, max int) error {
	return check(field, s, max, true)
}

func check(field, s string, max int, text bool) error {
	if len(s) > max {
		return fmt.Errorf("%w: %s is longer than %d bytes", ErrInvalid, field, max)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalid, field)
	}
	for i, r := range s {
		if text && (r == '\n' || r == '\t' || r == '\r') {
			continue
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return fmt.Errorf("%w: %s has the character %U at byte %d", ErrInvalid, field, r, i)
		}
	}
	return nil
}

// Page asks for a page of a listing: the records after the cursor After
// (from the previous page's next cursor; "" for the first page), at most
// Limit of them (the default page size when zero).
type Page struct {
	// After is the cursor of the previous page; "" for the first.
	After string
	// Limit is the largest number of records wanted; zero for the
	// default.
	Limit int
}

// check returns the id after which the page starts, and its size, within
// l; an [ErrInvalid] error for a cursor that is not one or a limit out of
// bounds.
func (p Page) check(l Limits) (after int64, limit int, err error) {
	if p.After != "" {
		after, err = strconv.ParseInt(p.After, 10, 64)
		if err != nil || after < 0 {
			return 0, 0, fmt.Errorf("%w: cursor %q is not one this desk gave", ErrInvalid, p.After)
		}
	}
	switch {
	case p.Limit == 0:
		limit = l.DefaultPage
	case p.Limit < 0 || p.Limit > l.MaxPage:
		return 0, 0, fmt.Errorf("%w: limit must be from 1 to %d", ErrInvalid, l.MaxPage)
	default:
		limit = p.Limit
	}
	return after, limit, nil
}

// cursor is the cursor of the page after the record id; "" when there is
// no next page.
func cursor(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}
