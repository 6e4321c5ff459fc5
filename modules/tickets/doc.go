// Package tickets keeps the desk's board of open tickets, from the object
// events of the iTop-style data model.
//
// [Module] listens to [topics.ObjectCreated], [topics.ObjectUpdated] and
// [topics.ObjectDeleted] with bus.FromSource[topics.Ticket](): it hears the
// events published with [bus.Topic.PublishFrom] from a *[topics.UserRequest]
// or an *[topics.Incident], and from any other type that implements
// [topics.Ticket] later, as an iTop listener on the Ticket class hears its
// subclasses. It never hears events from a *[topics.Document], nor events
// published without a source.
//
// The [*Board] it provides holds the open tickets by class ("UserRequest",
// "Incident"), and the last ticket created or updated. A ticket is open
// until its status is resolved or closed, or it is deleted.
//
// The module only tracks: it publishes nothing. Escalation, say of a
// pressing incident, is a policy of the desk that reads the board or
// listens to the same topics.
package tickets
