package widget

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"go.uber.org/fx"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/plugin"
	"github.com/fxbus/fxbus/topics"
)

// PluginName is the name under which the module registers its plugin.
const PluginName = "widget"

// ThemeCSS is the widget's theme, relative to the desk's root.
const ThemeCSS = "/static/widget-theme.css"

// ThemeRank is the rank of the module's listener on [topics.PageAddCSS]:
// after the desk's base style sheet, at rank 0.
const ThemeRank = 10

// MaxEnded is how many ended sessions a [State] keeps.
const MaxEnded = 256

// Module provides the [*State], registers the plugin [PluginName] at start
// and unregisters it at stop (see [Register]), and adds [ThemeCSS] to the
// operators' pages at [ThemeRank].
var Module = fx.Module("widget",
	fx.Provide(NewState),
	fx.Invoke(Register),
	bus.Listen(topics.PageAddCSS, AddThemeCSS, bus.Rank(ThemeRank)),
)

// AddThemeCSS appends [ThemeCSS] to the page's style sheets, with a weight
// above the desk's base ones.
func AddThemeCSS(_ context.Context, p *topics.PageAssets) error {
	p.Assets = append(p.Assets, topics.Asset{Kind: topics.AssetKindRelativeURL, Content: ThemeCSS, Weight: ThemeRank})
	return nil
}

// Register attaches the plugin to b with s when the app starts, and
// unregisters it when the app stops.
func Register(lc fx.Lifecycle, b *bus.Bus, s *State) {
	var p *plugin.Plugin
	lc.Append(fx.Hook{
		OnStart: func(context.Context) (err error) {
			p, err = Attach(b, s)
			return err
		},
		OnStop: func(context.Context) error { return p.Unregister() },
	})
}

// Attach registers the plugin [PluginName] on b and subscribes s's
// handlers to the chat topics through it. If a subscription fails, it
// unregisters the plugin and returns the error. Unregister the plugin to
// remove every handler at once.
func Attach(b *bus.Bus, s *State) (*plugin.Plugin, error) {
	p, err := plugin.Register(b, PluginName)
	if err != nil {
		return nil, err
	}
	subs := []func() error{
		sub(b, p, topics.ChatReady, s.onReady),
		sub(b, p, topics.ChatStarted, s.onStarted),
		sub(b, p, topics.ChatEnded, s.onEnded),
		sub(b, p, topics.ChatMessageReceived, s.onMessage),
		sub(b, p, topics.ChatAgentConnected, s.onAgents),
		sub(b, p, topics.ChatAgentDisconnected, s.onAgents),
		sub(b, p, topics.ChatClientConnected, s.onClientConnected),
		sub(b, p, topics.ChatClientDisconnected, s.onClientDisconnected),
		sub(b, p, topics.ChatAgentTypingStarted, s.onAgentTypingStarted),
		sub(b, p, topics.ChatAgentTypingStopped, s.onAgentTypingStopped),
		sub(b, p, topics.ChatClientTypingStarted, s.onClientTypingStarted),
		sub(b, p, topics.ChatClientTypingStopped, s.onClientTypingStopped),
		sub(b, p, topics.ChatError, s.onError),
	}
	for _, f := range subs {
		if err := f(); err != nil {
			return nil, errors.Join(err, p.Unregister())
		}
	}
	return p, nil
}

func sub[T any](b *bus.Bus, p *plugin.Plugin, t *bus.Topic[T], h func(context.Context, *T) error) func() error {
	return func() error {
		_, err := t.Subscribe(b, h, bus.OwnedBy(p))
		return err
	}
}

// Session is what the widget knows of one chat session.
type Session struct {
	// Thread is the session's thread.
	Thread topics.ThreadID
	// Active is set from the session's start to its end.
	Active bool
	// Started is when the session started; zero if its start was not seen.
	Started time.Time
	// Ended is when the session ended; zero while it has not.
	Ended time.Time
	// Messages counts the messages received.
	Messages int
	// Agents are the names of the operators connected, as last reported.
	Agents []string
	// ClientConnected is set while the visitor is connected.
	ClientConnected bool
	// AgentTyping is set while an operator is typing.
	AgentTyping bool
	// ClientTyping is set while the visitor is typing.
	ClientTyping bool
	// Errors counts the failed requests of the session.
	Errors int
}

// State holds the chat service's readiness and the sessions by thread. It
// is safe for use by any number of goroutines.
type State struct {
	mu       sync.Mutex
	ready    bool
	errors   int
	sessions map[topics.ThreadID]*Session
	ended    []topics.ThreadID // oldest first
}

