// Package stats counts the desk's activity between runs of its periodic
// tasks.
//
// [Module] counts threads created ([topics.ThreadCreated]), threads closed
// ([topics.ThreadClosed]) and messages posted ([topics.ThreadMessagePosting])
// into the current [Period] of the [*Stats] it provides. Each
// [topics.CronRun] closes the period at the tick's time, keeps it as the
// last one, and opens the next.
//
// Messages are counted at [MessageRank], after the other modules'
// listeners: a message that an earlier listener refuses, with an error that
// stops the publish, is never posted, and is not counted.
package stats
