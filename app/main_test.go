package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestDemo(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(nil, &stdout, &stderr)
	out := stdout.String()
	t.Log("\n" + out)
	require.Equal(t, 0, code, "stderr: %s", stderr.String())
	assert.Regexp(t, `^fxbus desk on http://127\.0\.0\.1:\d+ `, out)
	assert.Contains(t, out, "single sign-on secret: generated for this run only")
	assert.Regexp(t, `operator signs in \(SSO\)\s+POST /operators/login\s+→ 200`, out)
	assert.Regexp(t, `operator SSO, replayed\s+POST /operators/login\s+→ 401 .*a replay`, out)
	assert.Contains(t, out, "visitor alice arrives")
	assert.Contains(t, out, "chat closed")
	assert.Contains(t, out, "webhook receiver got")
	assert.Regexp(t, `\d+ spans recorded \(0 dropped\)`, out)
	assert.Regexp(t, `TOPIC\s+LISTENER\s+RANK\s+CALLS\s+ERRORS\s+MEDIAN\s+MAX\s+P99`, out)
	assert.Regexp(t, `operator\.authenticate\s+sso\.NewAuthenticate\s+0\s+3\s+2 refused`, out, "the forged and the replayed sign-ins read as meant")
	assert.Regexp(t, `\n 4 operator SSO, forged\s+401 refused\s+[0-9a-f]{32}\s+operator\.authenticate\n`, out, "a step links to its trace and topics")
	assert.Contains(t, out, "(hook)       a hook's calls")
	for _, topic := range []string{"thread.message_posting", "visitor.created", "object.created", "operator.authenticate", "cron.run"} {
		assert.Regexp(t, regexp.QuoteMeta(topic)+`\s+\(publish\)\s+\d+`, out)
	}
	assert.Regexp(t, `data\.create\s+\(hook\)\s+3\s+0`, out)
}

// lines is an io.Writer that a test can wait on for a line to appear.
type lines struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	event chan struct{}
}

func newLines() *lines { return &lines{event: make(chan struct{}, 1)} }

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := l.buf.Write(p)
	select {
	case l.event <- struct{}{}:
	default:
	}
	return n, err
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// await waits for a match of re in what was written, until timeout.
func (l *lines) await(t *testing.T, re *regexp.Regexp, timeout time.Duration) []string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		if m := re.FindStringSubmatch(l.String()); m != nil {
			return m
		}
		select {
		case <-l.event:
		case <-deadline:
			t.Fatalf("no %q within %v in:\n%s", re, timeout, l.String())
		}
	}
}

var serving = regexp.MustCompile(`serving on (http://\S+) `)

// startServe runs serve mode in a goroutine until it is ready, and returns
// its URL and the channel of its exit status.
func startServe(ctx context.Context, t *testing.T, stdout, stderr *lines) (string, <-chan int) {
	t.Helper()
	t.Setenv(EnvSSOSecret, strings.Repeat("s", 32))
	code := make(chan int, 1)
	go func() { code <- runContext(ctx, []string{"serve", "-addr", "127.0.0.1:0"}, stdout, stderr) }()
	url := stdout.await(t, serving, 10*time.Second)[1]

	res, err := http.Get(url + "/healthz")
	require.NoError(t, err)
	defer res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	http.DefaultClient.CloseIdleConnections()
	return url, code
}

func waitCode(t *testing.T, code <-chan int) int {
	t.Helper()
	select {
	case c := <-code:
		return c
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
		return -1
	}
}

func TestServeStopsWithItsContext(t *testing.T) {
	stdout, stderr := newLines(), newLines()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url, code := startServe(ctx, t, stdout, stderr)
	cancel()
	require.Equal(t, 0, waitCode(t, code), stderr.String())
	assert.Contains(t, stdout.String(), "stopping: context canceled")
	assert.Contains(t, stdout.String(), "spans recorded")
	_, err := http.Get(url + "/healthz")
	assert.Error(t, err, "the server is down")
}

