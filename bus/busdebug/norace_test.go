//go:build !race

package busdebug

const raceEnabled = false
