// Package analytics counts the desk's activity as a service of its own:
// bans created ([topics.BanCreated]), messages posted
// ([topics.ThreadMessagePosting]) and ticket changes
// ([topics.ObjectUpdated] of a ticket class), into the [*Counts] that
// [Module] provides.
//
// The module only listens to topics, as every module does: it does not
// know where the events come from. The reference app runs it as a second
// fx app that imports those topics from the desk through the bridge
// package (NATS JetStream), so it counts what the desk published in
// another bus, or another process; the app's wiring says which.
//
// Delivery across processes is at least once: after a crash, an event
// can be delivered twice. The counts skip an event whose id they have
// seen when the app provides an [EventID] function.
package analytics
