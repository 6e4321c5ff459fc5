package bus

import (
	"cmp"
	"fmt"
	"slices"
)

// checkTopicNames returns an error for each name that two distinct topics
// of topics share, naming where each was declared.
func checkTopicNames(topics []topicCore) []error {
	byName := make(map[string][]topicCore, len(topics))
	for _, t := range topics {
		byName[t.Name()] = append(byName[t.Name()], t)
	}
	var errs []error
	for name, ts := range byName {
		if len(ts) < 2 {
			continue
		}
		errs = append(errs, duplicateName(name, ts))
	}
	slices.SortFunc(errs, func(a, b error) int { return cmp.Compare(a.Error(), b.Error()) })
	return errs
}

// checkNewTopicName returns an error when t, about to be known to a bus
// whose index is ix, has the name of another topic of ix.
func checkNewTopicName(ix *index, t topicCore) error {
	if ix == nil {
		return nil
	}
	if _, known := ix.ids[t]; known {
		return nil
	}
	for _, s := range ix.slots {
		if u := s.topic(); u.Name() == t.Name() {
			return duplicateName(t.Name(), []topicCore{u, t})
		}
	}
	return nil
}

func duplicateName(name string, ts []topicCore) error {
	slices.SortFunc(ts, func(a, b topicCore) int { return cmp.Compare(a.state().seq, b.state().seq) })
	sites := ""
	for i, t := range ts {
		switch {
		case i == 0:
		case i == len(ts)-1:
			sites += " and "
		default:
			sites += ", "
		}
		sites += fmt.Sprintf("%s (payload %s)", t.state().decl, t.state().payload)
	}
	return &WiringError{Topic: name, Err: fmt.Errorf("%w: declared at %s", errDuplicateName, sites)}
}
