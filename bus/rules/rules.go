package rules

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/fxbus/fxbus/bus"
)

var (
	// ErrUnknownRule is the cause of an [Error] for a rule id that the set
	// does not hold.
	ErrUnknownRule = errors.New("no rule with this id")

	// ErrDuplicateRule is the cause of an [Error] for two rules with the
	// same id in one change.
	ErrDuplicateRule = errors.New("rule id given twice")
)

// Error is a mistake in a change to a [Set]: it names the set, the rule and
// its topic. The set is left as it was.
type Error struct {
	Set   string // the set's name
	Rule  string // the rule's id, quoted, or "#n" for the n-th rule of the change without one
	Topic string // the rule's topic, when it has one
	Err   error  // the cause
}

// Error names the set, the rule and its topic, then the cause.
func (e *Error) Error() string {
	if e.Topic == "" {
		return fmt.Sprintf("fxbus: rule set %q: rule %s: %v", e.Set, e.Rule, e.Err)
	}
	return fmt.Sprintf("fxbus: rule set %q: rule %s on topic %q: %v", e.Set, e.Rule, e.Topic, e.Err)
}

// Unwrap returns the cause, such as [ErrUnknownRule].
func (e *Error) Unwrap() error { return e.Err }

// Policy says what a [Set] does with the events its rules match.
type Policy uint8

const (
	// Include passes only the events that match a rule. An Include set
	// without rules blocks every event. It is the default.
	Include Policy = iota
	// Exclude passes only the events that match no rule.
	Exclude
)

// String returns the policy's name.
func (p Policy) String() string {
	switch p {
	case Include:
		return "include"
	case Exclude:
		return "exclude"
	}
	return fmt.Sprintf("Policy(%d)", uint8(p))
}

// Rule matches the events of one topic, optionally only those whose
// payload satisfies one of a list of predicates. Make one with [Match]; the
// zero Rule is invalid.
type Rule struct {
	id       string
	topic    bus.AnyTopic
	appendTo func(dst any) any // appends the typed rule to a []typedRule[T] held in dst
	err      error
}

// typedRule is a Rule with its payload type known: it matches when anyOf
// is empty or one of its predicates holds.
type typedRule[T any] struct {
	anyOf []func(*T) bool
}

func (r *typedRule[T]) matches(e *T) bool {
	if len(r.anyOf) == 0 {
		return true
	}
	for _, p := range r.anyOf {
		if p(e) {
			return true
		}
	}
	return false
}

// Match returns a rule, named id, that matches the events of topic t whose
// payload satisfies any of anyOf; with no predicate, it matches every event
// of t. Combine the conditions of one alternative with [AllOf]:
//
//	rules.Match("vip", Posted,
//		rules.AllOf(isVIP, inLobby), // (VIP and in the lobby)
//		isOperator,                  // or an operator
//	)
//
// An empty id makes an anonymous rule, which [Set.Put] always adds and
// [Set.Remove] cannot name. Mistakes, such as a nil topic or predicate, are
// reported by the [Set] method given the rule.
func Match[T any](id string, t *bus.Topic[T], anyOf ...func(*T) bool) Rule {
	r := Rule{id: id}
	if t == nil {
		r.err = errors.New("nil topic")
		return r
	}
	r.topic = t
	if hasNil(anyOf) {
		r.err = errors.New("nil predicate")
		return r
	}
	tr := typedRule[T]{anyOf: slices.Clone(anyOf)}
	r.appendTo = func(dst any) any {
		rules, _ := dst.([]typedRule[T])
		return append(rules, tr)
	}
	return r
}

// AllOf returns a predicate that holds when every one of preds holds, or
// always with none: one alternative of a [Match]. It returns nil if one of
// preds is nil, which Match reports.
func AllOf[T any](preds ...func(*T) bool) func(*T) bool {
	if hasNil(preds) {
		return nil
	}
	preds = slices.Clone(preds)
	return func(e *T) bool {
		for _, p := range preds {
			if !p(e) {
				return false
			}
		}
		return true
	}
}

func hasNil[T any](preds []func(*T) bool) bool {
	return slices.ContainsFunc(preds, func(p func(*T) bool) bool { return p == nil })
}

// ID returns the rule's id, or "" for an anonymous rule.
func (r Rule) ID() string { return r.id }

// Topic returns the topic the rule matches, or nil for the zero Rule.
func (r Rule) Topic() bus.AnyTopic { return r.topic }

// Set is a filter shared by listeners, of any topics, that obey it through
// [When]: an include or exclude [Policy] and rules, each matching one
// topic, that are added, replaced and removed by id while the bus runs. A
// listener that obeys a set hears an event when the set passes it.
//
// Changes are copy on write: a publish reads the rules without locking,
// and sees either the rules before a change or after it, for every topic
// at once.
type Set struct {
	name string
	cur  atomic.Pointer[snapshot]

	mu     sync.Mutex           // serialises writers; guards what follows
	policy Policy               // the policy
	rules  []Rule               // in order of addition; a replaced rule keeps its place
	slotOf map[bus.AnyTopic]int // topic -> index into snapshot.views, for topics with a listener
	topics []bus.AnyTopic       // slot index -> topic
}

