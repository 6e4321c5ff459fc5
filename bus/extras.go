package bus

import "reflect"

// extras holds the optional features of a listener. Plain listeners have
// none, so they carry a nil pointer and the dispatch tables built from them
// are exactly what they were without these features.
type extras struct {
	sources []reflect.Type // FromSource: the source types the listener hears
	rules   []*RuleSet     // WithRules: rule sets whose verdict the listener obeys
	plugin  *Plugin        // SubscribeAs: the plugin the listener was subscribed through
}

// ext returns the listener's extras, making them on first use.
func (l *listener) ext() *extras {
	if l.x == nil {
		l.x = &extras{}
	}
	return l.x
}

// finish completes a dispatch table, with the payload type known, from
// what listener options recorded untyped: each rule set of a listener
// becomes one more typed filter of its handler, run with the [When] filters
// before the handler's span starts; and the table gets a source index when
// a listener has a source type. A table of plain listeners is left as is.
func (tb *table[T]) finish() {
	for i := range tb.handlers {
		h := &tb.handlers[i]
		if h.l.x == nil {
			continue
		}
		for _, rs := range h.l.x.rules {
			h.filters = append(h.filters, ruleFilter(rs, tb.topic))
		}
	}
	tb.sources = newSourceIndex(tb.handlers)
}
