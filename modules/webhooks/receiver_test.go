package webhooks_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/modules/webhooks"
)

// testSecret signs the tests' deliveries.
var testSecret = []byte("the-webhook-tests-secret")

// delivery is one request the receiver got.
type delivery struct {
	Endpoint    string // the request's path, without the slash: the endpoint's name in these tests
	Method      string
	ContentType string
	Topic       string
	Event       json.RawMessage
	ID          string // Fxbus-Delivery
	Verified    error  // of the signature, under testSecret
}

// receiver is an HTTP server on loopback that records what webhooks POST
// to it.
type receiver struct {
	srv *httptest.Server

	// arrived gets each delivery as its request arrives, before the
	// handler waits on gate.
	arrived chan delivery
	// gate, when not nil, holds each request until it is closed, or the
	// request is cancelled.
	gate chan struct{}
	// status is the status to answer with; 204 when zero.
	status int
	// answers, when not nil, gives the status of the next answers, before
	// status.
	answers chan int

	mu  sync.Mutex
	got []delivery
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{arrived: make(chan delivery, 1000)}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

// gated makes the receiver hold requests until release.
func (r *receiver) gated() *receiver {
	r.gate = make(chan struct{})
	return r
}

func (r *receiver) release() { close(r.gate) }

func (r *receiver) url(endpoint string) string { return r.srv.URL + "/" + endpoint }

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	var env struct {
		Topic string          `json:"topic"`
		Event json.RawMessage `json:"event"`
	}
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&env); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	d := delivery{
		Endpoint:    strings.TrimPrefix(req.URL.Path, "/"),
		Method:      req.Method,
		ContentType: req.Header.Get("Content-Type"),
		Topic:       env.Topic,
		Event:       env.Event,
		ID:          req.Header.Get(webhooks.HeaderDelivery),
		Verified:    webhooks.Verify(testSecret, body, req.Header.Get(webhooks.HeaderSignature), 0, time.Now()),
	}
	r.arrived <- d
	if r.gate != nil {
		select {
		case <-r.gate:
		case <-req.Context().Done():
			return
		}
	}
	status := r.status
	if r.answers != nil {
		select {
		case status = <-r.answers:
		default:
		}
	}
	if status != 0 && status != http.StatusNoContent {
		http.Error(w, "no", status)
		return
	}
	r.mu.Lock()
	r.got = append(r.got, d)
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// topics returns the topics of what the endpoint received and answered
// with a 2xx, in order.
func (r *receiver) topics(endpoint string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ts []string
	for _, d := range r.got {
		if d.Endpoint == endpoint {
			ts = append(ts, d.Topic)
		}
	}
	return ts
}

// events returns what the endpoint received of topic, decoded into T.
func events[T any](t *testing.T, r *receiver, endpoint, topic string) []T {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var es []T
	for _, d := range r.got {
		if d.Endpoint == endpoint && d.Topic == topic {
			var e T
			require.NoError(t, json.Unmarshal(d.Event, &e))
			es = append(es, e)
		}
	}
	return es
}

// await returns the next delivery to arrive, failing the test after a
// while.
func (r *receiver) await(t *testing.T) delivery {
	t.Helper()
	select {
	case d := <-r.arrived:
		return d
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery arrived")
		return delivery{}
	}
}

// syncBuffer is a log destination safe for the workers' goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
