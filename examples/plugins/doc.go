// Command plugins shows Genesys-style plugins on a running bus: a plugin
// registers under a name and subscribes through its handle; filter rules
// (include or exclude, each rule with an id) decide what its handlers hear
// and change at run time; unregistering removes everything it subscribed.
//
//	go run ./examples/plugins
package main
