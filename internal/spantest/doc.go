// Package spantest holds the test helpers that the packages built on bus
// (bus/hook, bus/rules, bus/plugin) share: a bus closed at cleanup, a span
// recorder, and lookups of recorded spans and their attributes. Only tests
// import it.
package spantest
