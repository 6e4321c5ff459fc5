// Command benchtable turns the output of go test -bench from this module into
// the Markdown tables of RESULTS.md: per benchmark group, one row per
// configuration and, for each size, the median ns/op, the median allocs/op
// and the ratio to the group's baseline row: the median of the ratios of
// results from the same round (see pairedRatio).
//
// Usage:
//
//	benchtable [-groups Sync,Tracing] bench.txt...
package main
