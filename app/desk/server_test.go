package desk_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/app/desk"
	"github.com/fxbus/fxbus/app/desk/httpapi"
)

// startTimed starts a desk whose server has short timeouts.
func startTimed(t *testing.T) string {
	t.Helper()
	var srv *httpapi.Server
	_, srv, _ = startDeskWith(t, desk.Config{LogOutput: testWriter{t},
		Timeouts: desk.Timeouts{ReadHeader: 200 * time.Millisecond, Read: 300 * time.Millisecond, Idle: 300 * time.Millisecond, MaxHeaderBytes: 4 << 10}})
	return strings.TrimPrefix(srv.URL(), "http://")
}

// closedWithin reads from c until the server closes it, and fails the
// test if that takes longer than d: the server would have kept it open.
func closedWithin(t *testing.T, c net.Conn, d time.Duration) string {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(d)))
	b, err := io.ReadAll(c) // nil at EOF: the server closed it
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("the server kept the connection open for %v", d)
	}
	return string(b)
}

// A client that trickles its body is cut off at ReadTimeout.
func TestServerCutsOffASlowBody(t *testing.T) {
	addr := startTimed(t)
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	_, err = fmt.Fprintf(c, "POST /visitors HTTP/1.1\r\nHost: desk\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"user")
	require.NoError(t, err)
	got := closedWithin(t, c, 5*time.Second)
	assert.NotContains(t, got, "201 Created", "the request never completed")
}

// A client that never finishes its headers is cut off at
// ReadHeaderTimeout.
func TestServerCutsOffSlowHeaders(t *testing.T) {
	addr := startTimed(t)
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	_, err = fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: desk\r\n")
	require.NoError(t, err)
	closedWithin(t, c, 5*time.Second)
}

// An idle keep-alive connection is closed at IdleTimeout.
func TestServerClosesIdleConnections(t *testing.T) {
	addr := startTimed(t)
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	_, err = fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: desk\r\n\r\n")
	require.NoError(t, err)
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	assert.Equal(t, 200, res.StatusCode)
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	closedWithin(t, c, 5*time.Second)
}

// Headers beyond MaxHeaderBytes are refused.
func TestServerRefusesHugeHeaders(t *testing.T) {
	addr := startTimed(t)
	req, err := http.NewRequest("GET", "http://"+addr+"/healthz", nil)
	require.NoError(t, err)
	req.Header.Set("X-Big", strings.Repeat("x", 64<<10))
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	res, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, res.StatusCode)
}

// MemoryBound is the stated bound of the heap the process grows by, the
// clients' decoding and uncollected garbage included, while sixteen
// readers page through a thread of 4 MiB at once (see the README; 33 MiB
// measured): a few pages per reader. Reading the whole thread per
// request, as the desk did, would hold at least a copy of the thread and
// its JSON per reader (16 × 8 MiB, estimated), beyond the bound.
const MemoryBound = 96 << 20

// Sixteen readers page through a thread of 1,000 messages of 4 KiB (4 MiB
// stored) at once, twice each: the heap grows by a few pages per reader,
// not by copies of the whole thread.
func TestMemoryUnderConcurrentReads(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("slow, and -race changes what it measures")
	}
	var srv *httpapi.Server
	_, srv, _ = startDeskWith(t, desk.Config{LogOutput: io.Discard, Limits: desk.Limits{MaxStoreBytes: 64 << 20}})
	base := srv.URL()
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	do := func(method, path, token, body string, into any) {
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := hc.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		require.Less(t, res.StatusCode, 300, path)
		if into != nil {
			require.NoError(t, json.NewDecoder(res.Body).Decode(into))
		} else {
			_, _ = io.Copy(io.Discard, res.Body)
		}
	}
	var v httpapi.VisitorJSON
	do("POST", "/visitors", "", `{"user_id":"reader"}`, &v)
	var th httpapi.ThreadJSON
	do("POST", "/threads", v.Token, `{}`, &th)
	path := fmt.Sprintf("/threads/%d/messages", th.ID)
	body := `{"body":"` + strings.Repeat("m", 4000) + `"}`
	for range 1000 {
		do("POST", path, v.Token, body, nil)
	}

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			default:
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			runtime.Gosched()
		}
	}()
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 2 {
				after := ""
				for {
					var page httpapi.ListJSON[httpapi.MessageJSON]
					do("GET", path+"?limit=100&after="+after, v.Token, "", &page)
					if page.Next == "" {
						break
					}
					after = page.Next
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	<-sampled
	growth := int64(peak.Load()) - int64(before)
	t.Logf("heap before %d MiB, peak %d MiB, growth %d MiB (bound %d MiB)", before>>20, peak.Load()>>20, growth>>20, MemoryBound>>20)
	assert.Less(t, growth, int64(MemoryBound))
}
