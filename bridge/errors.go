package bridge

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// ErrBackpressure is the cause of the error a publish of an exported topic
// returns when the bridge already has [Config.MaxPending] events waiting
// for the server's acknowledgement and no room frees up within
// [Config.PendingWait]: the event was handled locally but not exported.
// The caller decides: retry, fail the request, or accept the loss.
var ErrBackpressure = errors.New("too many exported events awaiting acknowledgement")

// ErrStopped is the cause of the error a publish of an exported topic
// returns once the bridge is stopping.
var ErrStopped = errors.New("bridge stopped")

// UnackedError reports the exported events that the server had not
// acknowledged when the app stopped and [Config.StopTimeout] ran out: they
// may not have reached the stream. The stop hook of [Module] logs it and
// returns it.
type UnackedError struct {
	// Topics counts the unacknowledged events per topic name.
	Topics map[string]int
}

// Total returns the number of unacknowledged events.
func (e *UnackedError) Total() int {
	n := 0
	for _, c := range e.Topics {
		n += c
	}
	return n
}

func (e *UnackedError) Error() string {
	parts := make([]string, 0, len(e.Topics))
	for _, t := range slices.Sorted(maps.Keys(e.Topics)) {
		parts = append(parts, fmt.Sprintf("%q: %d", t, e.Topics[t]))
	}
	return fmt.Sprintf("bridge: %d exported events not acknowledged at stop (%s)", e.Total(), strings.Join(parts, ", "))
}
