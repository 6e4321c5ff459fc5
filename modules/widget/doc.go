// Package widget follows the chat widget service's sessions, as a plugin
// of the bus, and themes the operators' pages.
//
// # The plugin
//
// After Genesys Widgets, where a plugin registers on the bus under a name
// and subscribes to a service's lifecycle events through that handle,
// [Module] registers the plugin [PluginName] when the app starts (see
// [Attach]) and subscribes, with bus.OwnedBy(p), to the chat
// service's topics: [topics.ChatReady], [topics.ChatStarted],
// [topics.ChatEnded], [topics.ChatMessageReceived], the agents' and
// client's connections and typing, and [topics.ChatError]. Every handler is
// attributed to the plugin in traces ("widget/..."), and all of them are
// removed at once when the app stops and the plugin unregisters.
//
// The handlers keep, in the [*State] the module provides, one [Session]
// per thread: when it started and ended, how many messages came, which
// operators are connected, who is typing. Ended sessions are kept, the
// newest [MaxEnded] of them.
//
// # The theme
//
// The module also listens, statically, to [topics.PageAddCSS] at
// [ThemeRank] (10), and appends [ThemeCSS] to the page's style sheets. The
// desk's base style sheet is added at rank 0 (by package assets), so the
// theme comes after it, and its rules win: two modules edit one alter event,
// in rank order.
package widget
