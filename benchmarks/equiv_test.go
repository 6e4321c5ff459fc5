package benchmarks

import "testing"

// TestTracedSpansMatch holds the hand-written instrumentation of
// BenchmarkTracing to the spans fxbus makes, in every mode and size.
func TestTracedSpansMatch(t *testing.T) {
	for _, mode := range tracingModes() {
		for _, impl := range tracedImpls {
			for _, n := range sizes {
				t.Run(mode.name+"/"+impl.name+"/"+sizeName("handlers", n), func(t *testing.T) {
					checkTraced(t, mode, impl, tracedListeners(n))
				})
			}
		}
	}
}
