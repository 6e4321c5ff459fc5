package bridge

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// outMsg is one exported event on its way to the stream.
type outMsg struct {
	msg   *nats.Msg
	topic string
	span  trace.Span // ended when acknowledged or given up
}

// flight is an event sent and awaiting its acknowledgement.
type flight struct {
	m *outMsg
	f jetstream.PubAckFuture
}

// exporter sends the exported events of one Conn in order and awaits their
// acknowledgements, holding at most MaxPending of them.
//
// While all is well, the publishing goroutine sends its event itself
// (an asynchronous publish: no round trip), and the exporter's goroutine
// takes the acknowledgements in order. When a send fails (the server is
// unreachable, say), the exporter recovers: new events wait in the
// backlog; its goroutine waits for the outcome of everything in flight,
// then sends again, in order, what failed and then the backlog, until all
// of it is acknowledged; then publishers send directly again.
type exporter struct {
	c     *Conn
	slots chan struct{} // one per event in flight or in the backlog
	kick  chan struct{} // wakes the exporter's goroutine

	mu         sync.Mutex
	js         jetstream.JetStream // set on start
	inflight   []flight            // sent, in order
	backlog    []*outMsg           // to send, in order, by the exporter's goroutine
	recovering bool
	pending    int             // events in flight or in the backlog
	idle       []chan struct{} // closed when pending drops to zero
	stopping   bool
	started    bool
	left       []*outMsg // what stop gave up on

	stopCh  chan struct{} // closed when stop begins: finish what is pending
	abortCh chan struct{} // closed when stop gives up
	done    chan struct{} // closed when the exporter's goroutine returned
}

func newExporter(c *Conn) *exporter {
	return &exporter{
		c:       c,
		slots:   make(chan struct{}, c.cfg.MaxPending),
		kick:    make(chan struct{}, 1),
		stopCh:  make(chan struct{}),
		abortCh: make(chan struct{}),
		done:    make(chan struct{}),
	}
}

func (e *exporter) wake() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// enqueue sends m, or queues it, waiting up to PendingWait for room.
func (e *exporter) enqueue(ctx context.Context, m *outMsg) error {
	select {
	case e.slots <- struct{}{}:
	default:
		if e.c.cfg.PendingWait <= 0 {
			return fmt.Errorf("%w (%d pending)", ErrBackpressure, cap(e.slots))
		}
		t := time.NewTimer(e.c.cfg.PendingWait)
		defer t.Stop()
		select {
		case e.slots <- struct{}{}:
		case <-t.C:
			return fmt.Errorf("%w (%d pending for %v)", ErrBackpressure, cap(e.slots), e.c.cfg.PendingWait)
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ErrBackpressure, ctx.Err())
		case <-e.stopCh:
			return ErrStopped
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopping {
		<-e.slots
		return ErrStopped
	}
	e.pending++
	if e.js == nil || e.recovering || len(e.backlog) > 0 {
		e.backlog = append(e.backlog, m)
		e.wake()
		return nil
	}
	f, err := e.js.PublishMsgAsync(m.msg)
	if err != nil {
		e.recovering = true
		e.backlog = append(e.backlog, m)
		e.wake()
		return nil
	}
	e.inflight = append(e.inflight, flight{m, f})
	if len(e.inflight) == 1 {
		e.wake()
	}
	return nil
}

// ackedN releases the slots of n acknowledged events.
func (e *exporter) ackedN(n int) {
	for range n {
		<-e.slots
	}
	e.mu.Lock()
	e.pending -= n
	if e.pending == 0 {
		for _, ch := range e.idle {
			close(ch)
		}
		e.idle = nil
	}
	e.mu.Unlock()
}

// flush waits until no event is in flight or in the backlog.
func (e *exporter) flush(ctx context.Context) error {
	e.mu.Lock()
	if e.pending == 0 {
		e.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	e.idle = append(e.idle, ch)
	n := e.pending
	e.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("bridge: flush: %d exported events awaiting acknowledgement: %w", n, ctx.Err())
	}
}

func (e *exporter) start(js jetstream.JetStream) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.started || e.stopping {
		return
	}
	e.started, e.js = true, js
	go e.run(js)
	e.wake() // events published before start wait in the backlog
}

// acked reports whether f's acknowledgement is in.
func acked(f jetstream.PubAckFuture) bool {
	select {
	case <-f.Ok():
		return true
	default:
		return false
	}
}

