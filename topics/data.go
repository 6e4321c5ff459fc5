package topics

import (
	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/hook"
)

// Data hooks: the desk's data API, wrapped in before and after hooks
// (Backendless "data service" handlers), each call about one [Table].
// Handlers scope themselves to a table with the topic's When on
// [DataRequest.Table], a typed key: nothing is dispatched by string.

// DataCreate wraps the creation of a record (Backendless beforeCreate /
// afterCreate).
var DataCreate = hook.New[DataRequest, DataResult]("data.create",
	bus.Description("A record is created in a table."))

// DataUpdate wraps the update of a record (Backendless beforeUpdate /
// afterUpdate).
var DataUpdate = hook.New[DataRequest, DataResult]("data.update",
	bus.Description("A record of a table is updated."))

// DataFind wraps a query of a table (Backendless beforeFind / afterFind).
var DataFind = hook.New[DataRequest, DataResult]("data.find",
	bus.Description("A table is queried."))

// DataRemove wraps the removal of a record (Backendless beforeRemove /
// afterRemove).
var DataRemove = hook.New[DataRequest, DataResult]("data.remove",
	bus.Description("A record is removed from a table."))

// Table names a table of the desk's data API; handlers compare it, typed,
// to scope themselves.
type Table string

// The desk's tables.
const (
	// TableTickets holds the desk's tickets.
	TableTickets Table = "tickets"
	// TableDocuments holds the documents attached to tickets.
	TableDocuments Table = "documents"
	// TableOperators holds the operators.
	TableOperators Table = "operators"
)

// DataRequest is the request of the data hooks.
type DataRequest struct {
	// Table is the table the call is about.
	Table Table
	// ID identifies the record, for update, find by id and remove.
	ID string
	// Record holds the fields to create or update; before handlers may
	// change them.
	Record map[string]any
	// Where filters a find: fields and the values they must have.
	Where map[string]any
}

// DataResult is the result of the data hooks.
type DataResult struct {
	// Records are the records created, updated, found or removed.
	Records []map[string]any
}
