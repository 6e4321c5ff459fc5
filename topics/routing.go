package topics

import "github.com/fxbus/fxbus/bus"

// Routing events: the routes of the desk's HTTP server.

// RoutingAlter fires after all routes have been loaded and before the
// server uses them (Mibew ROUTES_ALTER). Listeners may add, replace or
// remove routes in [RouteCollection.Routes]; the server serves the routes
// as the last listener left them.
var RoutingAlter = bus.NewTopic[RouteCollection]("routing.alter",
	bus.Description("All routes have been loaded; listeners may change them before they are used."))

// RouteCollection is the payload of [RoutingAlter].
type RouteCollection struct {
	// Routes are the server's routes. Listeners may change the list; the
	// server uses it as the last listener left it.
	Routes []Route
}
