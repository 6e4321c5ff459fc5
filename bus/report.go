package bus

import (
	"errors"
	"log/slog"
	"sync"
)

// unheardReport logs, once per topic, the first publish of a topic declared
// published that finds no listener: at that moment, and not before, it is
// true that nobody listens, whatever subscribes at start (a plugin, say).
type unheardReport struct {
	log    *slog.Logger
	topics map[int]*unheardTopic // by topic id; read-only once set
}

type unheardTopic struct {
	once sync.Once
	msg  string
}

// published notes a publish of the topic id that found no listener.
func (r *unheardReport) published(id int) {
	if u := r.topics[id]; u != nil {
		u.once.Do(func() { r.log.Debug(u.msg) })
	}
}

// reportWiring reports the wiring of b, just installed, to log, at Debug,
// one line per finding: now, the topics listened to that nobody declared
// publishing; and each topic declared published without a listener at its
// first publish that finds none.
func (b *Bus) reportWiring(log *slog.Logger) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.state.Load()
	if st == nil || st.closed {
		return
	}
	r := &unheardReport{log: log, topics: map[int]*unheardTopic{}}
	for _, f := range wiringReport(st, b.publishers) {
		var we *WiringError
		if errors.Is(f, ErrNoListener) && errors.As(f, &we) {
			for id, t := range st.topics {
				if t.Name() == we.Topic {
					r.topics[id] = &unheardTopic{msg: f.Error()}
				}
			}
			continue
		}
		log.Debug(f.Error())
	}
	if len(r.topics) == 0 {
		return
	}
	next := *st
	next.unheard = r
	b.state.Store(&next)
}
