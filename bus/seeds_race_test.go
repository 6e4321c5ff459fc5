//go:build race

package bus_test

// raceEnabledSeeds is true under -race, whose instrumentation allocates:
// the seeds' allocation tests skip then.
const raceEnabledSeeds = true
