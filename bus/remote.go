package bus

import (
	"errors"
	"runtime"

	"go.uber.org/fx"
)

// Remote marks the listener as one that forwards its topic's events out of
// the process, to dest (such as "nats:fxbus.topic.ban.added"). Catalogues
// and graphs show it as an arrow leaving the process. The bridge package
// sets it on the listeners of its exports.
func Remote(dest string) ListenerOption {
	return listenerOptionFunc(func(l *listener) { l.info.Remote = dest })
}

// PublishesRemote declares that topic t is published outside the process
// and arrives through source (such as "nats:fxbus.topic.ban.added"), by the
// enclosing fx module: the bus then knows the topic has a publisher, as
// [Publishes] declares a local one, and its catalogue lists the publisher
// with [PublisherInfo.Remote] set. The bridge package declares its imports
// so.
func PublishesRemote(t AnyTopic, source string) fx.Option {
	if t == nil {
		return fx.Error(errors.New("fxbus: PublishesRemote: nil topic"))
	}
	d := publisherDecl{topic: t, info: PublisherInfo{Module: callerPackage(1), Remote: source}}
	if _, file, line, ok := runtime.Caller(1); ok {
		d.info.Source = Source{File: file, Line: line}
	}
	return fx.Provide(fx.Annotated{Group: "fxbus.publishers", Target: func() publisherDecl { return d }})
}
