package bus

import (
	"cmp"
	"fmt"
	"log/slog"
	"reflect"
	"runtime"
	"slices"
	"strings"
)

// PublisherInfo says who publishes a topic: a module, and where it declared
// so.
type PublisherInfo struct {
	// Module is the publishing module, or the Go package that declared it.
	Module string `json:"module"`
	// Source is where the declaration was made.
	Source Source `json:"source"`
	// Remote is set for a publisher outside the process, whose events
	// arrive through the source it names (see [PublishesRemote]).
	Remote string `json:"remote,omitempty"`
}

type publisherDecl struct {
	topic AnyTopic
	info  PublisherInfo
}

// WithPublisher declares that module publishes topic t. The bus then knows
// the topic even without listeners, enforces its [Requirement], lists the
// publisher in its [Catalog], and reports the topic at [New] if nobody
// listens to it. Once a bus is told of any publisher, it also reports the
// topics that have listeners but no declared publisher. Under fx,
// [Publishes] declares publishers for you.
//
// The report goes through [WithLogger]'s logger at level Debug, or, with
// [WithStrictWiring], fails New. (A topic that must be heard says so with
// a [Requirement]: New fails without a listener whatever the report.)
func WithPublisher(t AnyTopic, module string) Option {
	d := publisherDecl{topic: t, info: PublisherInfo{Module: module}}
	if _, file, line, ok := runtime.Caller(1); ok {
		d.info.Source = Source{File: file, Line: line}
	}
	return withPublishers(d)
}

func withPublishers(ds ...publisherDecl) Option {
	return optionFunc(func(c *config) { c.publishers = append(c.publishers, ds...) })
}

// WithLogger gives the bus a logger for what it reports at [New]: topics
// published without a listener, or listened to without a publisher (see
// [WithPublisher]). Without it, the bus logs nothing.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) { c.logger = l })
}

// WithStrictWiring makes [New] fail, instead of logging, on a topic
// published without a listener, or listened to without a publisher (see
// [WithPublisher]).
func WithStrictWiring() Option {
	return optionFunc(func(c *config) { c.strict = true })
}

// checkPublishers reports the topics published without a listener and, once
// any publisher is declared, those listened to without a publisher. It
// returns the reports as errors under strict wiring, and logs them
// otherwise.
func checkPublishers(cfg *config, topics []topicCore, lists map[topicCore][]*listener, pubs map[topicCore][]PublisherInfo) []error {
	reports := wiringReport(topics, lists, pubs)
	if cfg.strict {
		return reports
	}
	logWiring(cfg.logger, reports)
	return nil
}

// logWiring logs reports to log, if any, at Debug, one line each: notes,
// not warnings. An optional topic nobody hears is often an extension point,
// and one nobody declared publishing is often heard by a broad listener,
// such as an auditor; a topic that must be heard says so with
// its Requirement, and fails New.
func logWiring(log *slog.Logger, reports []error) {
	if log == nil {
		return
	}
	for _, r := range reports {
		log.Debug(r.Error())
	}
}

// wiringReport returns the topics published without a listener (runtime
// subscriptions count) and, once any publisher is declared, those listened
// to without a publisher, in the order the topics were declared.
func wiringReport(topics []topicCore, lists map[topicCore][]*listener, pubs map[topicCore][]PublisherInfo) []error {
	var reports []error
	topics = slices.SortedFunc(slices.Values(topics), func(a, b topicCore) int { return cmp.Compare(a.state().seq, b.state().seq) })
	for _, t := range topics {
		switch {
		case len(pubs[t]) > 0 && len(lists[t]) == 0:
			reports = append(reports, &WiringError{Topic: t.Name(),
				Err: fmt.Errorf("%w (published by %s)", errNoListener, publisherList(pubs[t]))})
		case len(pubs) > 0 && len(pubs[t]) == 0 && len(lists[t]) > 0:
			reports = append(reports, &WiringError{Topic: t.Name(),
				Err: fmt.Errorf("%w (listeners: %s)", errNoPublisher, listenerList(lists[t]))})
		}
	}
	return reports
}

func publisherList(ps []PublisherInfo) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.Module + " (" + p.Source.String() + ")"
	}
	return strings.Join(s, ", ")
}

