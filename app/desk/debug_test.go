package desk_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/app/desk"
	"github.com/fxbus/fxbus/app/desk/httpapi"
)

// The bus's debug page is for operators: an anonymous caller gets a 401,
// a visitor or a user a 403, with nothing of the page; an operator gets
// every page.
func TestDebugPageForOperatorsOnly(t *testing.T) {
	f := newFixture(t)
	pages := []string{"/", "/graph", "/graph.svg", "/monitor", "/stats", "/events", "/static/monitor.js"}
	for _, p := range pages {
		path := httpapi.DebugPath + p
		for _, c := range []struct {
			who   string
			token string
			code  int
		}{{"anonymous", "", 401}, {"forged", "forged", 401}, {"visitor", f.alice(), 403}, {"user", f.user(), 403}} {
			w := f.do("GET", path, c.token, "")
			assert.Equal(t, c.code, w.Code, "%s %s", c.who, path)
			assert.Equal(t, "application/json", w.Header().Get("Content-Type"), "%s %s: an error, not the page", c.who, path)
			assert.NotContains(t, w.Body.String(), "fxbus debug")
		}
	}
	for _, p := range []string{"/", "/graph", "/monitor", "/stats"} {
		w := f.do("GET", httpapi.DebugPath+p, f.op(), "")
		require.Equal(t, http.StatusOK, w.Code, p)
		assert.Contains(t, w.Body.String(), "fxbus debug", p)
		assert.Contains(t, w.Header().Get("Content-Security-Policy"), "default-src 'none'", p)
	}
	// The catalogue lists the desk's topics with their field docs; the
	// statistics come from the desk's spans.
	w := f.do("GET", httpapi.DebugPath+"/", f.op(), "")
	body := w.Body.String()
	assert.True(t, strings.Contains(body, "<code>thread.message_posting</code>"), "a topic of the desk")
	assert.True(t, strings.Contains(body, "Body is the text of the message."), "a field's doc")
	w = f.do("GET", httpapi.DebugPath+"/stats", f.op(), "")
	assert.True(t, strings.Contains(w.Body.String(), "<code>operator.authenticate</code>"), "the fixture's sign-in ran a handler of operator.authenticate")
	assert.True(t, strings.Contains(w.Body.String(), "few samples"))
	// Read-only.
	w = f.do("POST", httpapi.DebugPath+"/", f.op(), "")
	assert.Equal(t, http.StatusMethodNotAllowed, w.Code)
}

// signInOverHTTP signs the operator olivia in on the desk at url and
// returns her token.
func signInOverHTTP(t *testing.T, url string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/operators/login", nil)
	require.NoError(t, err)
	req.Header = ssoHeaders("olivia")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var login httpapi.LoginJSON
	require.NoError(t, json.NewDecoder(res.Body).Decode(&login))
	return login.Token
}

// debugStream opens the monitor's stream of the desk at url, with the
// credentials auth sets, and reads its hello; it closes with the test.
func debugStream(t *testing.T, url string, auth func(*http.Request)) *bufio.Scanner {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+httpapi.DebugPath+"/events", nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/event-stream")
	auth(req)
	stream, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { _ = stream.Body.Close() })
	require.Equal(t, http.StatusOK, stream.StatusCode)
	sc := bufio.NewScanner(stream.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	require.True(t, sc.Scan())
	require.Equal(t, "event: hello", sc.Text())
	return sc
}

// bearer sets a bearer token.
func bearer(token string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
}

// awaitPublish reads the stream until a publish of topic, and returns its
// JSON and every line read up to it.
func awaitPublish(t *testing.T, sc *bufio.Scanner, topic string) (data string, read []string) {
	t.Helper()
	for sc.Scan() {
		line := sc.Text()
		read = append(read, line)
		if strings.HasPrefix(line, "data: ") && strings.Contains(line, `"topic":"`+topic+`"`) {
			return strings.TrimPrefix(line, "data: "), read
		}
	}
	t.Fatalf("the stream ended before %s: %v", topic, sc.Err())
	return "", nil
}

// The monitor's stream, through the desk's server (otelhttp and all),
// outlives the server's WriteTimeout and delivers what is published.
func TestDebugStreamOutlivesWriteTimeout(t *testing.T) {
	_, srv, _ := startDeskWith(t, desk.Config{LogOutput: testWriter{t}, Timeouts: desk.Timeouts{Write: 300 * time.Millisecond}}, fakeModules())
	sc := debugStream(t, srv.URL(), bearer(signInOverHTTP(t, srv.URL())))

	time.Sleep(600 * time.Millisecond) // past the WriteTimeout: what is tested is the passing of time
	res, err := http.Post(srv.URL()+"/visitors", "application/json", strings.NewReader(`{"user_id":"zoe","name":"Zoe"}`))
	require.NoError(t, err)
	res.Body.Close()
	awaitPublish(t, sc, "visitor.created")
}

// Through the desk's API: the monitor shows what thread.message_posting
// opted in to (the thread and the kind of the message), never the
// message's body; with FXBUS_TRACE_URL, each publish links its trace.
func TestDebugStreamThroughTheDesk(t *testing.T) {
	t.Setenv(httpapi.EnvTraceURL, "http://jaeger.example/trace/{trace_id}")
	f := newFixture(t)
	srv := httptest.NewServer(f.h)
	t.Cleanup(srv.Close)
	sc := debugStream(t, srv.URL, bearer(f.op()))

	const body = "my card is 4111 1111 1111 1111"
	w := f.do("POST", "/threads/"+itoa(f.thread)+"/messages", f.alice(), `{"body":"`+body+`"}`)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	data, read := awaitPublish(t, sc, "thread.message_posting")
	assert.NotContains(t, strings.Join(read, "\n"), "4111", "no message body on the page")
	var p struct {
		Trace, TraceURL string
		Payload         []struct{ Key, Value string }
	}
	require.NoError(t, json.Unmarshal([]byte(data), &p))
	assert.Contains(t, p.Payload, struct{ Key, Value string }{"chat.thread.id", itoa(f.thread)})
	assert.Contains(t, p.Payload, struct{ Key, Value string }{"chat.message.kind", "user"})
	require.NotEmpty(t, p.Trace)
	assert.Equal(t, "http://jaeger.example/trace/"+p.Trace, p.TraceURL)
}
