// Package audit keeps a trail of what changed in the desk: bans, groups,
// operators, threads, visitors, objects, and moderators' ban requests.
//
// [Module] listens to the desk's create, update and delete topics at
// [Rank], lower than any other module's, so that an entry is written before
// the others run, even when one of them fails afterwards. Each event
// becomes an [Entry] in the [*Log] that the module provides: the topic's
// name, a one-line summary without personal data beyond ids and logins, and
// the caller that [topics.CallerFrom] finds in the context, if any.
//
// The log is in memory and bounded: it keeps the newest [Config.Capacity]
// entries, [DefaultCapacity] unless the container supplies a [Config].
//
//	app := fx.New(bus.Module, audit.Module, ...)
//	...
//	for _, e := range log.Entries() {
//		fmt.Println(e.Topic, e.Summary)
//	}
package audit
