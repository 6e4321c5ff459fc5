//go:build race

package desk_test

// raceEnabled is set under -race, which slows the memory test down and
// changes what it measures.
const raceEnabled = true
