//go:build !race

package bus_test

// raceEnabled reports whether the race detector is on; it adds allocations,
// so allocation tests skip under it (as log/slog does).
const raceEnabled = false
