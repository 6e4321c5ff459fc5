package busdebug

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/fxbus/fxbus/bus"
)

//go:embed assets
var assets embed.FS

// DefaultPrefix is the path the handler serves under unless [WithPrefix]
// says otherwise.
const DefaultPrefix = "/debug/fxbus"

// Option configures a [Handler].
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	prefix    string
	traceURL  string
	stats     func() []HandlerStats
	fieldDocs map[string]map[string]string
	errText   func(error) string
	topics    []bus.AnyTopic
	buffer    int
	title     string
	logout    string
	err       error // a bad option, which every request then reports
}

// WithPrefix sets the path the handler serves under, such as
// "/debug/fxbus" (the default): the catalogue is the prefix itself, the
// other pages are below it. Mount the handler at the prefix followed by a
// slash, Handler.Prefix()+"/", without [http.StripPrefix]: the pages
// link to each other under the prefix. "/" (or "") serves them at the
// root, such as on a listener of their own. The path is cleaned ("/a/../b"
// is "/b"); one with a brace, a space or a control character, which
// [http.ServeMux] would read as a pattern, makes every request answer 500
// with what was wrong.
func WithPrefix(p string) Option {
	return optionFunc(func(c *config) {
		clean := strings.TrimSuffix(path.Clean("/"+p), "/")
		if i := strings.IndexFunc(clean, func(r rune) bool { return r == '{' || r == '}' || r <= ' ' || r == 0x7f }); i >= 0 {
			c.err = fmt.Errorf("busdebug: WithPrefix(%q): %q may not be in a path prefix", p, clean[i:i+1])
			return
		}
		c.prefix = clean
	})
}

// WithTraceURL links every trace id the monitor shows to the tracing UI:
// tmpl is a URL in which "{trace_id}" stands for the id, such as
// "http://jaeger:16686/trace/{trace_id}".
func WithTraceURL(tmpl string) Option {
	return optionFunc(func(c *config) { c.traceURL = tmpl })
}

// WithStats gives the statistics page its source: a function returning,
// per handler, its calls, errors and latency since start. Without it, the
// page says where statistics come from. An OpenTelemetry span or metric
// store the service keeps anyway is the natural source.
func WithStats(fn func() []HandlerStats) Option {
	return optionFunc(func(c *config) { c.stats = fn })
}

// WithFieldDocs documents the payloads' fields on the catalogue, as
// [busdoc.AddFieldDocs] does.
func WithFieldDocs(docs map[string]map[string]string) Option {
	return optionFunc(func(c *config) { c.fieldDocs = docs })
}

// WithTopics adds topics the bus does not know to the catalogue (a topic
// nobody publishes or hears yet), so that the page lists every topic
// declared.
func WithTopics(ts ...bus.AnyTopic) Option {
	return optionFunc(func(c *config) { c.topics = append(c.topics, ts...) })
}

// WithErrorText sets what the monitor shows of a failed handler's error
// besides its class (error.type, as spans record it): text(err), or nothing for "". The
// default shows no text, since error text may carry personal data; pass
// the function given to bus.WithErrorRedaction to show what spans record.
func WithErrorText(text func(error) string) Option {
	return optionFunc(func(c *config) { c.errText = text })
}

// WithBuffer sets how many publishes the monitor keeps for a viewer who
// connects (default 200).
func WithBuffer(n int) Option {
	return optionFunc(func(c *config) {
		if n > 0 {
			c.buffer = n
		}
	})
}

// WithLogout adds a "Log out" button to every page's header: a form that
// POSTs to path, for a service whose viewers sign in to the page with a
// session cookie, such as "/debug/fxbus/logout". The handler itself
// serves no POST: the service answers it.
func WithLogout(path string) Option {
	return optionFunc(func(c *config) { c.logout = path })
}

// Handler serves the debug pages of a bus; see the package documentation.
// It is safe for concurrent use. Build it with [New].
type Handler struct {
	b     *bus.Bus
	cfg   config
	pages *template.Template
	mon   *monitor
	mux   *http.ServeMux
	start time.Time
}

