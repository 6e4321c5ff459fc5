package topics

import (
	"net/http"

	"github.com/fxbus/fxbus/bus"
)

// Page events: what the pages of the operators' interface load. They are
// alter events: listeners edit the payload, and the page is built from it as
// the last listener left it.

// PageAddCSS fires before the CSS assets are attached to a page of the
// operators' interface (Mibew PAGE_ADD_CSS). Listeners may add, remove or
// reorder the assets in [PageAssets.Assets], to attach their own style
// sheets or inline styles.
var PageAddCSS = bus.NewTopic[PageAssets]("page.add_css",
	bus.Description("CSS assets are about to be attached to a page; listeners may change the list."))

// PageAddJS fires before the JavaScript assets are attached to a page of
// the operators' interface (Mibew PAGE_ADD_JS). Listeners may add, remove or
// reorder the assets in [PageAssets.Assets], to attach their own scripts or
// inline code.
var PageAddJS = bus.NewTopic[PageAssets]("page.add_js",
	bus.Description("JavaScript assets are about to be attached to a page; listeners may change the list."))

// PageAddJSPluginOptions fires before the options of the client-side
// plugins are attached to a page (Mibew PAGE_ADD_JS_PLUGIN_OPTIONS).
// Listeners pass data to their client-side code by adding or changing
// entries of [PluginOptions.Plugins].
var PageAddJSPluginOptions = bus.NewTopic[PluginOptions]("page.add_js_plugin_options",
	bus.Description("Client-side plugin options are about to be attached to a page; listeners may change them."))

// PageAssets is the payload of [PageAddCSS] and [PageAddJS].
type PageAssets struct {
	// Request is the request for the page the assets are attached to.
	Request *http.Request `json:"-"`
	// Assets are the page's assets. Listeners may change the list; the page
	// gets it as the last listener left it.
	Assets []Asset
}

// PluginOptions is the payload of [PageAddJSPluginOptions].
type PluginOptions struct {
	// Request is the request for the page the options are attached to.
	Request *http.Request `json:"-"`
	// Plugins maps the name of a client-side plugin to its options, which
	// must encode to JSON. It is never nil; listeners may add, change or
	// delete entries.
	Plugins map[string]any
}
