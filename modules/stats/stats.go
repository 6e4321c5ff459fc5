package stats

import (
	"context"
	"sync"
	"time"

	"go.uber.org/fx"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/unit"
	"github.com/fxbus/fxbus/topics"
)

// MessageRank is the rank of the module's listener on
// [topics.ThreadMessagePosting]: after the listeners that may refuse the
// message. The listener is also [unit.AfterCommit]: when the desk posts a
// message within a unit of work, it counts the message only once the
// message is stored.
const MessageRank = 100

// Module provides the [*Stats] and keeps it up to date.
var Module = fx.Module("stats",
	fx.Provide(NewStats),
	bus.Listen(topics.CronRun, NewOnCronRun),
	bus.Listen(topics.ThreadCreated, NewOnThreadCreated),
	bus.Listen(topics.ThreadClosed, NewOnThreadClosed),
	bus.Listen(topics.ThreadMessagePosting, NewOnMessage, bus.Rank(MessageRank), unit.AfterCommit()),
)

// Period is the activity counted over a stretch of time.
type Period struct {
	// From is when the period started: the time of the cron run that
	// opened it, zero for the first period.
	From time.Time
	// To is when the period ended: the time of the cron run that closed
	// it, zero while it is open.
	To time.Time
	// Threads counts the threads created.
	Threads int
	// Closed counts the threads closed.
	Closed int
	// Messages counts the messages posted.
	Messages int
}

func (p *Period) add(q Period) {
	p.Threads += q.Threads
	p.Closed += q.Closed
	p.Messages += q.Messages
}

// Stats holds the counts. It is safe for use by any number of goroutines.
type Stats struct {
	mu    sync.Mutex
	runs  int
	cur   Period
	last  Period
	total Period // closed periods only
}

// NewStats returns empty counts.
func NewStats() *Stats { return &Stats{} }

// Runs returns how many cron runs have closed a period.
func (s *Stats) Runs() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runs
}

// Current returns the open period: what has been counted since the last
// cron run.
func (s *Stats) Current() Period {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// Last returns the period the last cron run closed, and whether there has
// been one.
func (s *Stats) Last() (Period, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last, s.runs > 0
}

// Total returns everything counted, in the closed periods and the open
// one: From is zero, To the time of the last cron run.
func (s *Stats) Total() Period {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.total
	t.add(s.cur)
	t.To = s.cur.From
	return t
}

func (s *Stats) count(f func(*Period)) {
	s.mu.Lock()
	f(&s.cur)
	s.mu.Unlock()
}

// NewOnCronRun returns the module's listener on [topics.CronRun]: it
// closes the current period at the tick's time and opens the next.
func NewOnCronRun(s *Stats) func(context.Context, *topics.CronTick) error {
	return func(_ context.Context, t *topics.CronTick) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.cur.To = t.Time
		s.last = s.cur
		s.total.add(s.cur)
		s.cur = Period{From: t.Time}
		s.runs++
		return nil
	}
}

// NewOnThreadCreated returns the module's listener on
// [topics.ThreadCreated]: it counts a thread.
func NewOnThreadCreated(s *Stats) func(context.Context, *topics.ThreadEvent) error {
	return func(context.Context, *topics.ThreadEvent) error {
		s.count(func(p *Period) { p.Threads++ })
		return nil
	}
}

// NewOnThreadClosed returns the module's listener on [topics.ThreadClosed]:
// it counts a closed thread.
func NewOnThreadClosed(s *Stats) func(context.Context, *topics.ThreadEvent) error {
	return func(context.Context, *topics.ThreadEvent) error {
		s.count(func(p *Period) { p.Closed++ })
		return nil
	}
}

// NewOnMessage returns the module's listener on
// [topics.ThreadMessagePosting], at [MessageRank]: it counts a message,
// after the commit of the publisher's unit of work, if any.
func NewOnMessage(s *Stats) func(context.Context, *topics.MessagePosting) error {
	return func(context.Context, *topics.MessagePosting) error {
		s.count(func(p *Period) { p.Messages++ })
		return nil
	}
}
