package webhooks

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/fx"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/plugin"
	"github.com/fxbus/fxbus/bus/rules"
	"github.com/fxbus/fxbus/topics"
)

// Rank is the rank of the endpoints' listeners: after the other modules'
// listeners, so that an endpoint receives an event as they left it.
const Rank = 1000

// PluginPrefix starts the name of each endpoint's plugin:
// "webhooks/<Name>".
const PluginPrefix = "webhooks/"

// Module provides the [*Webhooks] of the [Config] in the container, if any,
// and its [*Stats]; it fails the app's start for a mistake in the config
// (a [*ConfigError]). It starts the endpoints when the app starts and
// drains them when it stops (see [Register]).
var Module = fx.Module("webhooks",
	fx.Provide(New, NewStats),
	fx.Invoke(Register),
)

// Params are the dependencies of [New].
type Params struct {
	fx.In

	// Config is optional: without it, there is no endpoint.
	Config Config `optional:"true"`
	// Logger is optional: slog.Default() without it.
	Logger *slog.Logger `optional:"true"`
}

// Webhooks delivers events to the configured endpoints. Make it with
// [New], then [Webhooks.Start] it on a bus and [Webhooks.Stop] it.
type Webhooks struct {
	endpoints   []*endpoint
	stats       *Stats
	log         *slog.Logger
	drain       time.Duration
	attempts    int
	backoff     time.Duration
	logInterval time.Duration
	transport   *http.Transport
	client      *http.Client

	mu      sync.Mutex
	started bool
	stopped bool
}

// envelope is the body of a delivery.
type envelope struct {
	Topic string `json:"topic"`
	Event any    `json:"event"`
}

// New checks the config and compiles it: it resolves each rule's topic by
// name, once, against [topics.All], compiles its Where into typed
// predicates over the topic's payload, and builds each endpoint's
// [bus.RuleSet] with its policy. A mistake is a [*ConfigError] naming the
// endpoint, the rule and the topic.
func New(p Params) (*Webhooks, error) {
	log := p.Logger
	if log == nil {
		log = slog.Default()
	}
	drain := p.Config.DrainTimeout
	if drain <= 0 {
		drain = DefaultDrainTimeout
	}
	transport := &http.Transport{}
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		transport = t.Clone()
	}
	policy := addrPolicy{loopback: p.Config.AllowLoopback, private: p.Config.AllowPrivate}
	transport.Proxy = nil // a proxy would dial in the endpoint's stead, past the address checks
	transport.DialContext = (&net.Dialer{Timeout: 30 * time.Second, Control: policy.control}).DialContext
	w := &Webhooks{
		stats:       &Stats{byName: map[string]*counters{}},
		log:         log,
		drain:       drain,
		attempts:    cmp.Or(max(p.Config.MaxAttempts, 0), DefaultMaxAttempts),
		backoff:     cmp.Or(max(p.Config.Backoff, 0), DefaultBackoff),
		logInterval: cmp.Or(max(p.Config.LogInterval, 0), DefaultLogInterval),
		transport:   transport,
		client: &http.Client{Transport: transport, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a 3xx fails the delivery: never re-POST elsewhere
		}},
	}
	byName := map[string]route{}
	all := routes()
	byTopic := make(map[bus.AnyTopic]route, len(all))
	for _, r := range all {
		byTopic[r.topic()] = r
	}
	for _, t := range topics.All() {
		r, ok := byTopic[t]
		if !ok { // kept from happening by a test
			return nil, fmt.Errorf("webhooks: topic %q has no route", t.Name())
		}
		byName[t.Name()] = r
	}
	for i, ec := range p.Config.Endpoints {
		e, err := compile(i, ec, byName, all, policy)
		if err != nil {
			return nil, err
		}
		if _, dup := w.stats.byName[e.name]; dup {
			return nil, &ConfigError{Endpoint: fmt.Sprintf("%q", e.name), Err: errors.New("name given twice")}
		}
		e.w, e.c = w, &counters{}
		e.dropLog = &throttle{every: w.logInterval}
		e.failLog = &throttle{every: w.logInterval}
		w.stats.byName[e.name] = e.c
		w.endpoints = append(w.endpoints, e)
	}
	return w, nil
}