// New returns the debug handler of b.
func New(b *bus.Bus, opts ...Option) *Handler {
	cfg := config{prefix: DefaultPrefix, buffer: 200, title: "fxbus"}
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	h := &Handler{b: b, cfg: cfg, start: time.Now()}
	if cfg.err != nil {
		return h
	}
	h.pages = template.Must(template.New("").Funcs(funcs()).ParseFS(assets, "assets/*.html"))
	h.mon = newMonitor(b, cfg)
	static, _ := fs.Sub(assets, "assets")
	p := cfg.prefix
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+p+"/{$}", h.catalogPage)
	mux.HandleFunc("GET "+p+"/graph", h.graphPage)
	mux.HandleFunc("GET "+p+"/graph.svg", h.graphSVG)
	mux.HandleFunc("GET "+p+"/monitor", h.monitorPage)
	mux.HandleFunc("GET "+p+"/events", h.mon.serveEvents)
	mux.HandleFunc("GET "+p+"/stats", h.statsPage)
	mux.Handle("GET "+p+"/static/", http.StripPrefix(p+"/static/", staticFiles(static)))
	if p != "" {
		mux.HandleFunc("GET "+p, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, p+"/", http.StatusMovedPermanently)
		})
	}
	h.mux = mux
	return h
}

// Prefix returns the path the handler serves under, such as
// "/debug/fxbus", or "" at the root.
func (h *Handler) Prefix() string { return h.cfg.prefix }

// ServeHTTP serves the pages. It answers GET and HEAD only.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	if h.cfg.err != nil {
		http.Error(w, h.cfg.err.Error(), http.StatusInternalServerError)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "the debug pages are read-only: GET or HEAD", http.StatusMethodNotAllowed)
		return
	}
	if p := h.cfg.prefix; r.URL.Path != p && !strings.HasPrefix(r.URL.Path, p+"/") {
		// The likeliest mistake: mounted at another path, or behind
		// http.StripPrefix.
		http.Error(w, fmt.Sprintf("the debug pages are served under %q, and this request is for %q: mount the handler at %q, or give WithPrefix the path it is mounted at", p+"/", r.URL.Path, p+"/"), http.StatusNotFound)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// Close disconnects the monitor's viewers and removes its tap. Mounting
// services call it at stop, so that no stream outlives the server.
func (h *Handler) Close() error {
	if h.mon != nil {
		h.mon.close()
	}
	return nil
}

func staticFiles(fsys fs.FS) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := path.Clean(r.URL.Path)
		if strings.HasSuffix(name, ".html") { // the templates are not served
			http.NotFound(w, r)
			return
		}
		http.FileServerFS(fsys).ServeHTTP(w, r)
	})
}

// render executes the page template name with data, buffered, so that a
// template error is a 500 and not half a page.
func (h *Handler) render(w http.ResponseWriter, name string, data any) {
	var buf bytes.Buffer
	if err := h.pages.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "debug page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

// page is what every page's layout reads.
type page struct {
	Title  string
	Prefix string
	Nav    string // the current page, for aria-current
	Since  time.Time
	Logout string // where the Log out button posts; "" for none
	Body   any
}

func (h *Handler) page(nav, title string, body any) page {
	return page{Title: title, Prefix: h.cfg.prefix, Nav: nav, Since: h.start, Logout: h.cfg.logout, Body: body}
}

func funcs() template.FuncMap {
	return template.FuncMap{
		"dur":    func(d time.Duration) string { return roundDuration(d).String() },
		"anchor": anchor,
		"policy": policyText,
		"inc":    func(i int) int { return i + 1 },
	}
}

// policyText says what a publish does on a handler's error.
func policyText(p bus.ErrorPolicy) string {
	switch p {
	case bus.StopOnError:
		return "stop at the first error (" + p.String() + ")"
	case bus.RunAll:
		return "run every handler, errors joined (" + p.String() + ")"
	}
	return p.String()
}

// roundDuration keeps three significant figures or so.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	case d >= time.Microsecond:
		return d.Round(10 * time.Nanosecond)
	}
	return d
}
