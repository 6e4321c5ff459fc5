package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/fxbus/fxbus/app/demo"
	"github.com/fxbus/fxbus/app/desk/httpapi"
)

// EnvScreenshots names the directory the browser test saves its
// screenshots to, such as "../docs" (relative to app/): the README's
// pictures are made so. Unset, they go to a temporary directory.
const EnvScreenshots = "FXBUS_SCREENSHOTS"

// chromium returns the path of a Chromium to drive, or skips the test.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("FXBUS_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium to drive: install Debian's chromium package (.ci/run does), or set FXBUS_CHROMIUM to a Chromium or Chrome binary")
	return ""
}

// browser starts a headless Chromium with a fresh profile, and returns a
// context of one of its tabs. Cancelling ends the browser.
func browser(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1360, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	return bctx
}

// screenshotDir is where the browser test saves its screenshots.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv(EnvScreenshots); d != "" {
		require.NoError(t, os.MkdirAll(d, 0o755))
		return d
	}
	return t.TempDir()
}

// operatorToken signs an operator in on the desk at url.
func operatorToken(t *testing.T, url string, secret []byte) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/operators/login", nil)
	require.NoError(t, err)
	req.Header = demo.SSOHeaders(secret, "debug-viewer", time.Now())
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	var login httpapi.LoginJSON
	require.NoError(t, json.NewDecoder(res.Body).Decode(&login))
	return login.Token
}

// startDemo starts the demo's desk and signs an operator in, returning
// the token; the desk stops with the test.
func startDemo(t *testing.T, ctx context.Context) (srv *httpapi.Server, secret []byte, token string) {
	t.Helper()
	secret = demo.NewSSOSecret()
	app := fx.New(demoWiring(io.Discard, secret), fx.Populate(&srv))
	require.NoError(t, start(ctx, app))
	t.Cleanup(func() { assert.NoError(t, stop(app)) })
	return srv, secret, operatorToken(t, srv.URL(), secret)
}

// monitorRow is a row of the monitor's table, as the page shows it.
type monitorRow struct {
	Group   int    `json:"group"`
	Kind    string `json:"kind"` // "publish" or "call"
	Depth   int    `json:"depth"`
	Name    string `json:"name"`
	Rank    string `json:"rank"`
	Outcome string `json:"outcome"`
}

const readMonitor = `Array.from(document.querySelectorAll("#monitor tbody.group")).flatMap((g, i) =>
	Array.from(g.rows).filter(r => r.classList.contains("publish") || r.classList.contains("call")).map(r => ({
		group: i,
		kind: r.classList.contains("publish") ? "publish" : "call",
		depth: Number((/depth-(\d+)/.exec(r.className) || [0, 0])[1]),
		name: r.cells[1].textContent,
		rank: r.cells[2].textContent,
		outcome: r.cells[5].textContent,
	})))`

