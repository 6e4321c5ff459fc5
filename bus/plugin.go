package bus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
)

var (
	// ErrPluginExists is the cause of a [PluginError] from
	// [Bus.RegisterPlugin] for a name already registered on the bus.
	ErrPluginExists = errors.New("plugin already registered")

	// ErrPluginUnregistered is the cause of a [PluginError] from
	// [SubscribeAs] through a plugin that has been unregistered.
	ErrPluginUnregistered = errors.New("plugin unregistered")
)

// PluginError is a plugin's mistake: it names the plugin and, for a
// subscription, the topic and the listener with its source.
type PluginError struct {
	Plugin   string // the plugin's name
	Topic    string // the topic subscribed to; "" when no subscription is concerned
	Listener string // the listener's name and source, for a subscription
	Err      error  // the cause
}

// Error names the plugin, and the topic and listener if any, then the cause.
func (e *PluginError) Error() string {
	if e.Topic == "" {
		return fmt.Sprintf("fxbus: plugin %q: %v", e.Plugin, e.Err)
	}
	return fmt.Sprintf("fxbus: plugin %q: topic %q: listener %s: %v", e.Plugin, e.Topic, e.Listener, e.Err)
}

// Unwrap returns the cause, such as [ErrPluginExists].
func (e *PluginError) Unwrap() error { return e.Err }

// Plugin is a named registrant on a running bus, made by
// [Bus.RegisterPlugin]. Handlers subscribed through it with [SubscribeAs]
// are attributed to it: their [ListenerInfo.Plugin] is its name, their
// display name starts with "<plugin>/", and their spans carry the
// fxbus.plugin attribute. [Plugin.Unregister] removes them all at once.
type Plugin struct {
	b    *Bus
	name string
	// Guarded by b.mu: changed only by writers of the bus's state.
	gone bool
	off  atomic.Bool // set with gone; the handlers' filter, so an Unregister is atomic across topics
	ls   []*listener // the live listeners subscribed through the plugin
	done doneChan    // see Plugin.Done
}

// RegisterPlugin registers a plugin named name on b. Names are unique per
// bus while registered; a name is free again once its plugin unregisters.
// It fails with a [*PluginError] wrapping [ErrPluginExists] for a name in
// use, and with [ErrClosed] on a closed bus.
func (b *Bus) RegisterPlugin(name string) (*Plugin, error) {
	if b == nil {
		return nil, fmt.Errorf("fxbus: register plugin %q: %w", name, ErrNilBus)
	}
	if name == "" {
		return nil, errors.New("fxbus: register plugin: empty name")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Load() {
		return nil, fmt.Errorf("fxbus: register plugin %q: %w", name, b.closedErr())
	}
	if _, dup := b.plugins[name]; dup {
		return nil, &PluginError{Plugin: name, Err: ErrPluginExists}
	}
	if b.plugins == nil {
		b.plugins = map[string]*Plugin{}
	}
	p := &Plugin{b: b, name: name}
	b.plugins[name] = p
	return p, nil
}

// SubscribeAs is [Topic.Subscribe] through plugin p: it adds handler h for
// topic t to p's bus, attributed to p. It fails with a [*PluginError]
// wrapping [ErrPluginUnregistered] once p has unregistered, and otherwise
// as Subscribe does.
func SubscribeAs[T any](p *Plugin, t *Topic[T], h func(context.Context, *T) error, opts ...ListenerOption) (*Subscription, error) {
	if p == nil {
		return nil, errors.New("fxbus: SubscribeAs through a nil plugin")
	}
	if t == nil {
		return nil, fmt.Errorf("fxbus: plugin %q: SubscribeAs on a nil topic", p.name)
	}
	return p.b.subscribe(newListener(t, h, 1, append(slices.Clip(opts), via(p))))
}

// via attributes a listener to plugin p. It comes after the user's
// options, so that the plugin prefixes the final display name.
func via(p *Plugin) ListenerOption {
	return listenerOptionFunc(func(l *listener) {
		l.ext().plugin = p
		l.info.Plugin = p.name
		l.info.Name = p.name + "/" + l.info.Name
	})
}

// Name returns the plugin's name.
func (p *Plugin) Name() string { return p.name }

// Listeners describes the handlers subscribed through the plugin and not
// yet removed, in the order they were subscribed.
func (p *Plugin) Listeners() []ListenerInfo {
	p.b.mu.Lock()
	defer p.b.mu.Unlock()
	infos := make([]ListenerInfo, len(p.ls))
	for i, l := range p.ls {
		infos[i] = l.info
	}
	return infos
}

// Unregister removes every handler subscribed through the plugin at once:
// a publish that starts after it hears none of them. Later
// [SubscribeAs] calls through p fail, and the name is free again. A
// publish already running is not disturbed. Unregister is idempotent, and
// returns nil also when the bus is closed.
func (p *Plugin) Unregister() error {
	if p == nil {
		return nil
	}
	b := p.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if p.gone {
		return nil
	}
	p.retire()
	if !b.closed.Load() {
		gone := map[topicCore]map[*listener]bool{}
		for _, l := range p.ls {
			l.sub.closed.Store(true) // Subscription.Close is now a no-op
			if gone[l.topic] == nil {
				gone[l.topic] = map[*listener]bool{}
			}
			gone[l.topic][l] = true
		}
		for t, ls := range gone {
			s := b.learn(t)
			s.build(b, slices.DeleteFunc(s.listeners(), func(l *listener) bool { return ls[l] }))
		}
	}
	p.ended() // see wait.go
	p.ls = nil
	return nil
}

// retire marks p unregistered and frees its name; with b.mu held.
func (p *Plugin) retire() {
	p.gone = true
	p.off.Store(true)
	if p.b.plugins[p.name] == p {
		delete(p.b.plugins, p.name)
	}
}

// attachPlugin records l among its plugin's listeners, or fails if the
// plugin is gone. It runs inside a state update, with b.mu held, so that
// it cannot interleave with Unregister.
func attachPlugin(l *listener) error {
	if l.x == nil || l.x.plugin == nil {
		return nil
	}
	p := l.x.plugin
	if p.gone {
		return &PluginError{Plugin: p.name, Topic: l.topicName(), Listener: l.info.String(), Err: ErrPluginUnregistered}
	}
	p.ls = append(p.ls, l)
	return nil
}

// detachPlugin forgets l among its plugin's listeners, when its
// subscription closes; with b.mu held.
func detachPlugin(l *listener) {
	if l.x == nil || l.x.plugin == nil {
		return
	}
	p := l.x.plugin
	if i := slices.Index(p.ls, l); i >= 0 {
		p.ls = slices.Delete(p.ls, i, i+1)
	}
}
