package topics

import "github.com/fxbus/fxbus/bus"

// Group events: the life of a [Group] and of its members. They fire after
// the fact, so every listener runs even when one fails, and Publish returns
// all the failures.

// GroupCreated fires after a group has been created (Mibew GROUP_CREATE).
var GroupCreated = bus.NewTopic[GroupEvent]("group.created",
	bus.Description("A group has been created."),
	bus.RunAll)

// GroupUpdated fires after a group has been saved (Mibew GROUP_UPDATE).
var GroupUpdated = bus.NewTopic[GroupUpdate]("group.updated",
	bus.Description("A group has been saved."),
	bus.RunAll)

// GroupDeleted fires after a group has been deleted (Mibew GROUP_DELETE).
var GroupDeleted = bus.NewTopic[GroupDeletion]("group.deleted",
	bus.Description("A group has been deleted."),
	bus.RunAll)

// GroupOperatorsUpdated fires after the set of operators belonging to a
// group has changed (Mibew GROUP_UPDATE_OPERATORS).
var GroupOperatorsUpdated = bus.NewTopic[GroupOperatorsUpdate]("group.operators_updated",
	bus.Description("The operators of a group have changed."),
	bus.RunAll)

// GroupEvent is the payload of [GroupCreated].
type GroupEvent struct {
	// Group is the state of the created group.
	Group *Group
}

// GroupUpdate is the payload of [GroupUpdated].
type GroupUpdate struct {
	// Group is the state of the group after the update.
	Group *Group
	// Original is the state of the group before the update.
	Original *Group
}

// GroupDeletion is the payload of [GroupDeleted].
type GroupDeletion struct {
	// ID identifies the deleted group.
	ID GroupID
}

// GroupOperatorsUpdate is the payload of [GroupOperatorsUpdated].
type GroupOperatorsUpdate struct {
	// Group is the group whose operators changed.
	Group *Group
	// Original lists the group's operators before the change.
	Original []OperatorID
	// Operators lists the group's operators after the change.
	Operators []OperatorID
}
