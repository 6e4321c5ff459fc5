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
	topics map[topicCore]*unheardTopic // read-only once set
}

type unheardTopic struct {
	once sync.Once
	msg  string
}

// published notes a publish of topic t that found no listener.
func (r *unheardReport) published(t topicCore) {
	if u := r.topics[t]; u != nil {
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
	if b.closed.Load() {
		return
	}
	var topics []topicCore
	lists := map[topicCore][]*listener{}
	if ix := b.index(); ix != nil {
		for _, s := range ix.slots {
			t := s.topic()
			topics = append(topics, t)
			lists[t] = s.listeners()
		}
	}
	r := &unheardReport{log: log, topics: map[topicCore]*unheardTopic{}}
	for _, f := range wiringReport(topics, lists, b.publishers) {
		var we *WiringError
		if errors.Is(f, errNoListener) && errors.As(f, &we) {
			for _, t := range topics {
				if t.Name() == we.Topic {
					r.topics[t] = &unheardTopic{msg: f.Error()}
				}
			}
			continue
		}
		log.Debug(f.Error())
	}
	if len(r.topics) > 0 {
		b.unheard.Store(r)
	}
}