// compile checks and compiles the i-th endpoint of the config.
func compile(i int, ec Endpoint, byName map[string]route, all []route, addrs addrPolicy) (*endpoint, error) {
	name := fmt.Sprintf("%q", ec.Name)
	if ec.Name == "" {
		name = fmt.Sprintf("#%d", i)
	}
	fail := func(format string, args ...any) error {
		return &ConfigError{Endpoint: name, Err: fmt.Errorf(format, args...)}
	}
	if ec.Name == "" {
		return nil, fail("no name")
	}
	u, err := url.Parse(ec.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fail("URL %q is not an absolute http or https URL", ec.URL)
	}
	if u.User != nil {
		return nil, fail("URL has user information: give the receiver a Secret instead")
	}
	if err := addrs.checkHost(u.Hostname()); err != nil {
		return nil, fail("URL %q: %v", u.Redacted(), err)
	}
	if len(ec.Secret) < MinSecretLen {
		return nil, fail("Secret has %d bytes; it needs at least %d random bytes, shared with the receiver", len(ec.Secret), MinSecretLen)
	}
	var policy rules.Policy
	switch ec.Policy {
	case "", Include:
		policy = rules.Include
	case Exclude:
		policy = rules.Exclude
	default:
		return nil, fail("policy %q is neither %q nor %q", ec.Policy, Include, Exclude)
	}
	if ec.QueueSize < 0 || ec.Timeout < 0 {
		return nil, fail("negative QueueSize or Timeout")
	}
	e := &endpoint{name: ec.Name, url: u.String(), secret: slices.Clone(ec.Secret), queueSize: ec.QueueSize, timeout: ec.Timeout}
	if e.queueSize == 0 {
		e.queueSize = DefaultQueueSize
	}
	if e.timeout == 0 {
		e.timeout = DefaultTimeout
	}

	given := make([]rules.Rule, 0, len(ec.Rules))
	named := map[route]bool{}
	for j, rc := range ec.Rules {
		id := fmt.Sprintf("%q", rc.ID)
		if rc.ID == "" {
			id = fmt.Sprintf("#%d", j)
		}
		r, ok := byName[rc.Topic]
		if !ok {
			return nil, &ConfigError{Endpoint: name, Rule: id, Topic: rc.Topic, Err: errors.New("no such topic in topics.All()")}
		}
		rule, err := r.match(rc.ID, rc.Where)
		if err != nil {
			return nil, &ConfigError{Endpoint: name, Rule: id, Topic: rc.Topic, Err: err}
		}
		given = append(given, rule)
		named[r] = true
	}
	e.rules, err = rules.New(PluginPrefix+ec.Name, policy, given...)
	if err != nil {
		var re *rules.Error
		if errors.As(err, &re) {
			return nil, &ConfigError{Endpoint: name, Rule: re.Rule, Topic: re.Topic, Err: re.Err}
		}
		return nil, &ConfigError{Endpoint: name, Err: err}
	}

	// The topics to subscribe to, in catalogue order: those the rules
	// name, or, to exclude, every topic but hooks' before stages.
	for _, r := range all {
		if (policy == rules.Include && named[r]) || (policy == rules.Exclude && !r.before()) {
			e.routes = append(e.routes, r)
		}
	}
	return e, nil
}

// Stats returns the delivery counters of the endpoints.
func (w *Webhooks) Stats() *Stats { return w.stats }

// NewStats returns w's counters: [Module] provides them with it.
func NewStats(w *Webhooks) *Stats { return w.stats }

// Register starts w on b when the app starts, and stops it when the app
// stops.
func Register(lc fx.Lifecycle, b *bus.Bus, w *Webhooks) {
	lc.Append(fx.Hook{
		OnStart: func(ctx context.Context) error { return w.Start(ctx, b) },
		OnStop:  w.Stop,
	})
}

// Start registers a plugin on b for each endpoint, named "webhooks/<Name>",
// subscribes through it to the endpoint's topics with its rules, and starts
// the endpoint's worker, which POSTs what its queue holds. It fails, having
// undone what it did, if a plugin name is taken or the bus is closed. An
// include endpoint without rules subscribes to nothing. Start may be called
// once.
func (w *Webhooks) Start(_ context.Context, b *bus.Bus) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.started {
		return errors.New("webhooks: started twice")
	}
	w.started = true
	for i, e := range w.endpoints {
		if err := e.start(b); err != nil {
			for _, e := range w.endpoints[:i] {
				_ = e.stop(context.Background())
			}
			w.stopped = true // nothing left to stop
			w.transport.CloseIdleConnections()
			return fmt.Errorf("webhooks: endpoint %q: %w", e.name, err)
		}
		w.log.Debug("webhooks: endpoint started", "endpoint", e.name, "url", e.url,
			"policy", e.rules.Policy().String(), "topics", len(e.routes))
	}
	return nil
}

