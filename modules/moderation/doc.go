// Package moderation keeps abusive words out of the desk's chats, and asks
// the desk to ban visitors who keep using them.
//
// [Module] listens to [topics.ThreadMessagePosting], the Mibew
// THREAD_POST_MESSAGE alter event, at [Rank] (-10): before the message is
// stored, and before the listeners at the default rank see it. It replaces
// each abusive word of the body with asterisks, one per letter. Words are
// matched whole (a word is a run of letters, digits and underscores, in any
// script) and regardless of case: with "heck" in the list, "Heck!" becomes
// "****!", while "heckle" stays.
//
// Every visitor message (kind [topics.MessageKindUser]) with an abusive word
// is a strike against the thread's visitor, [topics.Thread.UserID]. At the
// [Config.BanAfter]-th strike, the module publishes
// [topics.ModerationBanRequested] with By "moderation", on the
// *[bus.Bus], as it declares with [bus.Publishes], and the visitor's count
// starts again. If that publish fails, the message is refused with the
// error, and the strikes are kept so that the next abusive message asks
// again.
//
// # Configuration
//
// The container may supply a [Config]; without one, the words are
// [DefaultWords] and the ban comes at the [DefaultBanAfter]-th strike.
//
//	fx.Supply(moderation.Config{Words: []string{"darn", "heck", "blast"}, BanAfter: 3})
package moderation
