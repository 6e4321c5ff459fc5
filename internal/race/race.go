//go:build race

// Package race reports whether the race detector is on, for the allocation
// tests of fxbus's packages: its instrumentation allocates, so they skip
// under -race, as log/slog's do.
package race

// Enabled is true under -race.
const Enabled = true
