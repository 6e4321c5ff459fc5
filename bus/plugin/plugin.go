package plugin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"weak"

	"github.com/fxbus/fxbus/bus"
)

var (
	// ErrExists is the cause of an [Error] from [Register] for a name
	// already registered on the bus.
	ErrExists = errors.New("already registered")

	// ErrUnregistered is the cause of an [Error] from a subscription made
	// with [bus.OwnedBy] through a plugin that has unregistered.
	ErrUnregistered = errors.New("unregistered")
)

// Error is a plugin's mistake: it names the plugin and the cause. A
// subscription refused by a plugin fails with a [*bus.WiringError], naming
// the topic and the listener, that wraps it.
type Error struct {
	Plugin string // the plugin's name
	Err    error  // the cause
}

// Error names the plugin, then the cause.
func (e *Error) Error() string { return fmt.Sprintf("fxbus: plugin %q: %v", e.Plugin, e.Err) }

// Unwrap returns the cause, such as [ErrExists].
func (e *Error) Unwrap() error { return e.Err }

// Plugin is a named registrant on a running bus, made by [Register]. The
// handlers it subscribes, with [bus.OwnedBy](p), are attributed to it: their
// [bus.ListenerInfo.Plugin] is its name, their display name starts with
// "<plugin>/", and their spans carry the fxbus.plugin attribute.
// [Plugin.Unregister] removes them all at once.
type Plugin struct {
	b    *bus.Bus
	name string
	off  atomic.Bool // set by Unregister: the handlers' filter, so that it is atomic across topics

	mu   sync.Mutex
	gone bool
	subs []*bus.Subscription // live subscriptions, in the order made
	done chan struct{}       // see Done
}

// registry holds, per bus, the names of its registered plugins. It holds
// neither the buses nor the plugins alive: a plugin stays alive through
// its subscriptions, which its bus holds, or through its user.
var registry struct {
	mu    sync.Mutex
	buses map[weak.Pointer[bus.Bus]]map[string]weak.Pointer[Plugin]
}

// Register registers a plugin named name on b. Names are unique per bus
// among registered plugins; a name is free again once its plugin
// unregisters. It fails with an [*Error] wrapping [ErrExists] for a name in
// use.
func Register(b *bus.Bus, name string) (*Plugin, error) {
	switch {
	case b == nil:
		return nil, fmt.Errorf("fxbus: register plugin %q: nil bus", name)
	case name == "":
		return nil, errors.New("fxbus: register plugin: empty name")
	}
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if registry.buses == nil {
		registry.buses = map[weak.Pointer[bus.Bus]]map[string]weak.Pointer[Plugin]{}
	}
	for k, names := range registry.buses { // forget collected buses and plugins
		for n, w := range names {
			if w.Value() == nil {
				delete(names, n)
			}
		}
		if k.Value() == nil || len(names) == 0 {
			delete(registry.buses, k)
		}
	}
	key := weak.Make(b)
	names := registry.buses[key]
	if names == nil {
		names = map[string]weak.Pointer[Plugin]{}
		registry.buses[key] = names
	}
	if names[name].Value() != nil {
		return nil, &Error{Plugin: name, Err: ErrExists}
	}
	p := &Plugin{b: b, name: name, done: make(chan struct{})}
	names[name] = weak.Make(p)
	return p, nil
}

// Name returns the plugin's name.
func (p *Plugin) Name() string { return p.name }

// Active reports whether the plugin is registered: its handlers hear
// events until it unregisters. It is part of [bus.Owner].
func (p *Plugin) Active() bool { return !p.off.Load() }

// Attach records a subscription made with [bus.OwnedBy](p), or refuses it
// with an [*Error] wrapping [ErrUnregistered] once p has unregistered. It
// is part of [bus.Owner]: the bus calls it.
func (p *Plugin) Attach(s *bus.Subscription) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gone {
		return &Error{Plugin: p.name, Err: ErrUnregistered}
	}
	p.subs = append(p.subs, s)
	return nil
}

// Detach forgets a closed subscription. It is part of [bus.Owner]: the bus
// calls it.
func (p *Plugin) Detach(s *bus.Subscription) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i := slices.Index(p.subs, s); i >= 0 {
		p.subs = slices.Delete(p.subs, i, i+1)
	}
}

// Listeners describes the handlers subscribed through the plugin and not
// yet removed, in the order they were subscribed.
func (p *Plugin) Listeners() []bus.ListenerInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	infos := make([]bus.ListenerInfo, len(p.subs))
	for i, s := range p.subs {
		infos[i] = s.Info()
	}
	return infos
}

// Unregister removes every handler subscribed through the plugin at once:
// a publish that starts after it hears none of them, on any topic. Later
// subscriptions through p fail, and the name is free again. A publish
// already running is not disturbed. Unregister is idempotent, and returns
// nil also when the bus is closed.
func (p *Plugin) Unregister() error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	if p.gone {
		p.mu.Unlock()
		return nil
	}
	p.gone = true
	p.off.Store(true)
	subs := p.subs
	p.subs = nil
	p.mu.Unlock()

	registry.mu.Lock()
	if names := registry.buses[weak.Make(p.b)]; names != nil && names[p.name].Value() == p {
		delete(names, p.name)
	}
	registry.mu.Unlock()

	var errs []error
	for _, s := range subs {
		errs = append(errs, s.Close())
	}
	p.closeDone(subs)
	return errors.Join(errs...)
}

// closeDone closes p's Done channel once the closed subscriptions subs are
// done: at once, unless a call of a [bus.Awaited] handler still runs, in
// which case a goroutine waits for the calls to return.
func (p *Plugin) closeDone(subs []*bus.Subscription) {
	for i, s := range subs {
		select {
		case <-s.Done():
		default:
			rest := subs[i:]
			go func() {
				for _, s := range rest {
					<-s.Done()
				}
				close(p.done)
			}()
			return
		}
	}
	close(p.done)
}

// Done returns a channel that is closed once the plugin has unregistered
// and no call of a [bus.Awaited] handler subscribed through it is running.
func (p *Plugin) Done() <-chan struct{} { return p.done }

// UnregisterWait unregisters the plugin, as Unregister does, and waits
// until the calls of its [bus.Awaited] handlers that are running have
// returned: when it returns nil, none of them runs any more. It returns
// ctx.Err() if ctx is done first; the plugin is unregistered anyway. Do not
// call it from one of the plugin's handlers.
func (p *Plugin) UnregisterWait(ctx context.Context) error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	subs := slices.Clone(p.subs)
	p.mu.Unlock()
	err := p.Unregister()
	for _, s := range subs {
		if werr := s.CloseWait(ctx); werr != nil && !errors.Is(werr, bus.ErrNotAwaited) {
			return werr
		}
	}
	return err
}