func TestServeStopsOnSIGTERM(t *testing.T) {
	stdout, stderr := newLines(), newLines()
	_, code := startServe(context.Background(), t, stdout, stderr)
	require.NoError(t, syscall.Kill(syscall.Getpid(), syscall.SIGTERM))
	require.Equal(t, 0, waitCode(t, code), stderr.String())
	assert.Contains(t, stdout.String(), "stopping: terminated")
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args   []string
		env    string // $FXBUS_SSO_SECRET
		code   int
		stdout string
		stderr string
	}{
		{args: []string{"bogus"}, code: 2, stderr: `unknown command "bogus"`},
		{args: []string{"-x"}, code: 2, stderr: `unknown command "-x"`},
		{args: []string{"serve", "-bogus"}, code: 2, stderr: "flag provided but not defined: -bogus"},
		{args: []string{"serve", "-addr"}, code: 2, stderr: "flag needs an argument: -addr"},
		{args: []string{"serve", "extra"}, code: 2, stderr: `unexpected arguments ["extra"]`},
		{args: []string{"demo", "extra"}, code: 2, stderr: `unexpected arguments ["extra"]`},
		{args: []string{"serve", "-addr", "256.0.0.1:1"}, env: strings.Repeat("s", 32), code: 1, stderr: "desk: listen"},
		{args: []string{"serve"}, code: 1, stderr: "no single sign-on secret: set $FXBUS_SSO_SECRET, or -sso-secret-file"},
		{args: []string{"serve"}, env: "short", code: 1, stderr: "the single sign-on secret in $FXBUS_SSO_SECRET has 5 bytes; it needs 32 or more"},
		{args: []string{"serve", "-sso-secret-file", "/nonexistent"}, env: strings.Repeat("s", 32), code: 1, stderr: "-sso-secret-file: open /nonexistent"},
		{args: []string{"help"}, code: 0, stdout: "usage:"},
		{args: []string{"-h"}, code: 0, stdout: "usage:"},
		{args: []string{"serve", "-h"}, code: 0, stderr: "usage:"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " ")+" "+tt.env, func(t *testing.T) {
			t.Setenv(EnvSSOSecret, tt.env)
			var stdout, stderr bytes.Buffer
			assert.Equal(t, tt.code, run(tt.args, &stdout, &stderr))
			assert.Contains(t, stdout.String(), tt.stdout)
			assert.Contains(t, stderr.String(), tt.stderr)
			if tt.code == 2 {
				assert.Contains(t, stderr.String(), "usage:")
				assert.Empty(t, stdout.String())
			}
		})
	}
}

// A failed export says, in the summary, how many spans were lost, and
// makes the command exit non-zero.
func TestDemoLostSpans(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusBadRequest) // not retryable
	}))
	defer ts.Close()
	t.Setenv("OTEL_TRACES_EXPORTER", "otlp")
	t.Setenv("OTEL_METRICS_EXPORTER", "none")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", ts.URL)
	var stdout, stderr bytes.Buffer
	code := run(nil, &stdout, &stderr)
	assert.Equal(t, 1, code)
	assert.Regexp(t, `\n(\d+) of (\d+) spans LOST: the export to otlp http/protobuf to `+regexp.QuoteMeta(ts.URL)+` failed: .*400`, stdout.String())
	assert.Contains(t, stderr.String(), "spans not exported")
}

// The secret comes from the file, trailing newline trimmed, before the
// environment.
func TestSSOSecretFromFile(t *testing.T) {
	t.Setenv(EnvSSOSecret, strings.Repeat("e", 32))
	file := t.TempDir() + "/sso"
	require.NoError(t, os.WriteFile(file, []byte(strings.Repeat("f", 40)+"\n"), 0o600))
	got, err := ssoSecret(file)
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("f", 40), string(got))
	got, err = ssoSecret("")
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("e", 32), string(got))
	require.NoError(t, os.WriteFile(file, []byte("short\n"), 0o600))
	_, err = ssoSecret(file)
	assert.ErrorContains(t, err, "has 5 bytes; it needs 32 or more")
}
