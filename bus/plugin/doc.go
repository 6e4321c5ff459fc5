// Package plugin registers named plugins on a running bus: everything a
// plugin subscribes is attributed to it, in traces and catalogues, and
// removed together when it unregisters. It is the Genesys Widgets bus's
// shape, built on package bus: a *[Plugin] is a [bus.Owner], and a plugin
// subscribes through [bus.Topic.Subscribe] with [bus.OwnedBy].
//
//	p, err := plugin.Register(b, "chat-widget")
//	_, err = WebChatStarted.Subscribe(b, onStarted, bus.OwnedBy(p))
//	...
//	err = p.Unregister() // every subscription of p, at once
package plugin
