package topics

import "github.com/fxbus/fxbus/bus"

// Ban events: the life of a [Ban]. They fire after the fact, so every
// listener runs even when one fails, and Publish returns all the failures.

// BanCreated fires after a ban has been created (Mibew BAN_CREATE).
var BanCreated = bus.NewTopic[BanEvent]("ban.created",
	bus.Description("A ban has been created."),
	bus.RunAll)

// BanUpdated fires after a ban has been saved (Mibew BAN_UPDATE).
var BanUpdated = bus.NewTopic[BanUpdate]("ban.updated",
	bus.Description("A ban has been saved."),
	bus.RunAll)

// BanDeleted fires after a ban has been deleted (Mibew BAN_DELETE).
var BanDeleted = bus.NewTopic[BanDeletion]("ban.deleted",
	bus.Description("A ban has been deleted."),
	bus.RunAll)

// BanEvent is the payload of [BanCreated].
type BanEvent struct {
	// Ban is the state of the created ban.
	Ban *Ban
}

// BanUpdate is the payload of [BanUpdated].
type BanUpdate struct {
	// Ban is the state of the ban after the update.
	Ban *Ban
	// Original is the state of the ban before the update.
	Original *Ban
}

// BanDeletion is the payload of [BanDeleted].
type BanDeletion struct {
	// ID identifies the deleted ban.
	ID BanID
}
