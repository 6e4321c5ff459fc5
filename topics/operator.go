package topics

import (
	"net/http"

	"github.com/fxbus/fxbus/bus"
)

// Operator events: logging in, custom authentication and the life of an
// [Operator].

// OperatorAuthenticate fires when a request comes from an operator the desk
// cannot authenticate, because they have not logged in (Mibew
// OPERATOR_AUTHENTICATE). It lets a plugin authenticate operators its own
// way: a listener that recognises the operator from
// [Authentication.Request] sets [Authentication.Operator] and returns
// [bus.ErrStop], so that no later listener overrides it. The first error
// ends dispatch: a listener that finds forged credentials returns an error
// and the request is refused, whatever later listeners would say.
var OperatorAuthenticate = bus.NewTopic[Authentication]("operator.authenticate",
	bus.Description("An operator could not be authenticated; listeners may authenticate them from the request."),
	bus.StopOnError)

// OperatorLoggedIn fires after an operator has logged in with the login
// form (Mibew OPERATOR_LOGIN).
var OperatorLoggedIn = bus.NewTopic[OperatorLogin]("operator.logged_in",
	bus.Description("An operator has logged in with the login form."),
	bus.RunAll)

// OperatorLoggedOut fires after an operator has logged out (Mibew
// OPERATOR_LOGOUT).
var OperatorLoggedOut = bus.NewTopic[OperatorLogout]("operator.logged_out",
	bus.Description("An operator has logged out."),
	bus.RunAll)

// OperatorCreated fires after an operator has been created (Mibew
// OPERATOR_CREATE).
var OperatorCreated = bus.NewTopic[OperatorEvent]("operator.created",
	bus.Description("An operator has been created."),
	bus.RunAll)

// OperatorUpdated fires after an operator has been saved (Mibew
// OPERATOR_UPDATE).
var OperatorUpdated = bus.NewTopic[OperatorUpdate]("operator.updated",
	bus.Description("An operator has been saved."),
	bus.RunAll)

// OperatorDeleted fires after an operator has been deleted (Mibew
// OPERATOR_DELETE).
var OperatorDeleted = bus.NewTopic[OperatorDeletion]("operator.deleted",
	bus.Description("An operator has been deleted."),
	bus.RunAll)

// Authentication is the payload of [OperatorAuthenticate].
type Authentication struct {
	// Request is the incoming request, from which a listener may recognise
	// the operator: a header, a cookie, a client certificate.
	Request *http.Request `json:"-"`
	// Operator is nil when the event fires. A listener that recognises the
	// operator sets it; the desk then treats the request as theirs.
	Operator *Operator
}

// OperatorLogin is the payload of [OperatorLoggedIn].
type OperatorLogin struct {
	// Operator is the operator who logged in.
	Operator *Operator
	// Remember is set when the operator asked the desk to remember them.
	Remember bool
}

// OperatorLogout is the payload of [OperatorLoggedOut].
type OperatorLogout struct {
	// Operator is the operator who logged out.
	Operator *Operator
}

// OperatorEvent is the payload of [OperatorCreated].
type OperatorEvent struct {
	// Operator is the state of the created operator.
	Operator *Operator
}

// OperatorUpdate is the payload of [OperatorUpdated].
type OperatorUpdate struct {
	// Operator is the state of the operator after the update.
	Operator *Operator
	// Original is the state of the operator before the update.
	Original *Operator
}

// OperatorDeletion is the payload of [OperatorDeleted].
type OperatorDeletion struct {
	// ID identifies the deleted operator.
	ID OperatorID
}
