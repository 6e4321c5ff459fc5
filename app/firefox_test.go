package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/app/demo"
	"github.com/fxbus/fxbus/app/desk/httpapi"
)

// firefox returns the path of a Firefox to drive, or skips the test.
func firefox(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("FXBUS_FIREFOX"); p != "" {
		return p
	}
	for _, name := range []string{"firefox-esr", "firefox"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Firefox to drive: install Debian's firefox-esr package (.ci/run does), or set FXBUS_FIREFOX to a Firefox binary")
	return ""
}

// firefoxPrefs make a headless Firefox quiet: Marionette on port, and no
// traffic but to the loopback: every other HTTP(S) request goes to a
// proxy on 127.0.0.1 that is not there, and the services that phone home
// are off.
const firefoxPrefs = `user_pref("marionette.port", %d);
user_pref("network.proxy.type", 1);
user_pref("network.proxy.http", "127.0.0.1");
user_pref("network.proxy.http_port", 9);
user_pref("network.proxy.ssl", "127.0.0.1");
user_pref("network.proxy.ssl_port", 9);
user_pref("network.proxy.no_proxies_on", "127.0.0.1,localhost");
user_pref("network.proxy.allow_hijacking_localhost", false);
user_pref("network.trr.mode", 5);
user_pref("network.dns.disablePrefetch", true);
user_pref("network.prefetch-next", false);
user_pref("network.http.speculative-parallel-limit", 0);
user_pref("network.captive-portal-service.enabled", false);
user_pref("network.connectivity-service.enabled", false);
user_pref("app.update.auto", false);
user_pref("app.normandy.enabled", false);
user_pref("browser.safebrowsing.malware.enabled", false);
user_pref("browser.safebrowsing.phishing.enabled", false);
user_pref("browser.safebrowsing.downloads.enabled", false);
user_pref("browser.safebrowsing.blockedURIs.enabled", false);
user_pref("browser.safebrowsing.provider.mozilla.updateURL", "");
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("browser.startup.page", 0);
user_pref("browser.newtabpage.enabled", false);
user_pref("browser.ping-centre.telemetry", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("datareporting.healthreport.uploadEnabled", false);
user_pref("toolkit.telemetry.enabled", false);
user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);
user_pref("extensions.update.enabled", false);
user_pref("extensions.getAddons.cache.enabled", false);
user_pref("extensions.blocklist.enabled", false);
user_pref("services.settings.server", "http://127.0.0.1:9/");
user_pref("media.gmp-manager.url", "http://127.0.0.1:9/");
user_pref("geo.enabled", false);
`

// marionette is a test's client of Firefox's Marionette protocol: each
// message is its JSON's length in decimal, a colon, and the JSON; a
// command is [0, id, name, params], its answer [1, id, error, result].
type marionette struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
	id   int
}