// Stop unregisters the endpoints' plugins, so that no new event is queued,
// and waits for the workers to deliver what is queued, for at most the
// config's DrainTimeout or until ctx is done. It then cancels the
// deliveries under way, drops and counts what is left, and, if that
// abandoned an event, returns an error saying so. Stop is idempotent.
func (w *Webhooks) Stop(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.started || w.stopped {
		return nil
	}
	w.stopped = true
	ctx, cancel := context.WithTimeout(ctx, w.drain)
	defer cancel()
	for _, e := range w.endpoints { // all at once, then drain
		e.close()
	}
	var errs []error
	for _, e := range w.endpoints {
		if err := e.wait(ctx); err != nil {
			errs = append(errs, fmt.Errorf("webhooks: endpoint %q: %w", e.name, err))
		}
		e.dropLog.flush(w.log, "webhooks: events dropped", "endpoint", e.name)
		e.failLog.flush(w.log, "webhooks: deliveries failed", "endpoint", e.name)
		level := slog.LevelInfo
		if e.c.dropped.Load()+e.c.failed.Load() > 0 {
			level = slog.LevelWarn
		}
		w.log.Log(context.Background(), level, "webhooks: endpoint stopped", "endpoint", e.name,
			"delivered", e.c.delivered.Load(), "failed", e.c.failed.Load(), "dropped", e.c.dropped.Load())
	}
	w.transport.CloseIdleConnections()
	return errors.Join(errs...)
}

// endpoint is a compiled [Endpoint] and, once started, its plugin, queue
// and worker.
type endpoint struct {
	w         *Webhooks
	c         *counters
	name      string
	url       string
	secret    []byte
	rules     *rules.Set
	routes    []route
	queueSize int
	timeout   time.Duration

	plugin *plugin.Plugin
	ctx    context.Context // cancelled to abandon deliveries
	cancel context.CancelFunc
	done   chan struct{} // closed when the worker returns

	mu     sync.RWMutex // guards closed; held for reading by senders
	closed bool
	queue  chan delivery

	dropLog, failLog *throttle
}

// delivery is a queued event: its body, its topic, and its id.
type delivery struct {
	body  []byte
	topic string
	id    string
}

func (e *endpoint) start(b *bus.Bus) error {
	p, err := plugin.Register(b, PluginPrefix+e.name)
	if err != nil {
		return err
	}
	e.plugin = p
	e.queue = make(chan delivery, e.queueSize)
	e.ctx, e.cancel = context.WithCancel(context.Background())
	e.done = make(chan struct{})
	go e.work()
	for _, r := range e.routes {
		if err := r.subscribe(b, p, e); err != nil {
			_ = e.stop(context.Background())
			return err
		}
	}
	return nil
}

// close unregisters the endpoint's plugin and closes its queue. A publish
// already under way may still call send: the event is dropped.
func (e *endpoint) close() {
	_ = e.plugin.Unregister()
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.closed {
		e.closed = true
		close(e.queue)
	}
}

// wait waits for the worker to empty the closed queue until ctx is done,
// then abandons what is left: the delivery under way is cancelled, the
// rest dropped. It returns an error if an event was abandoned.
func (e *endpoint) wait(ctx context.Context) error {
	defer e.cancel()
	select {
	case <-e.done:
		return nil
	case <-ctx.Done():
	}
	before := e.c.dropped.Load() + e.c.failed.Load()
	e.cancel()
	<-e.done // quick now: the worker drops what is left
	n := e.c.dropped.Load() + e.c.failed.Load() - before
	if n == 0 { // the worker was finishing
		return nil
	}
	e.w.log.Warn("webhooks: drain timed out; events abandoned", "endpoint", e.name, "abandoned", n)
	e.dropLog.flush(e.w.log, "webhooks: events dropped", "endpoint", e.name)
	return fmt.Errorf("drain: %d event(s) abandoned: %w", n, ctx.Err())
}

// stop closes the endpoint and waits for it.
func (e *endpoint) stop(ctx context.Context) error {
	e.close()
	return e.wait(ctx)
}

// send queues the event for delivery, or drops it if the queue is full or
// closed. It runs in the publisher's goroutine, so it never blocks: it
// encodes the payload now, as the event is when the listener sees it, and
// leaves the network to the worker.
func (e *endpoint) send(topic string, payload any) {
	body, err := json.Marshal(envelope{Topic: topic, Event: payload})
	if err != nil {
		e.c.failed.Add(1)
		e.failLog.note(e.w.log, "webhooks: deliveries failed", "endpoint", e.name, "topic", topic, "error", err)
		return
	}
	d := delivery{body: body, topic: topic, id: rand.Text()}
	e.mu.RLock()
	queued := false
	if !e.closed {
		select {
		case e.queue <- d:
			queued = true
		default:
		}
	}
	e.mu.RUnlock()
	if !queued {
		e.c.dropped.Add(1)
		e.dropLog.note(e.w.log, "webhooks: events dropped (queue full or stopping)", "endpoint", e.name, "topic", topic)
	}
}

