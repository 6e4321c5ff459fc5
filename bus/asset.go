package bus

import "errors"

// ForAsset scopes a listener to one asset, such as a messaging channel or a
// data table: it hears only the events for which asset returns key. Like
// [When], it is checked before the handler's span starts; it is a single
// ==, so with a key that is a pointer or an integer, rather than a name,
// scoping costs a word compare and nothing is looked up by string.
//
//	type Channel struct{ Name string }
//	var Lobby = &Channel{Name: "lobby"}
//
//	bus.On(Publish.Before(), moderate, bus.ForAsset((*PublishReq).Channel, Lobby))
//
// T must be the topic's payload type; a mismatch is an error from [New] or
// Subscribe naming the listener.
func ForAsset[T any, K comparable](asset func(*T) K, key K) ListenerOption {
	if asset == nil {
		return listenerOptionFunc(func(l *listener) { l.optErr = errors.New("ForAsset: nil asset function") })
	}
	return When(func(e *T) bool { return asset(e) == key })
}
