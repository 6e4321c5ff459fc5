// Package unit holds listeners until a unit of work, such as a database
// transaction, commits: the shape of Spring's
// @TransactionalEventListener(phase = AFTER_COMMIT) and Laravel's
// ShouldDispatchAfterCommit, where a welcome mail must not go out for a
// user whose insert rolled back.
//
// Mark a listener with [AfterCommit], and publish within a unit, carried in
// the context:
//
//	bus.On(topics.SignedUp, sendWelcome, unit.AfterCommit())
//
//	err := unit.Run(ctx, func(ctx context.Context) error {
//		if err := store.Insert(ctx, user); err != nil {
//			return err // rolls back: no welcome mail
//		}
//		return topics.SignedUp.Publish(ctx, b, &SignedUp{User: user.ID})
//	})
//
// The publish runs the topic's other listeners at once and holds the
// AfterCommit handler; [Unit.Commit] runs what the unit held, and
// [Unit.Rollback] drops it. Outside a unit an AfterCommit listener runs at
// once, as any other.
//
// When a held handler fails at the commit, the unit's own work stands: the
// error of Commit and Run then matches [ErrHeldFailed], so that a caller
// does not retry what committed; an error of Run that does not match it is
// fn's own, and the unit rolled back.
//
// The package is built on package bus's public API: AfterCommit is a
// [bus.Wrap] of one [bus.Middleware].
//
// # Telemetry
//
// With tracing on, the handler span of a held listener's publish carries
// fxbus.deferred "after_commit" and an event of that name; at the commit,
// the handler runs in a span of its own, named as handler spans are
// ("<listener> <topic>"), with fxbus.after_commit true and a link to the
// span of the publish.
package unit
