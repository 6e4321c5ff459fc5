package topics

import (
	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/hook"
)

// User hooks: the desk's user accounts API, wrapped in before and after
// hooks (Backendless "user service" handlers). Before handlers may change
// the request or veto the call with an error; after handlers may change the
// result, or turn an error into a result. The caller's identity is in the
// context ([CallerFrom]).

// UserLogin wraps a user's login: its before topic fires with the
// credentials before they are checked, its after topic with the session or
// the error (Backendless beforeLogin / afterLogin).
var UserLogin = hook.New[LoginRequest, Session]("user.login",
	bus.Description("A user logs in."))

// UserRegister wraps the registration of a user: its before topic fires
// with the new account before it is stored, its after topic with the
// stored account or the error (Backendless beforeRegister / afterRegister).
var UserRegister = hook.New[RegisterRequest, Account]("user.register",
	bus.Description("A user registers."))

// LoginRequest is the request of [UserLogin].
type LoginRequest struct {
	// Login is the user's login name.
	Login string
	// Password is the password given; it never goes on a span, nor into JSON.
	Password string `json:"-"`
}

// Session is the result of [UserLogin].
type Session struct {
	// UserID identifies the user logged in.
	UserID string
	// Token is the session token; it never goes on a span, nor into JSON.
	Token string `json:"-"`
	// Roles are the user's roles.
	Roles []string
}

// RegisterRequest is the request of [UserRegister].
type RegisterRequest struct {
	// Login is the login name wanted.
	Login string
	// Email is the user's address.
	Email string
	// Password is the password chosen; it never goes on a span, nor into JSON.
	Password string `json:"-"`
	// Roles are the roles given to the account; before handlers may add some.
	Roles []string
}

// Account is the result of [UserRegister].
type Account struct {
	// UserID identifies the new user.
	UserID string
	// Login is the login name.
	Login string
	// Email is the user's address.
	Email string
	// Roles are the account's roles.
	Roles []string
}