// snapshot is an immutable view of a set: per topic with a listener, the
// typed rules for it.
type snapshot struct {
	exclude bool
	views   []any // by slot: []typedRule[T] for the slot's topic, or nil
}

// New returns a set named name, for errors and docs, with policy p and
// rules. It fails with an [*Error] for an invalid rule, or two with the same
// id.
func New(name string, p Policy, rules ...Rule) (*Set, error) {
	rs := &Set{name: name, slotOf: map[bus.AnyTopic]int{}}
	rs.cur.Store(&snapshot{})
	if err := rs.Reset(p, rules...); err != nil {
		return nil, err
	}
	return rs, nil
}

// When returns the option that makes a listener of topic t hear only the
// events that rs passes: bus.On(t, h, rules.When(rs, t)), or the same in
// Subscribe or Listen. t must be the listener's own topic: the compiler
// checks its payload type, not which topic of that type it is. Rules on other topics do not concern the listener,
// so under [Include] a listener whose topic no rule names hears nothing.
// The check allocates nothing and runs before the handler's span starts.
// A nil rs makes a wiring error, as a nil When predicate does, and so does
// the option on a listener of a topic other than t.
func When[T any](rs *Set, t *bus.Topic[T]) bus.ListenerOption {
	if rs == nil || t == nil {
		return t.When(nil)
	}
	i := rs.slot(t)
	return t.When(func(e *T) bool {
		s := rs.cur.Load()
		rules, _ := s.views[i].([]typedRule[T])
		for j := range rules {
			if rules[j].matches(e) {
				return !s.exclude
			}
		}
		return s.exclude
	})
}

// Name returns the set's name.
func (rs *Set) Name() string { return rs.name }

// Policy returns the set's policy.
func (rs *Set) Policy() Policy {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.policy
}

// Rules returns the set's rules, in order of addition.
func (rs *Set) Rules() []Rule {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return slices.Clone(rs.rules)
}

// Put adds rules, each replacing, in place, the rule with its id if there
// is one; anonymous rules are added. It applies all of them at once, from
// the next publish, or none of them with an [*Error].
func (rs *Set) Put(rules ...Rule) error {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if err := rs.check(rules); err != nil {
		return err
	}
	next := slices.Clone(rs.rules)
	for _, r := range rules {
		i := -1
		if r.id != "" {
			i = slices.IndexFunc(next, func(o Rule) bool { return o.id == r.id })
		}
		if i >= 0 {
			next[i] = r
		} else {
			next = append(next, r)
		}
	}
	rs.rules = next
	rs.publish()
	return nil
}

// Remove removes the rules with the given ids, all at once, from the next
// publish. It fails with an [*Error] wrapping [ErrUnknownRule], and removes
// nothing, if one of ids is not in the set.
func (rs *Set) Remove(ids ...string) error {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for _, id := range ids {
		if id == "" || !slices.ContainsFunc(rs.rules, func(r Rule) bool { return r.id == id }) {
			return &Error{Set: rs.name, Rule: fmt.Sprintf("%q", id), Err: ErrUnknownRule}
		}
	}
	rs.rules = slices.DeleteFunc(slices.Clone(rs.rules), func(r Rule) bool { return slices.Contains(ids, r.id) })
	rs.publish()
	return nil
}

// Reset replaces the policy and every rule at once, from the next publish.
// Reset(Include) blocks every event.
func (rs *Set) Reset(p Policy, rules ...Rule) error {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if p > Exclude {
		return &Error{Set: rs.name, Rule: "-", Err: fmt.Errorf("unknown %v", p)}
	}
	if err := rs.check(rules); err != nil {
		return err
	}
	rs.policy, rs.rules = p, slices.Clone(rules)
	rs.publish()
	return nil
}

// check validates the rules of one change.
func (rs *Set) check(rules []Rule) error {
	for i, r := range rules {
		name := fmt.Sprintf("%q", r.id)
		if r.id == "" {
			name = fmt.Sprintf("#%d", i)
		}
		topic := ""
		if r.topic != nil {
			topic = r.topic.Name()
		}
		switch {
		case r.err != nil:
			return &Error{Set: rs.name, Rule: name, Topic: topic, Err: r.err}
		case r.appendTo == nil:
			return &Error{Set: rs.name, Rule: name, Err: errors.New("zero Rule; make rules with Match")}
		case r.id != "" && slices.ContainsFunc(rules[:i], func(o Rule) bool { return o.id == r.id }):
			return &Error{Set: rs.name, Rule: name, Topic: topic, Err: ErrDuplicateRule}
		}
	}
	return nil
}

// publish stores a new snapshot of the rules for every topic with a
// listener. It is called with rs.mu held.
func (rs *Set) publish() {
	s := &snapshot{exclude: rs.policy == Exclude, views: make([]any, len(rs.topics))}
	for i, t := range rs.topics {
		for _, r := range rs.rules {
			if r.topic == t {
				s.views[i] = r.appendTo(s.views[i])
			}
		}
	}
	rs.cur.Store(s)
}

// slot returns the index of topic t in the set's snapshots, adding the
// topic on first use.
func (rs *Set) slot(t bus.AnyTopic) int {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if i, ok := rs.slotOf[t]; ok {
		return i
	}
	i := len(rs.topics)
	rs.slotOf[t] = i
	rs.topics = append(rs.topics, t)
	rs.publish()
	return i
}
