package bus

import "context"

// TopicOf returns the topic whose publish ctx belongs to: in a handler,
// given the handler's context (or one derived from it), the topic it is
// handling, so that a handler shared by several topics, or a bus-wide one,
// knows where it is. It returns false outside a publish, and on a bus
// whose depth limit is off ([WithMaxDepth] of 0 or less), which does not
// mark the contexts it hands to handlers.
func TopicOf(ctx context.Context) (AnyTopic, bool) {
	f := innermost(ctx)
	if f == nil {
		return nil, false
	}
	return f.topic, true
}

// DepthOf returns how deeply the publish of ctx is nested: 1 in a handler
// of a publish made outside any handler, 2 in a handler of a publish made
// by such a handler, and so on; 0 outside a publish, or on a bus whose
// depth limit is off (see [TopicOf]).
func DepthOf(ctx context.Context) int {
	f := innermost(ctx)
	if f == nil {
		return 0
	}
	return f.depth
}

// innermost returns the frame of ctx's innermost publish still running.
func innermost(ctx context.Context) *frame {
	if ctx == nil {
		return nil
	}
	f, _ := ctx.Value(frameKey{}).(*frame)
	for f != nil && f.ended.Load() {
		f = f.parent
	}
	return f
}