// startFirefox starts a headless Firefox with a fresh profile and returns
// a Marionette session of it. The browser ends with the test.
func startFirefox(t *testing.T, ctx context.Context) *marionette {
	t.Helper()
	bin := firefox(t)
	profile := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	require.NoError(t, os.WriteFile(filepath.Join(profile, "user.js"), fmt.Appendf(nil, firefoxPrefs, port), 0o644))

	out := newLines()
	cmd := exec.Command(bin, "--headless", "--marionette", "--no-remote", "--profile", profile)
	cmd.Env = append(os.Environ(), "MOZ_HEADLESS=1", "HOME="+profile, "MOZ_CRASHREPORTER_DISABLE=1")
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its content processes end with it
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	var m *marionette
	t.Cleanup(func() {
		if m != nil {
			m.quit()
		}
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	})

	// Marionette listens once Firefox has started: dial until then.
	var conn net.Conn
	for conn == nil {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", "127.0.0.1:"+strconv.Itoa(port))
		switch {
		case err == nil:
			conn = c
		case ctx.Err() != nil:
			t.Fatalf("Firefox's Marionette never listened on port %d: %v\n%s", port, err, out.String())
		default:
			select {
			case <-exited:
				t.Fatalf("Firefox exited: %v\n%s", cmd.ProcessState, out.String())
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	if dl, ok := ctx.Deadline(); ok {
		require.NoError(t, conn.SetDeadline(dl))
	}
	m = &marionette{t: t, conn: conn, r: bufio.NewReader(conn)}
	var hello struct {
		ApplicationType    string `json:"applicationType"`
		MarionetteProtocol int    `json:"marionetteProtocol"`
	}
	require.NoError(t, json.Unmarshal(m.read(), &hello))
	require.Equal(t, "gecko", hello.ApplicationType)
	require.Equal(t, 3, hello.MarionetteProtocol)
	m.call("WebDriver:NewSession", map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{"acceptInsecureCerts": false}}})
	m.call("WebDriver:SetTimeouts", map[string]any{"script": 20_000, "pageLoad": 20_000, "implicit": 0})
	m.call("WebDriver:SetWindowRect", map[string]any{"width": 1360, "height": 900})
	return m
}

// read reads one message.
func (m *marionette) read() []byte {
	m.t.Helper()
	n, err := m.r.ReadString(':')
	require.NoError(m.t, err)
	size, err := strconv.Atoi(strings.TrimSuffix(n, ":"))
	require.NoError(m.t, err, "a Marionette message's length")
	b := make([]byte, size)
	_, err = io.ReadFull(m.r, b)
	require.NoError(m.t, err)
	return b
}

// errMarionette is an error a Marionette command answers.
var errMarionette = errors.New("marionette")

// try sends a command and returns its result, or its error.
func (m *marionette) try(name string, params any) (json.RawMessage, error) {
	m.t.Helper()
	m.id++
	cmd, err := json.Marshal([]any{0, m.id, name, params})
	require.NoError(m.t, err)
	_, err = fmt.Fprintf(m.conn, "%d:%s", len(cmd), cmd)
	require.NoError(m.t, err)
	for {
		var answer []json.RawMessage
		require.NoError(m.t, json.Unmarshal(m.read(), &answer))
		require.Len(m.t, answer, 4)
		var kind, id int
		require.NoError(m.t, json.Unmarshal(answer[0], &kind))
		require.NoError(m.t, json.Unmarshal(answer[1], &id))
		if kind != 1 || id != m.id {
			continue // not the answer to this command
		}
		if string(answer[2]) != "null" {
			return nil, fmt.Errorf("%w: %s: %s", errMarionette, name, answer[2])
		}
		return answer[3], nil
	}
}

// call sends a command and returns its result; an error fails the test.
func (m *marionette) call(name string, params any) json.RawMessage {
	m.t.Helper()
	res, err := m.try(name, params)
	require.NoError(m.t, err)
	return res
}

// eval runs script (a function body: "return ...") in the page, with args,
// and decodes its value into into.
func (m *marionette) eval(into any, script string, args ...any) {
	m.t.Helper()
	if args == nil {
		args = []any{}
	}
	var res struct{ Value json.RawMessage }
	require.NoError(m.t, json.Unmarshal(m.call("WebDriver:ExecuteScript", map[string]any{"script": script, "args": args}), &res))
	if into != nil {
		require.NoError(m.t, json.Unmarshal(res.Value, into), "%s", res.Value)
	}
}

// wait waits, in the page, until selector matches an element: no polling
// from the test, the page's own timers do it, bounded by the session's
// script timeout.
func (m *marionette) wait(selector string) {
	m.t.Helper()
	_, err := m.try("WebDriver:ExecuteAsyncScript", map[string]any{"script": `const [sel, done] = arguments;
		(function check() { if (document.querySelector(sel)) done(true); else setTimeout(check, 25); })();`, "args": []any{selector}})
	require.NoError(m.t, err, "waiting for %s", selector)
}

// until waits, in the page, until the JavaScript expression cond is true,
// as wait does for a selector.
func (m *marionette) until(cond string) {
	m.t.Helper()
	_, err := m.try("WebDriver:ExecuteAsyncScript", map[string]any{"script": `const done = arguments[0];
		(function check() { if (` + cond + `) done(true); else setTimeout(check, 25); })();`, "args": []any{}})
	require.NoError(m.t, err, "waiting for %s", cond)
}

// click clicks the element selector matches; typeInto types text into it.
func (m *marionette) click(selector string) {
	m.t.Helper()
	m.call("WebDriver:ElementClick", map[string]any{"id": m.element(selector)})
}

func (m *marionette) typeInto(selector, text string) {
	m.t.Helper()
	m.call("WebDriver:ElementSendKeys", map[string]any{"id": m.element(selector), "text": text})
}

// tab presses the Tab key.
func (m *marionette) tab() {
	m.t.Helper()
	m.call("WebDriver:PerformActions", map[string]any{"actions": []any{map[string]any{
		"type": "key", "id": "keyboard",
		"actions": []any{map[string]any{"type": "keyDown", "value": "\uE004"}, map[string]any{"type": "keyUp", "value": "\uE004"}},
	}}})
	m.call("WebDriver:ReleaseActions", map[string]any{})
}

func (m *marionette) navigate(url string) {
	m.t.Helper()
	m.call("WebDriver:Navigate", map[string]any{"url": url})
}

// element returns the id of the element selector matches.
func (m *marionette) element(selector string) string {
	m.t.Helper()
	var res struct {
		Value map[string]string
	}
	require.NoError(m.t, json.Unmarshal(m.call("WebDriver:FindElement", map[string]any{"using": "css selector", "value": selector}), &res))
	for _, id := range res.Value {
		return id
	}
	m.t.Fatalf("no element %s", selector)
	return ""
}

func (m *marionette) screenshot(path string) {
	m.t.Helper()
	var res struct{ Value string }
	require.NoError(m.t, json.Unmarshal(m.call("WebDriver:TakeScreenshot", map[string]any{"full": false}), &res))
	png, err := base64.StdEncoding.DecodeString(res.Value)
	require.NoError(m.t, err)
	require.NoError(m.t, os.WriteFile(path, png, 0o644))
}

// quit ends the session and the browser.
func (m *marionette) quit() {
	_, _ = m.try("Marionette:Quit", map[string]any{"flags": []string{"eForceQuit"}})
	_ = m.conn.Close()
}

// The debug page in Firefox, driven through Marionette: an operator signs
// in through the form, the monitor shows the scenario's publishes with
// their handlers in dispatch order and their outcomes, and the payloads
// of opted-in topics only; filter, clear, pause and resume work; the
// catalogue takes the keyboard (Tab reaches the skip link), and it and the
// graph render: the checks of TestDebugPageInABrowser, in Firefox.
func TestDebugPageInFirefox(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ff := startFirefox(t, ctx)
	dir := screenshotDir(t)

	srv, secret, token := startDemo(t, ctx)
	base := srv.URL() + httpapi.DebugPath

	// Anonymous: the login form; the operator signs in and lands on the
	// monitor.
	ff.navigate(base + "/monitor")
	var heading string
	ff.eval(&heading, `return document.querySelector("h1").textContent`)
	assert.Contains(t, heading, "operators only")
	ff.typeInto("#token", token)
	ff.click(`form button[type=submit]`)
	ff.wait(`#monitor[data-live]`)

	_, err := demo.RunScenario(ctx, srv.URL(), secret, io.Discard)
	require.NoError(t, err)
	ff.wait(`#monitor tr.publish[data-topic="thread.message_posting"]`)
	var rows []monitorRow
	ff.eval(&rows, "return "+readMonitor)
	require.NotEmpty(t, rows)
	checkMonitor(t, rows)
	var payload string
	ff.eval(&payload, `return document.querySelector('#monitor tr.publish[data-topic="thread.message_posting"] .payload').textContent`)
	assert.Contains(t, payload, "chat.thread.id=")
	var others int
	ff.eval(&others, `return document.querySelectorAll('#monitor tr.publish[data-topic="operator.authenticate"] .payload').length`)
	assert.Zero(t, others, "operator.authenticate did not opt in")
	ff.eval(nil, `document.querySelector("#monitor tr.publish.depth-1").closest("tbody").scrollIntoView()`)
	ff.screenshot(filepath.Join(dir, "debug-monitor-firefox.png"))

	// Filter by topic: only the groups that involve it stay visible.
	ff.typeInto("#filter", "operator.authenticate")
	var visible []string
	ff.eval(&visible, `return Array.from(document.querySelectorAll("#monitor tbody.group:not([hidden]) tr.publish.depth-0")).map(r => r.dataset.topic)`)
	require.NotEmpty(t, visible)
	for _, v := range visible {
		assert.Equal(t, "operator.authenticate", v)
	}
	// Clear empties it.
	ff.click("#clear")
	var groups int
	ff.eval(&groups, `return document.querySelectorAll("#monitor tbody.group").length`)
	assert.Zero(t, groups)
	// Pause holds what arrives; Resume shows it.
	ff.eval(nil, `(f => { f.value = ""; f.dispatchEvent(new Event("input")) })(document.getElementById("filter"))`)
	ff.click("#pause")
	res, err := http.Post(srv.URL()+"/visitors", "application/json", strings.NewReader(`{"user_id":"paused","name":"P"}`))
	require.NoError(t, err)
	res.Body.Close()
	ff.until(`document.getElementById("status").textContent.startsWith("paused: ")`)
	var status string
	ff.eval(&status, `return document.getElementById("status").textContent`)
	assert.Contains(t, status, "held")
	ff.eval(&groups, `return document.querySelectorAll("#monitor tbody.group").length`)
	assert.Zero(t, groups, "nothing shown while paused")
	ff.click("#pause")
	ff.wait(`#monitor tr.publish[data-topic="visitor.created"]`)

	// The catalogue and the graph; keyboard use (the first Tab reaches
	// the skip link).
	ff.navigate(base + "/")
	ff.eval(&heading, `return document.querySelector("h1").textContent`)
	assert.Equal(t, "Catalogue", heading)
	ff.tab()
	var focused string
	ff.eval(&focused, `return document.activeElement.className`)
	assert.Equal(t, "skip", focused)
	var topicsShown int
	ff.eval(&topicsShown, `return document.querySelectorAll("article.topic").length`)
	assert.Greater(t, topicsShown, 50)
	ff.navigate(base + "/graph")
	var nodes int
	ff.eval(&nodes, `return document.querySelectorAll("svg.graph .node.topic").length`)
	assert.Greater(t, nodes, 20)
	var width float64
	ff.eval(&width, `return document.querySelector("svg.graph").getBBox().width`)
	assert.Greater(t, width, 600.0)
	ff.screenshot(filepath.Join(dir, "debug-graph-firefox.png"))
}
