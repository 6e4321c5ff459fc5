package webhooks

import "github.com/fxbus/fxbus/bus"

// Predicate compiles one field condition over *T, for tests.
func Predicate[T any](f Field) (func(*T) bool, error) { return compileField[T](f) }

// Catalogue returns the topics that have a route, and a zero payload of
// each, for tests.
func Catalogue() (ts []bus.AnyTopic, samples []any, before []bool) {
	for _, r := range routes() {
		ts = append(ts, r.topic())
		samples = append(samples, r.sample())
		before = append(before, r.before())
	}
	return ts, samples, before
}

// CheckDial runs the dialer's check of an address about to be connected
// to, for tests.
func CheckDial(allowLoopback, allowPrivate bool, address string) error {
	return addrPolicy{loopback: allowLoopback, private: allowPrivate}.control("tcp", address, nil)
}
