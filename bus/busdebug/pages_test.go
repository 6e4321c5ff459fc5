package busdebug

import (
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/bus"
)

func TestCatalogPage(t *testing.T) {
	h := New(fixture(t), WithFieldDocs(map[string]map[string]string{"busdebug.Login": {"Email": "the address signed in with"}}))
	defer h.Close()
	code, body, hdr := get(t, h, "/debug/fxbus/")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, "text/html; charset=utf-8", hdr.Get("Content-Type"))
	assert.Contains(t, hdr.Get("Content-Security-Policy"), "script-src 'self'")
	// Areas in order, each topic with its facts, listeners in dispatch order.
	in(t, body, `<a href="#area-order">order</a>`, `<a href="#area-user">user</a>`)
	in(t, body, `<h2 id="area-order">order</h2>`,
		`<h3 id="topic-order-placed"><code>order.placed</code></h3>`, "an order is placed",
		"Error policy", "stop at the first error (stop-on-error)", "Requirement", "at least one", "Runtime subscriptions</dt><dd>1",
		`<th scope="row"><code>ID</code></th><td><code>int64</code>`,
		"billing.charge", "billing", "fixture_test.go:",
		"bridge.export", "exports to <code>nats:orders</code>",
		"mailer.confirm", "plugin mailer", "runtime subscription",
		"Publishers of", "shop", "this process",
		`<h3 id="topic-order-shipped">`, "No listeners.",
		`<h2 id="area-user">user</h2>`, "user.login", "run every handler, errors joined", "the address signed in with",
		"audit.login", "-10", "audit", "sso.check", "sso")
	in(t, body, "Across the process", "order.placed", "exported", "nats:orders")
	in(t, body, "Topics nobody in this process hears", "order.shipped")
	assert.NotContains(t, body, "<script", "the catalogue works without JavaScript")
	assert.NotContains(t, body, secret)
}

func TestGraphPage(t *testing.T) {
	h := New(fixture(t))
	defer h.Close()
	code, body, _ := get(t, h, "/debug/fxbus/graph")
	require.Equal(t, http.StatusOK, code)
	start, end := strings.Index(body, "<svg"), strings.Index(body, "</svg>")
	require.True(t, start >= 0 && end > start, "the graph is inline SVG")
	svg := body[start : end+len("</svg>")]
	// It is well-formed XML, with nodes in three columns.
	require.NoError(t, xml.Unmarshal([]byte(svg), new(any)))
	in(t, svg, `role="img"`, "publishers", "topics", "listeners")
	for _, s := range []string{">shop<", ">order.placed<", ">user.login<", ">billing<", ">plugin mailer<", ">nats:orders<", `class="edge publishes"`, `class="edge delivers"`, `class="edge exports"`} {
		assert.Contains(t, svg, s)
	}
	assert.Contains(t, svg, `href="/debug/fxbus/#topic-order-placed"`, "a topic links to the catalogue")

	code, raw, hdr := get(t, h, "/debug/fxbus/graph.svg")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, "image/svg+xml", hdr.Get("Content-Type"))
	require.NoError(t, xml.Unmarshal([]byte(raw), new(any)))
}

func TestGraphEscapes(t *testing.T) {
	svg := svgGraphOf(t, `<script>alert(1)</script>`)
	assert.NotContains(t, svg, "<script>")
	assert.Contains(t, svg, "&lt;script&gt;")
}

func TestStatsPage(t *testing.T) {
	b := fixture(t)
	h := New(b)
	defer h.Close()
	_, body, _ := get(t, h, "/debug/fxbus/stats")
	assert.Contains(t, body, "No source of statistics")

	h2 := New(b, WithStats(func() []HandlerStats {
		return []HandlerStats{
			{Topic: "user.login", Listener: "sso.check", Rank: 0, Calls: 4, Errors: 1, P50: 1500 * time.Microsecond, P99: 3 * time.Millisecond},
			{Topic: "user.login", Listener: "audit.login", Rank: -10, Calls: 400, P50: 2 * time.Microsecond, P99: 9 * time.Microsecond},
		}
	}))
	defer h2.Close()
	code, body, _ := get(t, h2, "/debug/fxbus/stats")
	require.Equal(t, http.StatusOK, code)
	// By topic, then rank; the row of 4 calls is marked, the one of 400 not.
	in(t, body, `<th scope="col" class="num">Calls</th>`, "audit.login", ">400<", "2µs", "9µs</td>", "sso.check", ">4<", "1 (25%)", "1.5ms", "3ms <span class=\"few\">few samples</span>")
}

