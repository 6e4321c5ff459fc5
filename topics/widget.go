package topics

import (
	"net/http"

	"github.com/fxbus/fxbus/bus"
)

// Widget events: the chat widget embedded in the site's pages polls the
// desk, and its answers can run code in the visitor's page.

// WidgetResponseAlter fires every time the answer to the widget is ready to
// be sent (Mibew WIDGET_RESPONSE_ALTER). Listeners may change
// [WidgetReply.Response] to run code in the page the visitor is browsing:
// load scripts, call functions, pass them data.
var WidgetResponseAlter = bus.NewTopic[WidgetReply]("widget.response_alter",
	bus.Description("The answer to the widget is ready to be sent; listeners may change it."))

// WidgetResponse is the answer sent to the widget. Its maps are never nil
// when the event fires.
type WidgetResponse struct {
	// Load maps the id of a script library to its URL: the widget loads
	// them before calling Handlers.
	Load map[string]string
	// Handlers are the names of the client-side functions to call, in
	// order; each must be a property of Mibew.APIFunctions in the page.
	Handlers []string
	// Dependencies maps the name of a handler to the ids, in Load, of the
	// libraries it needs.
	Dependencies map[string][]string
	// Data maps the name of a handler to the data it is called with; the
	// data must encode to JSON.
	Data map[string]any
}

// RouteURLFunc returns the absolute, secure URL of the named route, with
// its parameters filled in.
type RouteURLFunc func(route string, params map[string]string) (string, error)

// AssetURLFunc returns the absolute URL of a file served by the desk, given
// its path relative to the desk's root.
type AssetURLFunc func(path string) string

// WidgetReply is the payload of [WidgetResponseAlter].
type WidgetReply struct {
	// Visitor is the visitor whose widget polled.
	Visitor *Visitor
	// Request is the widget's request.
	Request *http.Request `json:"-"`
	// Response is what the widget will get. Listeners may change it; the
	// widget gets it as the last listener left it.
	Response WidgetResponse
	// RouteURL makes URLs of the desk's routes, for Response.
	RouteURL RouteURLFunc `json:"-"`
	// AssetURL makes URLs of the desk's files, such as a plugin's scripts,
	// for Response.
	AssetURL AssetURLFunc `json:"-"`
}
