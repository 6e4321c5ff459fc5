package audit

import (
	"context"
	"sync"
	"time"

	"go.uber.org/fx"

	"github.com/fxbus/fxbus/topics"
)

// DefaultCapacity is how many entries a [Log] keeps when [Config.Capacity]
// is not set.
const DefaultCapacity = 1024

// Config configures the audit log. The container may supply one; without
// it, the defaults apply.
type Config struct {
	// Capacity is how many entries the log keeps, newest last; older ones
	// are dropped. Zero or less means [DefaultCapacity].
	Capacity int
}

// Entry is one record of the audit trail.
type Entry struct {
	// Time is when the entry was written.
	Time time.Time
	// Topic is the name of the topic heard, such as "ban.created".
	Topic string
	// Summary says what happened, in one line.
	Summary string
	// By is the user id of the caller in the publish's context (see
	// [topics.WithCaller]); "" when the context carries none.
	By string
}

// Log is a bounded, in-memory audit trail. It is safe for use by any
// number of goroutines.
type Log struct {
	now func() time.Time

	mu      sync.Mutex
	ring    []Entry // a circular buffer of at most cap(ring) entries
	next    int     // where the next entry goes, once the ring is full
	dropped int     // entries overwritten
}

// Params are the dependencies of [NewLog].
type Params struct {
	fx.In

	// Config is optional.
	Config Config `optional:"true"`
}

// NewLog returns an empty log with the capacity that p's Config asks for.
func NewLog(p Params) *Log {
	n := p.Config.Capacity
	if n <= 0 {
		n = DefaultCapacity
	}
	return &Log{now: time.Now, ring: make([]Entry, 0, n)}
}

// Add appends an entry for topic with summary, stamped with the current
// time and the caller that ctx carries; when the log is full, the oldest
// entry is dropped.
func (l *Log) Add(ctx context.Context, topic, summary string) {
	e := Entry{Time: l.now(), Topic: topic, Summary: summary}
	if c, ok := topics.CallerFrom(ctx); ok {
		e.By = c.UserID
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ring) < cap(l.ring) {
		l.ring = append(l.ring, e)
		return
	}
	l.ring[l.next] = e
	l.next = (l.next + 1) % len(l.ring)
	l.dropped++
}

// Entries returns the entries kept, oldest first, in a new slice.
func (l *Log) Entries() []Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Entry, 0, len(l.ring))
	out = append(out, l.ring[l.next:]...)
	return append(out, l.ring[:l.next]...)
}

// Len returns how many entries the log keeps now.
func (l *Log) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.ring)
}

// Dropped returns how many entries have been dropped to make room for
// newer ones.
func (l *Log) Dropped() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dropped
}
