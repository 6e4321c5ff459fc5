//go:build !linux && !darwin

package benchmarks

// processCPU cannot tell the process's CPU time on this platform.
func processCPU() (int64, bool) { return 0, false }
