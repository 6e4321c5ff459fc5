package bus

import (
	"context"
	"sync"
	"sync/atomic"
)

// doneChan is a channel closed once, made on first use; its zero value is
// ready.
type doneChan struct {
	mu     sync.Mutex
	ch     chan struct{}
	closed bool
	then   []func()
}

// C returns the channel.
func (d *doneChan) C() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ch == nil {
		d.ch = make(chan struct{})
		if d.closed {
			close(d.ch)
		}
	}
	return d.ch
}

// close closes the channel, once, and runs what waits for it.
func (d *doneChan) close() {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.closed = true
	if d.ch != nil {
		close(d.ch)
	}
	then := d.then
	d.then = nil
	d.mu.Unlock()
	for _, f := range then {
		f()
	}
}

// onClose runs f when the channel closes, or now if it is closed.
func (d *doneChan) onClose(f func()) {
	d.mu.Lock()
	if !d.closed {
		d.then = append(d.then, f)
		d.mu.Unlock()
		return
	}
	d.mu.Unlock()
	f()
}

// inflight counts the running calls of a subscription's handler.
type inflight struct {
	n       atomic.Int64
	closing atomic.Bool // the subscription is closed
	sealed  atomic.Bool // and calls not yet begun are skipped (CloseWait)
	done    doneChan    // closed when closing and no call runs
}

// tracked wraps fn, a subscription's handler, so that c counts its calls.
func tracked[T any](c *inflight, fn func(context.Context, *T) error) func(context.Context, *T) error {
	return func(ctx context.Context, e *T) error {
		c.n.Add(1)
		defer c.exit()
		if c.sealed.Load() {
			return nil
		}
		return fn(ctx, e)
	}
}

func (c *inflight) exit() {
	if c.n.Add(-1) == 0 && c.closing.Load() {
		c.done.close()
	}
}

// close marks the subscription closed; seal, that calls not yet begun are
// skipped.
func (c *inflight) close(seal bool) {
	if seal {
		c.sealed.Store(true)
	}
	c.closing.Store(true)
	if c.n.Load() == 0 {
		c.done.close()
	}
}

// Done returns a channel that is closed once the subscription is closed
// (by Close, CloseWait, a plugin's Unregister or a [Once] listener's firing)
// and no call of its handler is running. After Close, a publish that began
// before it may still call the handler (see Close); after CloseWait, no
// call begins.
func (s *Subscription) Done() <-chan struct{} { return s.calls.done.C() }

// CloseWait closes the subscription, as Close does, and waits until the
// calls of its handler that are running have returned: when it returns nil,
// the handler runs no more, not even for a publish that began before. It
// returns ctx.Err() if ctx is done first; the subscription is closed
// anyway. Do not call it from the subscription's own handler, which would
// wait for itself until ctx is done: use Close there.
func (s *Subscription) CloseWait(ctx context.Context) error {
	if s == nil {
		return nil
	}
	_ = s.Close()
	s.calls.close(true)
	select {
	case <-s.calls.done.C():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Done returns a channel that is closed once the bus is closed.
func (b *Bus) Done() <-chan struct{} { return b.done.C() }

// Done returns a channel that is closed once the plugin has unregistered
// and no call of a handler subscribed through it is running.
func (p *Plugin) Done() <-chan struct{} { return p.done.C() }

// UnregisterWait unregisters the plugin, as Unregister does, and waits
// until the calls of its handlers that are running have returned: when it
// returns nil, none of them runs any more. It returns ctx.Err() if ctx is
// done first; the plugin is unregistered anyway. Do not call it from one of
// the plugin's handlers.
func (p *Plugin) UnregisterWait(ctx context.Context) error {
	if p == nil {
		return nil
	}
	p.b.mu.Lock()
	subs := make([]*Subscription, 0, len(p.ls))
	for _, l := range p.ls {
		subs = append(subs, l.sub)
	}
	p.b.mu.Unlock()
	for _, s := range subs {
		s.calls.sealed.Store(true)
	}
	_ = p.Unregister()
	select {
	case <-p.done.C():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ended marks the plugin's subscriptions closed, and closes its Done
// channel when their calls have returned; with b.mu held.
func (p *Plugin) ended() {
	subs := make([]*Subscription, 0, len(p.ls))
	for _, l := range p.ls {
		subs = append(subs, l.sub)
	}
	if len(subs) == 0 {
		p.done.close()
		return
	}
	var left atomic.Int64
	left.Store(int64(len(subs)))
	for _, s := range subs {
		s.calls.close(false)
		s.calls.done.onClose(func() {
			if left.Add(-1) == 0 {
				p.done.close()
			}
		})
	}
}