// work delivers the queued events, in order, until the queue is closed and
// empty. Once the endpoint is abandoned, it drops what is left.
func (e *endpoint) work() {
	defer close(e.done)
	for d := range e.queue {
		if e.ctx.Err() != nil {
			e.c.dropped.Add(1)
			e.dropLog.note(e.w.log, "webhooks: events dropped (queue full or stopping)", "endpoint", e.name, "topic", d.topic)
			continue
		}
		if err := e.deliver(d); err != nil {
			e.c.failed.Add(1)
			e.failLog.note(e.w.log, "webhooks: deliveries failed", "endpoint", e.name, "topic", d.topic, "error", err)
			continue
		}
		e.c.delivered.Add(1)
	}
}

// deliver posts d, and retries, after a backoff, what may succeed later:
// a network error, a timeout, a 429 or a 5xx. It gives up when the
// endpoint is abandoned.
func (e *endpoint) deliver(d delivery) error {
	wait := e.w.backoff
	for attempt := 1; ; attempt++ {
		err := e.post(d)
		var re *retryable
		if err == nil || !errors.As(err, &re) || attempt >= e.w.attempts {
			if err != nil && attempt > 1 {
				err = fmt.Errorf("after %d attempts: %w", attempt, err)
			}
			return err
		}
		e.c.retried.Add(1)
		// Full jitter in [wait/2, wait), so that endpoints recovering at once
		// are not retried in step.
		t := time.NewTimer(wait/2 + time.Duration(mrand.Int64N(int64(wait/2)+1)))
		select {
		case <-t.C:
		case <-e.ctx.Done():
			t.Stop()
			return fmt.Errorf("abandoned at stop after %d attempt(s): %w", attempt, err)
		}
		wait = min(2*wait, MaxBackoff)
	}
}

// retryable is an error worth another attempt.
type retryable struct{ err error }

func (r *retryable) Error() string { return r.err.Error() }
func (r *retryable) Unwrap() error { return r.err }

// post delivers one event, once, signed.
func (e *endpoint) post(d delivery) error {
	ctx, cancel := context.WithTimeout(e.ctx, e.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(d.body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "fxbus-webhooks")
	req.Header.Set(HeaderDelivery, d.id)
	req.Header.Set(HeaderEvent, d.topic)
	req.Header.Set(HeaderSignature, Sign(e.secret, d.body, time.Now()))
	resp, err := e.w.client.Do(req)
	if err != nil {
		if errors.Is(err, errAddress) {
			return err
		}
		return &retryable{err}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // so the connection is reused
	_ = resp.Body.Close()
	switch code := resp.StatusCode; {
	case code >= 200 && code <= 299:
		return nil
	case code >= 300 && code <= 399:
		return fmt.Errorf("POST %s: %s: redirects are not followed", e.url, resp.Status)
	case code == http.StatusTooManyRequests || code >= 500:
		return &retryable{fmt.Errorf("POST %s: %s", e.url, resp.Status)}
	}
	return fmt.Errorf("POST %s: %s", e.url, resp.Status)
}

// counters are one endpoint's.
type counters struct {
	delivered, failed, dropped, retried atomic.Int64
}

// Stats counts, per endpoint, the events delivered, failed and dropped.
// It is safe for use by any number of goroutines.
type Stats struct {
	byName map[string]*counters // fixed by New
}

func (s *Stats) get(name string) *counters {
	if c, ok := s.byName[name]; ok {
		return c
	}
	return &counters{}
}

// Delivered returns how many events the endpoint named name has accepted
// with a 2xx status; 0 for an unknown name.
func (s *Stats) Delivered(name string) int { return int(s.get(name).delivered.Load()) }

// Failed returns how many events could not be delivered to the endpoint
// named name: a network error, a timeout, a 429 or a 5xx after every
// attempt; another status other than 2xx (a redirect among them); an
// address refused; or a payload that does not encode to JSON.
func (s *Stats) Failed(name string) int { return int(s.get(name).failed.Load()) }

// Retried returns how many attempts to deliver to the endpoint named
// name failed and were tried again.
func (s *Stats) Retried(name string) int { return int(s.get(name).retried.Load()) }

// Dropped returns how many events for the endpoint named name were dropped
// without a delivery attempt: its queue was full, or the app stopped before
// they could be delivered.
func (s *Stats) Dropped(name string) int { return int(s.get(name).dropped.Load()) }