// The debug page in a real browser: an operator signs in through the
// login form and lands on the monitor, the demo's scenario runs through
// the desk's HTTP API, and the monitor shows its publishes with their
// handlers in dispatch order and their outcomes, and the payload content
// of the topics that opted in only; the catalogue and the graph render;
// Log out ends the session. Screenshots are saved (see EnvScreenshots).
func TestDebugPageInABrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	bctx := browser(t, ctx)
	dir := screenshotDir(t)

	srv, secret, token := startDemo(t, ctx)
	base := srv.URL() + httpapi.DebugPath

	// Anonymous, the browser gets the login form; the operator signs in
	// with the token, and lands on the monitor, live, while the scenario
	// runs.
	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(base+"/monitor")))
	heading, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("h1")))
	require.NoError(t, err)
	assert.Contains(t, heading, "operators only")
	// Its inline stylesheet applies: the page's policy admits it by hash.
	mainWidth, err := chromedp.Run(bctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("main")).maxWidth`))
	require.NoError(t, err)
	assert.Equal(t, "504px", mainWidth, "main is 36em of 14px")
	loginPNG, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "debug-login.png"), loginPNG, 0o644))
	require.NoError(t, chromedp.Do(bctx,
		chromedp.SendKeys(chromedp.ID("token"), token),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#monitor[data-live]`)),
	))
	_, err = demo.RunScenario(ctx, srv.URL(), secret, io.Discard)
	require.NoError(t, err)

	require.NoError(t, chromedp.Do(bctx, chromedp.WaitVisible(chromedp.CSS(`#monitor tr.publish[data-topic="thread.message_posting"]`))))
	rows, err := chromedp.Run(bctx, chromedp.Evaluate[[]monitorRow](readMonitor))
	require.NoError(t, err)
	require.NotEmpty(t, rows)
	checkMonitor(t, rows)
	// Payloads: what thread.message_posting opted in to (the message's
	// kind and thread, never its body); nothing of a topic that did not.
	payload, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector('#monitor tr.publish[data-topic="thread.message_posting"] .payload').textContent`))
	require.NoError(t, err)
	assert.Contains(t, payload, "chat.message.kind=")
	assert.Contains(t, payload, "chat.thread.id=")
	others, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll('#monitor tr.publish[data-topic="operator.authenticate"] .payload').length`))
	require.NoError(t, err)
	assert.Zero(t, others, "operator.authenticate did not opt in")

	// The screenshot shows the first publish that has a nested one.
	require.NoError(t, chromedp.Do(bctx, chromedp.Evaluate[chromedp.Void](`document.querySelector("#monitor tr.publish.depth-1").closest("tbody").scrollIntoView()`)))
	png, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "debug-monitor.png"), png, 0o644))

	// Filter by topic: only the groups that involve it stay visible.
	require.NoError(t, chromedp.Do(bctx, chromedp.SendKeys(chromedp.ID("filter"), "operator.authenticate")))
	visible, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#monitor tbody.group:not([hidden]) tr.publish.depth-0")).map(r => r.dataset.topic)`))
	require.NoError(t, err)
	require.NotEmpty(t, visible)
	for _, v := range visible {
		assert.Equal(t, "operator.authenticate", v)
	}
	// Clear empties it.
	require.NoError(t, chromedp.Do(bctx, chromedp.Click(chromedp.ID("clear"))))
	groups, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("#monitor tbody.group").length`))
	require.NoError(t, err)
	assert.Zero(t, groups)

	// Pause holds what arrives; Resume shows it.
	require.NoError(t, chromedp.Do(bctx,
		chromedp.Evaluate[chromedp.Void](`(f => { f.value = ""; f.dispatchEvent(new Event("input")) })(document.getElementById("filter"))`),
		chromedp.Click(chromedp.ID("pause")),
	))
	res, err := http.Post(srv.URL()+"/visitors", "application/json", strings.NewReader(`{"user_id":"paused","name":"P"}`))
	require.NoError(t, err)
	res.Body.Close()
	held, err := chromedp.Run(bctx, chromedp.Poll[string](`(t => t.startsWith("paused: ") && t)(document.getElementById("status").textContent)`))
	require.NoError(t, err)
	assert.Contains(t, held, "held")
	groups, err = chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("#monitor tbody.group").length`))
	require.NoError(t, err)
	assert.Zero(t, groups, "nothing shown while paused")
	require.NoError(t, chromedp.Do(bctx,
		chromedp.Click(chromedp.ID("pause")),
		chromedp.WaitVisible(chromedp.CSS(`#monitor tr.publish[data-topic="visitor.created"]`)),
	))

	// The catalogue: headings, tables, and keyboard use (the first Tab
	// reaches the skip link).
	require.NoError(t, chromedp.Do(bctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`article.topic`)),
	))
	h1, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("h1")))
	require.NoError(t, err)
	assert.Equal(t, "Catalogue", h1)
	topicsShown, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("article.topic").length`))
	require.NoError(t, err)
	assert.Greater(t, topicsShown, 50)
	listeners, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#topic-thread-message_posting ~ table.listeners tbody th")).map(th => th.textContent)`))
	require.NoError(t, err)
	assert.NotEmpty(t, listeners, "thread.message_posting lists its listeners")
	require.NoError(t, chromedp.Do(bctx, chromedp.KeyEvent("\t")))
	focused, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.activeElement.className`))
	require.NoError(t, err)
	assert.Equal(t, "skip", focused)
	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(base+"/#topic-thread-message_posting")))
	png, err = chromedp.Run(bctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "debug-catalog.png"), png, 0o644))

	// The graph: an SVG laid out on the server, with a box per topic.
	require.NoError(t, chromedp.Do(bctx,
		chromedp.Navigate(base+"/graph"),
		chromedp.WaitVisible(chromedp.CSS(`svg.graph`)),
	))
	nodes, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("svg.graph .node.topic").length`))
	require.NoError(t, err)
	assert.Greater(t, nodes, 20)
	width, err := chromedp.Run(bctx, chromedp.Evaluate[float64](`document.querySelector("svg.graph").getBBox().width`))
	require.NoError(t, err)
	assert.Greater(t, width, 600.0)
	png, err = chromedp.Run(bctx, chromedp.Screenshot(chromedp.CSS(`figure.graph-frame`)))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "debug-graph.png"), png, 0o644))

	// Log out: the session ends, and the page asks for the token again.
	require.NoError(t, chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS(`form.logout button`)),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("token")),
	))
}

// checkMonitor checks what the monitor showed of the scenario: in every
// publish, handlers in dispatch order (ranks ascending); outcomes among
// those the page knows; a refused message as an error; a nested publish
// indented under a handler.
func checkMonitor(t *testing.T, rows []monitorRow) {
	t.Helper()
	known := []string{"ok", "error", "stopped", "panic", "filtered out"}
	nested, failed := false, false
	var ranks []int
	last := monitorRow{Group: -1}
	for _, r := range rows {
		if r.Group != last.Group || r.Kind == "publish" || r.Depth != last.Depth {
			assert.True(t, slices.IsSorted(ranks), "handlers in dispatch order: ranks %v in %+v", ranks, last)
			ranks = nil
		}
		if r.Kind == "call" {
			var n int
			_, _ = fmtSscan(r.Rank, &n)
			ranks = append(ranks, n)
			outcome, _, _ := cutColon(r.Outcome)
			assert.Contains(t, known, outcome, r.Outcome)
			failed = failed || outcome == "error"
		}
		if r.Kind == "publish" && r.Depth > 0 {
			nested = true
		}
		last = r
	}
	assert.True(t, nested, "a publish made by a handler shows nested")
	assert.True(t, failed, "the scenario's refused message shows as an error")
}

func fmtSscan(s string, n *int) (int, error) { return fmt.Sscan(s, n) }

func cutColon(s string) (string, string, bool) { return strings.Cut(s, ":") }
