package topics

import (
	"time"

	"github.com/fxbus/fxbus/bus"
)

// Cron events: periodic maintenance.

// CronRun fires when the desk's periodic tasks run, after the statistics
// have been computed and before the check for updates (Mibew CRON_RUN).
// Listeners do their own maintenance; every listener runs even when one
// fails, and Publish returns all the failures.
var CronRun = bus.NewTopic[CronTick]("cron.run",
	bus.Description("The periodic tasks are running; listeners do their own maintenance."),
	bus.RunAll)

// CronTick is the payload of [CronRun].
type CronTick struct {
	// Time is when this run of the periodic tasks started.
	Time time.Time
}
