//go:build linux || darwin

package benchmarks

import "syscall"

// processCPU returns the CPU time, user and system, that the process has
// used so far, in nanoseconds, and whether it could tell.
func processCPU() (int64, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return ru.Utime.Nano() + ru.Stime.Nano(), true
}
