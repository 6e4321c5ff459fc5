package demo

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"

	"go.uber.org/fx"

	"github.com/fxbus/fxbus/modules/webhooks"

	"github.com/fxbus/fxbus/app/desk"
	"github.com/fxbus/fxbus/app/desk/httpapi"
)

// Delivery is one webhook call received, its signature verified
// (webhooks.VerifyRequest): the body the webhooks module posts,
// {"topic": ..., "event": ...}.
type Delivery struct {
	// Topic is the name of the topic the event was published on.
	Topic string `json:"topic"`
	// Event is the event's payload, as the module encoded it.
	Event json.RawMessage `json:"event"`
}

// WebhookReceiver is a local HTTP endpoint, on the loopback interface,
// that records the webhooks posted to it. The demo points the webhooks
// module's endpoint at it, to show that a plugin with filter rules
// receives only what its rules let through. It is safe for use by any
// number of goroutines.
type WebhookReceiver struct {
	srv    *httptest.Server
	secret []byte

	mu       sync.Mutex
	got      []Delivery
	refused  int
	seen     map[string]bool // delivery ids
	replayed int
}

// NewWebhookReceiver starts a receiver, and closes it when the app stops:
// after the webhooks module, which is built after it, has drained its
// deliveries. What it received stays readable after.
func NewWebhookReceiver(lc fx.Lifecycle) *WebhookReceiver {
	r := &WebhookReceiver{secret: NewSSOSecret(), seen: map[string]bool{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.receive))
	lc.Append(fx.StopHook(r.Close))
	return r
}

func (r *WebhookReceiver) receive(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "POST only")
		return
	}
	body, err := webhooks.VerifyRequest(req, r.secret, desk.DefaultLimits.MaxBodyBytes, 0)
	if err != nil {
		r.mu.Lock()
		r.refused++
		r.mu.Unlock()
		writeError(w, http.StatusUnauthorized, err.Error())
		return
	}
	var d Delivery
	if err := json.Unmarshal(body, &d); err != nil || d.Topic == "" {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("want {\"topic\": ..., \"event\": ...}: %v", err))
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if id := req.Header.Get(webhooks.HeaderDelivery); r.seen[id] {
		r.replayed++ // a retry of a delivery already received: answered, not recorded twice
	} else {
		r.seen[id] = true
		r.got = append(r.got, d)
	}
	w.WriteHeader(http.StatusNoContent)
}

// Secret returns the secret with which the webhooks module signs what it
// posts to the receiver; the receiver refuses what it does not sign.
func (r *WebhookReceiver) Secret() []byte { return r.secret }

// Refused returns how many posts the receiver refused for a bad
// signature.
func (r *WebhookReceiver) Refused() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.refused
}

// URL returns the URL to post webhooks to.
func (r *WebhookReceiver) URL() string { return r.srv.URL }

// Deliveries returns what the receiver got so far, in order of arrival.
func (r *WebhookReceiver) Deliveries() []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// Close stops the receiver, waiting for the calls in progress.
func (r *WebhookReceiver) Close() { r.srv.Close() }

// PrintDeliveries writes one line about what a webhook receiver got: how
// many calls, and on which topics.
func PrintDeliveries(w io.Writer, ds []Delivery) error {
	count := map[string]int{}
	var order []string
	for _, d := range ds {
		if count[d.Topic] == 0 {
			order = append(order, d.Topic)
		}
		count[d.Topic]++
	}
	parts := make([]string, len(order))
	for i, t := range order {
		parts[i] = fmt.Sprintf("%s ×%d", t, count[t])
	}
	what := "nothing (no webhooks module, or no rule passed an event)"
	if len(ds) > 0 {
		what = strings.Join(parts, ", ")
	}
	_, err := fmt.Fprintf(w, "webhook receiver got %d call(s): %s\n", len(ds), what)
	return err
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(httpapi.ErrorJSON{Error: msg})
}