// Catalog describes what a bus dispatches: every topic it knows, and per
// topic its listeners in dispatch order and its publishers. It is a
// snapshot, in a stable order (topics by name), so that two catalogues can
// be diffed.
type Catalog struct {
	Topics []TopicInfo `json:"topics"`
}

// TopicInfo describes a topic: one of a [Catalog], or one alone, without
// listeners and publishers (see [Topic.Info]).
type TopicInfo struct {
	// Name is the topic's name.
	Name string `json:"name"`
	// Description says when the topic fires.
	Description string `json:"description,omitempty"`
	// Payload is the payload's Go type, such as "topics.MessagePosting".
	Payload string `json:"payload"`
	// Fields are the payload's exported fields, when it is a struct.
	Fields []FieldInfo `json:"fields,omitempty"`
	// ErrorPolicy is what a publish does when a handler fails.
	ErrorPolicy ErrorPolicy `json:"error_policy"`
	// Requirement is how many listeners the topic needs.
	Requirement Requirement `json:"requirement"`
	// Listeners are the topic's listeners in dispatch order, runtime
	// subscriptions included.
	Listeners []ListenerInfo `json:"listeners"`
	// Subscriptions counts the runtime subscriptions among Listeners.
	Subscriptions int `json:"subscriptions"`
	// Publishers are the declared publishers of the topic, by module, then
	// source.
	Publishers []PublisherInfo `json:"publishers,omitempty"`
}

// FieldInfo describes one field of a payload.
type FieldInfo struct {
	// Name is the field's name.
	Name string `json:"name"`
	// Type is the field's Go type.
	Type string `json:"type"`
	// Doc is the field's documentation, when known: reflection cannot read
	// comments (see [github.com/fxbus/fxbus/bus/busdoc.AddFieldDocs]).
	Doc string `json:"doc,omitempty"`
}

// MarshalText returns the policy's name.
func (p ErrorPolicy) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// MarshalText returns the requirement's name.
func (r Requirement) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads a policy's name, as MarshalText writes it.
func (p *ErrorPolicy) UnmarshalText(b []byte) error {
	for _, q := range []ErrorPolicy{StopOnError, RunAll} {
		if q.String() == string(b) {
			*p = q
			return nil
		}
	}
	return fmt.Errorf("fxbus: unknown error policy %q", b)
}

// UnmarshalText reads a requirement's name, as MarshalText writes it.
func (r *Requirement) UnmarshalText(b []byte) error {
	for _, q := range []Requirement{Optional, AtLeastOne, ExactlyOne} {
		if q.String() == string(b) {
			*r = q
			return nil
		}
	}
	return fmt.Errorf("fxbus: unknown requirement %q", b)
}

// Catalog returns what the bus dispatches now. On a closed bus, it is empty.
func (b *Bus) Catalog() Catalog {
	ix := b.idx.Load()
	if ix == nil && b.waiting.Load() { // see deferTelemetry
		b.mu.Lock()
		ix = b.index()
		b.mu.Unlock()
	}
	if ix == nil {
		return Catalog{Topics: []TopicInfo{}}
	}
	c := Catalog{Topics: make([]TopicInfo, 0, len(ix.slots))}
	for _, s := range ix.slots {
		t, ls := s.topic(), s.listeners()
		ti := t.Info()
		ti.Listeners = make([]ListenerInfo, 0, len(ls))
		ti.Publishers = slices.Clone(b.publishers[t])
		for _, l := range ls {
			ti.Listeners = append(ti.Listeners, l.info)
			if l.info.Subscribed {
				ti.Subscriptions++
			}
		}
		c.Topics = append(c.Topics, ti)
	}
	slices.SortFunc(c.Topics, func(a, b TopicInfo) int { return cmp.Compare(a.Name, b.Name) })
	return c
}

// fieldsOf lists the exported fields of a struct type.
func fieldsOf(t reflect.Type) []FieldInfo {
	if t.Kind() != reflect.Struct {
		return nil
	}
	var fs []FieldInfo
	for f := range t.Fields() {
		if f.IsExported() {
			fs = append(fs, FieldInfo{Name: f.Name, Type: f.Type.String()})
		}
	}
	return fs
}
