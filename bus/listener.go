package bus

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"sync/atomic"

	"github.com/fxbus/fxbus/internal/otelbus"
)

// declSeq orders listeners by declaration: ties in rank run in the order in
// which On, Listen or Subscribe were called, never in the order of a slice
// or of an fx value group.
var declSeq atomic.Uint64

// Listener is a handler bound to a topic, with its rank, name and source.
// Make one with [On] (or [Listen] under fx) and give it to [New]. It is
// immutable and may be shared by several buses.
type Listener interface {
	// Topic returns the topic the listener is bound to.
	Topic() AnyTopic
	// Info describes the listener.
	Info() ListenerInfo
	listener() *listener
}

// ListenerInfo describes a listener for errors, traces and tooling.
type ListenerInfo struct {
	// Name is the display name: the one given with [Name], or derived from
	// the handler function, such as "audit.(*Log).OnBan". A derived name
	// takes the package name the Go runtime reports: for a main package,
	// "main" under go run and the last element of its import path under go
	// test. Give names with [Name] where they must not change.
	Name string `json:"name"`
	// Rank orders listeners: lower runs first.
	Rank int `json:"rank"`
	// Module is the fx module that contributed the listener, when known.
	Module string `json:"module,omitempty"`
	// Plugin is the name of the [Owner] of the subscription, such as a
	// plugin, when it has one (see [OwnedBy]).
	Plugin string `json:"plugin,omitempty"`
	// Function is the full name of the handler function.
	Function string `json:"function,omitempty"`
	// Source is where the listener was declared: the call of On, Listen or
	// Subscribe.
	Source Source `json:"source"`
	// Subscribed is set for a runtime subscription (see [Topic.Subscribe]).
	Subscribed bool `json:"subscribed,omitempty"`
	// Observer is set for a listener that does not count toward its
	// topic's [Requirement] (see [Observer]).
	Observer bool `json:"observer,omitempty"`
	// Remote is set for a listener that forwards the topic's events out of
	// the process, to the destination it names (see [Remote]).
	Remote string `json:"remote,omitempty"`
}

// String returns the name and the source, as errors show them.
func (i ListenerInfo) String() string {
	if i.Source.File == "" {
		return i.Name
	}
	return i.Name + " (" + i.Source.String() + ")"
}

// Source is a place in the code.
type Source struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

// String returns "file:line".
func (s Source) String() string { return fmt.Sprintf("%s:%d", s.File, s.Line) }

// ListenerOption configures a listener in [On], [Listen] and Subscribe.
type ListenerOption interface {
	applyListener(*listener)
}

type listenerOptionFunc func(*listener)

func (f listenerOptionFunc) applyListener(l *listener) { f(l) }

// Rank sets the listener's rank: lower runs first, the default is 0, and
// equal ranks run in declaration order.
func Rank(n int) ListenerOption {
	return listenerOptionFunc(func(l *listener) { l.info.Rank = n })
}

// Name sets the listener's display name, shown in span names, errors and
// catalogues. The default is derived from the handler function.
func Name(name string) ListenerOption {
	return listenerOptionFunc(func(l *listener) {
		if name != "" {
			l.info.Name = name
		}
	})
}

// Observer makes the listener one that watches rather than serves: it does
// not count toward its topic's [Requirement], so a test recorder or an
// auditor can listen to a topic that needs [ExactlyOne] listener.
func Observer() ListenerOption {
	return listenerOptionFunc(func(l *listener) { l.info.Observer = true })
}

// DeclaredAt sets the source shown for the listener in errors, spans and
// catalogues, instead of the call of On, Listen or Subscribe: for helpers
// that declare listeners on their caller's behalf.
func DeclaredAt(file string, line int) ListenerOption {
	return listenerOptionFunc(func(l *listener) { l.info.Source = Source{File: file, Line: line} })
}

// InModule attributes the listener to the named module, in its info, span
// attributes and catalogues. [Listen] defaults it to the name of the Go
// package that called it, which is the fx module's name in the usual layout
// of one module per package.
func InModule(name string) ListenerOption {
	return listenerOptionFunc(func(l *listener) { l.info.Module = name })
}