func TestPagesAreReadOnlyAndStatic(t *testing.T) {
	h := New(fixture(t), WithPrefix("/x/bus/"))
	defer h.Close()
	for _, path := range []string{"/x/bus/", "/x/bus/graph", "/x/bus/monitor", "/x/bus/stats", "/x/bus/static/monitor.js", "/x/bus/static/style.css"} {
		code, body, hdr := get(t, h, path)
		assert.Equal(t, http.StatusOK, code, path)
		assert.NotEmpty(t, body, path)
		assert.Equal(t, "nosniff", hdr.Get("X-Content-Type-Options"), path)
	}
	for _, path := range []string{"/x/bus/static/monitor.html", "/x/bus/nothing", "/debug/fxbus/"} {
		code, _, _ := get(t, h, path)
		assert.Equal(t, http.StatusNotFound, code, path)
	}
	code, _, hdr := get(t, h, "/x/bus")
	assert.Equal(t, http.StatusMovedPermanently, code)
	assert.Equal(t, "/x/bus/", hdr.Get("Location"))

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/x/bus/", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	assert.Equal(t, "GET, HEAD", rec.Header().Get("Allow"))
}

// svgGraphOf lays out the graph of a bus with one topic named name.
func svgGraphOf(t *testing.T, name string) string {
	t.Helper()
	h := New(fixture(t), WithTopics(bus.NewTopic[Order](name)))
	defer h.Close()
	g, c := h.graph()
	return svgGraph(g, c, h.Prefix())
}

// WithLogout puts a Log out form on every page; without it, there is none.
func TestLogoutButton(t *testing.T) {
	h := New(fixture(t), WithLogout("/debug/fxbus/logout"))
	defer h.Close()
	plain := New(fixture(t))
	defer plain.Close()
	for _, p := range []string{"/debug/fxbus/", "/debug/fxbus/graph", "/debug/fxbus/monitor", "/debug/fxbus/stats"} {
		code, body, _ := get(t, h, p)
		require.Equal(t, http.StatusOK, code, p)
		assert.Contains(t, body, `<form class="logout" method="post" action="/debug/fxbus/logout"><button type="submit">Log out</button></form>`, p)
		_, body, _ = get(t, plain, p)
		assert.NotContains(t, body, "Log out", p)
	}
}

// At the root, as on a debug listener of its own, every page is served
// and links to the others there.
func TestRootPrefix(t *testing.T) {
	for _, p := range []string{"/", ""} {
		h := New(fixture(t), WithPrefix(p))
		assert.Empty(t, h.Prefix())
		code, body, _ := get(t, h, "/")
		require.Equal(t, http.StatusOK, code, "prefix %q", p)
		in(t, body, `href="/static/style.css"`, `href="/graph"`, "order.placed")
		for _, page := range []string{"/graph", "/graph.svg", "/monitor", "/stats", "/static/style.css"} {
			code, _, _ := get(t, h, page)
			assert.Equal(t, http.StatusOK, code, "%s, prefix %q", page, p)
		}
		require.NoError(t, h.Close())
	}
}

// A prefix is cleaned; one that http.ServeMux would read as a pattern, or
// that holds a space, makes every request say what was wrong, instead of
// panicking in New.
func TestPrefixIsCleanedOrRefused(t *testing.T) {
	h := New(fixture(t), WithPrefix("/a/../debug//bus/"))
	assert.Equal(t, "/debug/bus", h.Prefix())
	code, _, _ := get(t, h, "/debug/bus/graph")
	assert.Equal(t, http.StatusOK, code)
	require.NoError(t, h.Close())

	for _, p := range []string{"/debug/{x}", "/debug/a b", "/debug/\x00"} {
		var h *Handler
		require.NotPanics(t, func() { h = New(fixture(t), WithPrefix(p)) }, "prefix %q", p)
		code, body, _ := get(t, h, "/debug/x/")
		assert.Equal(t, http.StatusInternalServerError, code, "prefix %q", p)
		in(t, body, "busdebug: WithPrefix(", "may not be in a path prefix")
		require.NoError(t, h.Close())
	}
}

// A handler mounted at another path than its prefix says so, rather than
// a bare 404.
func TestMountedElsewhereSaysWhere(t *testing.T) {
	h := New(fixture(t))
	defer h.Close()
	code, body, hdr := get(t, h, "/admin/bus/graph")
	assert.Equal(t, http.StatusNotFound, code)
	assert.Equal(t, "text/plain; charset=utf-8", hdr.Get("Content-Type"))
	in(t, body, `served under "/debug/fxbus/"`, `for "/admin/bus/graph"`, "WithPrefix")
	code, _, _ = get(t, h, "/debug/fxbusx")
	assert.Equal(t, http.StatusNotFound, code, "a path that only starts like the prefix")
	code, _, _ = get(t, h, "/debug/fxbus/nothing")
	assert.Equal(t, http.StatusNotFound, code, "under the prefix, the mux's own 404")
}
