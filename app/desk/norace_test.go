//go:build !race

package desk_test

// raceEnabled is set under -race.
const raceEnabled = false