// run takes the acknowledgements in order, and recovers from failures.
func (e *exporter) run(js jetstream.JetStream) {
	defer close(e.done)
	stopCh := e.stopCh
	for {
		e.mu.Lock()
		var head flight
		if len(e.inflight) > 0 {
			head = e.inflight[0]
		}
		backlog := len(e.backlog) > 0
		if head.f == nil && !backlog && e.stopping {
			e.mu.Unlock()
			return
		}
		e.mu.Unlock()

		if head.f == nil {
			if backlog {
				if !e.recover(js, nil, false) {
					return
				}
				continue
			}
			select {
			case <-e.kick:
			case <-stopCh:
				stopCh = nil
			case <-e.abortCh:
				e.abort(nil)
				return
			}
			continue
		}
		select {
		case <-head.f.Ok():
			// Take every acknowledgement already in, without waking again.
			e.mu.Lock()
			n := 1
			for n < len(e.inflight) && acked(e.inflight[n].f) {
				n++
			}
			for i := range n {
				e.inflight[i].m.span.End()
				e.inflight[i] = flight{}
			}
			e.inflight = e.inflight[n:]
			e.mu.Unlock()
			e.ackedN(n)
		case <-head.f.Err():
			e.mu.Lock()
			e.recovering = true
			fs := e.inflight
			e.inflight = nil
			e.mu.Unlock()
			failed := append([]*outMsg{head.m}, e.settle(fs[1:])...)
			if !e.recover(js, failed, true) {
				return
			}
		case <-stopCh:
			stopCh = nil
		case <-e.abortCh:
			e.abort(nil)
			return
		}
	}
}

// abort gives up on ms, what is in flight and the backlog.
func (e *exporter) abort(ms []*outMsg) {
	e.mu.Lock()
	for _, fl := range e.inflight {
		ms = append(ms, fl.m)
	}
	ms = append(ms, e.backlog...)
	e.inflight, e.backlog = nil, nil
	e.left = append(e.left, ms...)
	e.mu.Unlock()
}

// settle waits for the outcome of every flight, and returns the events
// that failed, in order; on abort, every event not yet acknowledged.
func (e *exporter) settle(fs []flight) []*outMsg {
	var failed []*outMsg
	for i, fl := range fs {
		select {
		case <-fl.f.Ok():
			fl.m.span.End()
			e.ackedN(1)
		case <-fl.f.Err():
			failed = append(failed, fl.m)
		case <-e.abortCh:
			for _, rest := range fs[i:] {
				failed = append(failed, rest.m)
			}
			return failed
		}
	}
	return failed
}

// recover sends batch (after RetryWait when wait is set), then the
// backlog, in order, again and again until all of it is acknowledged;
// then publishers send directly again. It returns false when stop gave
// up.
func (e *exporter) recover(js jetstream.JetStream, batch []*outMsg, wait bool) bool {
	retry := time.NewTimer(e.c.cfg.RetryWait)
	defer retry.Stop()
	for {
		if len(batch) == 0 {
			e.mu.Lock()
			if len(e.backlog) == 0 {
				e.recovering = false
				e.mu.Unlock()
				return true
			}
			batch, e.backlog = e.backlog, nil
			e.mu.Unlock()
		}
		if wait {
			select {
			case <-retry.C:
			case <-e.abortCh:
				e.abort(batch)
				return false
			}
			e.c.log.Debug("bridge: sending exported events again", "count", len(batch))
		}
		fs := make([]flight, 0, len(batch))
		var unsent []*outMsg
		for i, m := range batch {
			f, err := js.PublishMsgAsync(m.msg)
			if err != nil {
				unsent = slices.Clone(batch[i:])
				break
			}
			fs = append(fs, flight{m, f})
		}
		batch = append(e.settle(fs), unsent...)
		select {
		case <-e.abortCh:
			e.abort(batch)
			return false
		default:
		}
		wait = len(batch) > 0
		retry.Reset(e.c.cfg.RetryWait)
	}
}

// stop refuses new events, awaits the pending ones until ctx is done, and
// reports those left unacknowledged.
func (e *exporter) stop(ctx context.Context) error {
	e.mu.Lock()
	if e.stopping {
		e.mu.Unlock()
		return nil
	}
	e.stopping = true
	started := e.started
	close(e.stopCh)
	e.mu.Unlock()
	if started {
		select {
		case <-e.done:
		case <-ctx.Done():
			close(e.abortCh)
			<-e.done
		}
	} else {
		e.abort(nil)
	}
	e.mu.Lock()
	left := e.left
	e.mu.Unlock()
	if len(left) == 0 {
		return nil
	}
	ue := &UnackedError{Topics: map[string]int{}}
	for _, m := range left {
		ue.Topics[m.topic]++
		m.span.SetStatus(codes.Error, "not acknowledged at stop")
		m.span.End()
	}
	return ue
}
