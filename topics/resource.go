package topics

import (
	"net/http"

	"github.com/fxbus/fxbus/bus"
)

// Resource events: a request the desk cannot serve. A listener may answer
// it with its own response.

// ResourceAccessDenied fires when access to a resource is denied (Mibew
// RESOURCE_ACCESS_DENIED). A listener that wants to send its own answer
// sets [ResourceRequest.Response].
var ResourceAccessDenied = bus.NewTopic[ResourceRequest]("resource.access_denied",
	bus.Description("Access to a resource was denied; listeners may set the response."))

// ResourceNotFound fires when a resource is not found (Mibew
// RESOURCE_NOT_FOUND). A listener that wants to send its own answer sets
// [ResourceRequest.Response].
var ResourceNotFound = bus.NewTopic[ResourceRequest]("resource.not_found",
	bus.Description("A resource was not found; listeners may set the response."))

// ResourceRequest is the payload of [ResourceAccessDenied] and
// [ResourceNotFound].
type ResourceRequest struct {
	// Request is the incoming request.
	Request *http.Request `json:"-"`
	// Response is nil when the event fires, and the desk then sends its own
	// answer. A listener may set it to a response of its own, which the desk
	// sends instead.
	Response *Response
}
