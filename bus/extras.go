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
