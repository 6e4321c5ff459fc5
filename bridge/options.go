package bridge

import (
	"fmt"
	"reflect"
	"time"
)

// Option configures an [Export] or an [Import]. Each option says which of
// the two it applies to; given to the other, it fails fx.New with an error
// naming the topic and the option.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// side is what an option applies to.
type side uint8

const (
	forExport side = 1 << iota
	forImport
)

// config is the combined configuration of one Export or Import.
type config struct {
	group      string
	codec      Codec
	key        any // func(*T) string
	keyType    reflect.Type
	partitions int
	maxDeliver int
	backoff    func(attempt int) time.Duration
	ackWait    time.Duration
	maxAck     int
	used       []usedOption
	err        error
}

type usedOption struct {
	name string
	side side
}

func (c *config) use(name string, s side) { c.used = append(c.used, usedOption{name, s}) }

// check reports an option given to the side it does not apply to.
func (c *config) check(topic string, s side, what string) error {
	if c.err != nil {
		return fmt.Errorf("%s(%q): %w", what, topic, c.err)
	}
	for _, u := range c.used {
		if u.side&s == 0 {
			return fmt.Errorf("%s(%q): option %s does not apply to %s", what, topic, u.name, what)
		}
	}
	return nil
}

func newConfig(opts []Option) *config {
	c := &config{
		group:      DefaultGroup,
		codec:      JSON,
		maxDeliver: 5,
		backoff:    ExponentialBackoff(100*time.Millisecond, 10*time.Second),
		ackWait:    30 * time.Second,
		maxAck:     1000,
	}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	return c
}

// DefaultGroup is the group of an [Import] without a [Group] option: every
// instance importing a topic without one shares the work with the others.
const DefaultGroup = "default"

// Group names the consumer group of an [Import]: the instances importing a
// topic in one group share one durable consumer, so each event is handled
// by one of them; different groups each get every event. The name is the
// durable consumer's; a name that is not one already (characters other
// than letters, digits, '-' and '_', longer than JetStream allows, or
// ending like a changed name) has its other characters made '_', is cut
// to fit and gets a hash of the name, so that distinct groups never share
// a consumer. Import only.
func Group(name string) Option {
	return optionFunc(func(c *config) {
		c.use("Group", forImport)
		if name == "" {
			c.err = fmt.Errorf("empty group name")
			return
		}
		c.group = name
	})
}

// WithCodec sets how payloads are encoded; the default is [JSON]. Export and
// Import of one topic must agree. Export and Import.
func WithCodec(codec Codec) Option {
	return optionFunc(func(c *config) {
		c.use("WithCodec", forExport|forImport)
		if codec == nil {
			c.err = fmt.Errorf("nil codec")
			return
		}
		c.codec = codec
	})
}

// Key asks for per-key ordering: events whose payloads have the same key
// are handled in publish order, even with several instances in a group.
//
// The export side hashes the key to one of partitions subjects; the import
// side consumes each partition with one durable consumer that has at most
// one message in flight, shared by the group's instances. So ordering holds
// per key (and per partition), not across keys in different partitions,
// and not between topics; partitions are handled in parallel. A handler
// error holds its partition until the message succeeds or is dead-lettered.
// Give the same partitions on both sides (use one Option value); the key
// function runs on the export side only. Export and Import.
func Key[T any](fn func(*T) string, partitions int) Option {
	return optionFunc(func(c *config) {
		c.use("Key", forExport|forImport)
		switch {
		case fn == nil:
			c.err = fmt.Errorf("Key: nil key function")
		case partitions < 1:
			c.err = fmt.Errorf("Key: %d partitions; want at least 1", partitions)
		}
		c.key, c.keyType, c.partitions = fn, reflect.TypeFor[T](), partitions
	})
}

// MaxDeliver sets how many times an imported message is delivered before it
// is dead-lettered; the default is 5. Import only.
func MaxDeliver(n int) Option {
	return optionFunc(func(c *config) {
		c.use("MaxDeliver", forImport)
		if n < 1 {
			c.err = fmt.Errorf("MaxDeliver(%d): want at least 1", n)
			return
		}
		c.maxDeliver = n
	})
}

// Backoff sets the delay before redelivery after the attempt-th delivery
// failed (attempt counts from 1); the default is
// ExponentialBackoff(100ms, 10s). Import only.
func Backoff(fn func(attempt int) time.Duration) Option {
	return optionFunc(func(c *config) {
		c.use("Backoff", forImport)
		if fn == nil {
			c.err = fmt.Errorf("nil Backoff function")
			return
		}
		c.backoff = fn
	})
}

// ExponentialBackoff doubles the delay from base at each failed attempt, up
// to max.
func ExponentialBackoff(base, max time.Duration) func(attempt int) time.Duration {
	return func(attempt int) time.Duration {
		d := base
		for i := 1; i < attempt && d < max; i++ {
			d *= 2
		}
		return min(d, max)
	}
}

// AckWait sets how long the server waits for an imported message's ack
// before redelivering it, to this or another instance of the group: a
// crashed instance's messages come back after it. The default is 30s; a
// handler that runs longer sees its message delivered twice. Import only.
func AckWait(d time.Duration) Option {
	return optionFunc(func(c *config) {
		c.use("AckWait", forImport)
		if d <= 0 {
			c.err = fmt.Errorf("AckWait(%v): want a positive duration", d)
			return
		}
		c.ackWait = d
	})
}

// MaxAckPending sets how many imported messages may be delivered and not
// yet acked, across the group's instances; the default is 1000. (Ordered
// imports, see [Key], have one per partition.) Import only.
func MaxAckPending(n int) Option {
	return optionFunc(func(c *config) {
		c.use("MaxAckPending", forImport)
		if n < 1 {
			c.err = fmt.Errorf("MaxAckPending(%d): want at least 1", n)
			return
		}
		c.maxAck = n
	})
}