// NewState returns an empty state: the service not ready, no session.
func NewState() *State { return &State{sessions: map[topics.ThreadID]*Session{}} }

// Ready reports whether the chat service has said it is ready.
func (s *State) Ready() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ready
}

// Errors returns how many failed requests the chat service reported, in a
// session or before any.
func (s *State) Errors() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.errors
}

// Threads returns a copy of every session kept, by thread.
func (s *State) Threads() map[topics.ThreadID]Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[topics.ThreadID]Session, len(s.sessions))
	for id, ss := range s.sessions {
		m[id] = ss.clone()
	}
	return m
}

// Thread returns a copy of the session of thread id, and whether there is
// one.
func (s *State) Thread(id topics.ThreadID) (Session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.sessions[id]
	if !ok {
		return Session{}, false
	}
	return ss.clone(), true
}

func (ss *Session) clone() Session {
	c := *ss
	c.Agents = slices.Clone(ss.Agents)
	return c
}

// update runs f on the session of thread id, made if need be, with s.mu
// held. Events without a thread concern no session.
func (s *State) update(id topics.ThreadID, f func(*Session)) error {
	if id == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.sessions[id]
	if !ok {
		ss = &Session{Thread: id}
		s.sessions[id] = ss
	}
	f(ss)
	return nil
}

func (s *State) onReady(context.Context, *topics.ChatEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ready = true
	return nil
}

func (s *State) onStarted(_ context.Context, e *topics.ChatEvent) error {
	if e.Thread == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// A thread that starts again begins a new session.
	s.ended = slices.DeleteFunc(s.ended, func(id topics.ThreadID) bool { return id == e.Thread })
	s.sessions[e.Thread] = &Session{Thread: e.Thread, Active: true, Started: e.Time}
	return nil
}

func (s *State) onEnded(_ context.Context, e *topics.ChatEvent) error {
	if e.Thread == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.sessions[e.Thread]
	if !ok {
		ss = &Session{Thread: e.Thread}
		s.sessions[e.Thread] = ss
	}
	if slices.Contains(s.ended, e.Thread) {
		return nil // ended already
	}
	ss.Active, ss.Ended, ss.AgentTyping, ss.ClientTyping, ss.ClientConnected = false, e.Time, false, false, false
	s.ended = append(s.ended, e.Thread)
	if len(s.ended) > MaxEnded {
		delete(s.sessions, s.ended[0])
		s.ended = slices.Delete(s.ended, 0, 1)
	}
	return nil
}

func (s *State) onMessage(_ context.Context, e *topics.ChatMessage) error {
	return s.update(e.Thread, func(ss *Session) { ss.Messages++ })
}

func (s *State) onAgents(_ context.Context, e *topics.ChatParticipants) error {
	return s.update(e.Thread, func(ss *Session) {
		ss.Agents = ss.Agents[:0]
		for _, a := range e.Agents {
			if a.Connected {
				ss.Agents = append(ss.Agents, a.Name)
			}
		}
	})
}

func (s *State) onClientConnected(_ context.Context, e *topics.ChatParticipants) error {
	return s.update(e.Thread, func(ss *Session) { ss.ClientConnected = true })
}

func (s *State) onClientDisconnected(_ context.Context, e *topics.ChatParticipants) error {
	return s.update(e.Thread, func(ss *Session) { ss.ClientConnected, ss.ClientTyping = false, false })
}

func (s *State) onAgentTypingStarted(_ context.Context, e *topics.ChatEvent) error {
	return s.update(e.Thread, func(ss *Session) { ss.AgentTyping = true })
}

func (s *State) onAgentTypingStopped(_ context.Context, e *topics.ChatEvent) error {
	return s.update(e.Thread, func(ss *Session) { ss.AgentTyping = false })
}

func (s *State) onClientTypingStarted(_ context.Context, e *topics.ChatEvent) error {
	return s.update(e.Thread, func(ss *Session) { ss.ClientTyping = true })
}

func (s *State) onClientTypingStopped(_ context.Context, e *topics.ChatEvent) error {
	return s.update(e.Thread, func(ss *Session) { ss.ClientTyping = false })
}

func (s *State) onError(_ context.Context, e *topics.ChatFailure) error {
	s.mu.Lock()
	s.errors++
	s.mu.Unlock()
	return s.update(e.Thread, func(ss *Session) { ss.Errors++ })
}