// listener is the one implementation of Listener.
type listener struct {
	topic        topicCore
	info         ListenerInfo
	seq          uint64
	fn           erasedHandler // the handler, a func(context.Context, *T) error
	filters      []erasedFilter
	filterTopics []topicCore // the topics whose When made filters
	optErr       error
	opts         []ListenerOption
	sub          *Subscription // set for runtime subscriptions
	tel          *otelbus.Listener
	x            *extras   // optional features (sources, owner); nil for most listeners
	feat         *features // Once, Wrap, bus-wide; nil for most listeners (see features.go)
}

func (l *listener) Topic() AnyTopic     { return l.topic }
func (l *listener) Info() ListenerInfo  { return l.info }
func (l *listener) listener() *listener { return l }
func (l *listener) String() string      { return l.info.String() }

// On binds handler h to topic t. Options set the rank, name and filters.
// Mistakes such as a nil handler are reported by [New], with the source of
// this call.
func On[T any](t *Topic[T], h func(context.Context, *T) error, opts ...ListenerOption) Listener {
	return newListener(anyTopic(t), eraseHandler(h), 1, opts)
}

// newListener makes a listener; skip counts the frames between the user's
// call and newListener's caller.
func newListener(t topicCore, h erasedHandler, skip int, opts []ListenerOption) *listener {
	l := declare(t, skip+1, opts, h)
	l.setHandler(h, nil)
	return l
}

// declare makes a listener without its handler yet: its declaration order,
// its source (skip frames above declare's caller) and its options. fn names
// it until an option does.
func declare(t topicCore, skip int, opts []ListenerOption, fn erasedHandler) *listener {
	l := &listener{seq: declSeq.Add(1), topic: t}
	if _, file, line, ok := runtime.Caller(skip + 1); ok {
		l.info.Source = Source{File: file, Line: line}
	}
	if fn != nil {
		l.info.Function, l.info.Name = funcName(fn)
	}
	l.opts = opts
	return l
}

// setHandler completes a declared listener with its handler h (possibly
// nil) and applies its options; extra options come first, so the user's
// win.
func (l *listener) setHandler(h erasedHandler, extra []ListenerOption) {
	l.fn = h
	for _, o := range extra {
		o.applyListener(l)
	}
	for _, o := range l.opts {
		if o != nil {
			o.applyListener(l)
		}
	}
	if o := l.owner(); o != nil {
		// After the user's options, so that the owner prefixes the final name.
		l.info.Plugin = o.Name()
		l.info.Name = o.Name() + "/" + l.info.Name
	}
	l.tel = otelbus.NewListener(otelbus.ListenerSpec{
		Topic: l.topicName(), Name: l.info.Name, Rank: l.info.Rank, Module: l.info.Module, Plugin: l.info.Plugin,
		Source: otelbus.Source{Function: l.info.Function, File: l.info.Source.File, Line: l.info.Source.Line},
	})
}

// instance returns a copy of a declared listener, to be completed with
// setHandler: the same declaration made into a listener once per fx app.
func (l *listener) instance() *listener {
	c := &listener{topic: l.topic, info: l.info, seq: l.seq, opts: l.opts}
	return c
}

// check reports what is wrong with the listener, if anything.
func (l *listener) check() error {
	switch {
	case l.topic == nil || reflect.ValueOf(l.topic).IsNil():
		return errNilTopic
	case l.fn == nil:
		return errNilHandler
	case l.optErr != nil:
		return l.optErr
	}
	for _, ft := range l.filterTopics {
		if ft == nil {
			return errors.New("When of a nil topic")
		}
		if ft != l.topic {
			return fmt.Errorf("When of another topic, %q: a filter must come from the listener's own topic", ft.Name())
		}
	}
	return nil
}

func (l *listener) topicName() string {
	if l.topic == nil || reflect.ValueOf(l.topic).IsNil() {
		return "<nil topic>"
	}
	return l.topic.Name()
}

// funcName returns the full name of fn and a short display name such as
// "audit.(*Log).OnBan".
func funcName(fn any) (full, short string) {
	v := reflect.ValueOf(fn)
	if v.Kind() != reflect.Func || v.IsNil() {
		return "", "<unknown>"
	}
	f := runtime.FuncForPC(v.Pointer())
	if f == nil {
		return "", "<unknown>"
	}
	full = strings.TrimSuffix(f.Name(), "-fm")
	short = full
	if i := strings.LastIndexByte(short, '/'); i >= 0 {
		short = short[i+1:]
	}
	return full, short
}
