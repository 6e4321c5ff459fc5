package webhooks

import (
	"fmt"
	"time"
)

// Defaults of an [Endpoint] and a [Config].
const (
	// DefaultQueueSize is the length of an endpoint's queue when
	// [Endpoint.QueueSize] is not set.
	DefaultQueueSize = 64
	// DefaultTimeout bounds one delivery when [Endpoint.Timeout] is not
	// set.
	DefaultTimeout = 5 * time.Second
	// DefaultDrainTimeout bounds the drain at stop when
	// [Config.DrainTimeout] is not set.
	DefaultDrainTimeout = 10 * time.Second
	// DefaultMaxAttempts is how many times a delivery is tried when
	// [Config.MaxAttempts] is not set.
	DefaultMaxAttempts = 3
	// DefaultBackoff is the wait before the first retry when
	// [Config.Backoff] is not set; it doubles at each retry, up to
	// MaxBackoff.
	DefaultBackoff = 250 * time.Millisecond
	// MaxBackoff bounds the wait between two attempts.
	MaxBackoff = 10 * time.Second
	// DefaultLogInterval is how often, at most, an endpoint logs its drops
	// and failures when [Config.LogInterval] is not set.
	DefaultLogInterval = 10 * time.Second
	// MinSecretLen is the shortest [Endpoint.Secret], in bytes.
	MinSecretLen = 16
)

// The policies of an [Endpoint].
const (
	// Include delivers only the events that match a rule; it is the
	// default. An include endpoint without rules receives nothing.
	Include = "include"
	// Exclude delivers the events that match no rule. An exclude endpoint
	// without rules receives every event of [topics.All], except those of
	// the before stage of hooks.
	Exclude = "exclude"
)

// Config lists the webhook endpoints. The container may supply one;
// without it, there is none.
type Config struct {
	// Endpoints are the endpoints to deliver to.
	Endpoints []Endpoint
	// DrainTimeout bounds how long the app's stop waits for the queues to
	// drain; what is left then is dropped. Zero means
	// [DefaultDrainTimeout]. The stop's own deadline, if sooner, wins.
	DrainTimeout time.Duration
	// AllowLoopback lets endpoints be on the loopback interface
	// (127.0.0.0/8, ::1, localhost): for a local receiver, in a demo or a
	// test. Off, such an endpoint is a mistake at start, and a name that
	// resolves to such an address fails the delivery.
	AllowLoopback bool
	// AllowPrivate lets endpoints be on private, link-local or
	// unspecified addresses (10.0.0.0/8, 192.168.0.0/16, 169.254.0.0/16,
	// fc00::/7, ...), which a public deployment must not reach on a
	// configuration's say-so. Off, as AllowLoopback.
	AllowPrivate bool
	// MaxAttempts is how many times a delivery is tried before it counts
	// as failed; zero means [DefaultMaxAttempts]. Only network errors,
	// timeouts, 429 and 5xx answers are retried.
	MaxAttempts int
	// Backoff is the wait before the first retry, doubled at each next one
	// up to [MaxBackoff], with jitter; zero means [DefaultBackoff].
	Backoff time.Duration
	// LogInterval is how often, at most, an endpoint logs its drops and
	// its failures (with their counts since the last line); zero means
	// [DefaultLogInterval].
	LogInterval time.Duration
}

// Endpoint is an HTTP endpoint that receives the events its rules pass.
type Endpoint struct {
	// Name identifies the endpoint, in the plugin's name
	// ("webhooks/<Name>"), in [Stats] and in logs. It is required and
	// unique.
	Name string
	// URL is where events are POSTed: an absolute http or https URL,
	// without user information; on the loopback interface only with
	// [Config.AllowLoopback], on a private address only with
	// [Config.AllowPrivate]. Redirects are not followed: a 3xx answer
	// fails the delivery.
	URL string
	// Secret signs each delivery (see [HeaderSignature] and [Verify]); at
	// least [MinSecretLen] random bytes, shared with the receiver.
	Secret []byte
	// Policy is [Include] (the default, for "") or [Exclude].
	Policy string
	// Rules are the filter rules, applied with Policy.
	Rules []Rule
	// QueueSize is the number of events waiting for delivery beyond which
	// new ones are dropped. Zero means [DefaultQueueSize].
	QueueSize int
	// Timeout bounds one delivery. Zero means [DefaultTimeout].
	Timeout time.Duration
}

// Rule matches the events of one topic, optionally only those whose payload
// satisfies one of the groups of Where.
type Rule struct {
	// ID identifies the rule, in errors; optional, unique within the
	// endpoint.
	ID string
	// Topic is the name of a topic of [topics.All], such as "ban.created".
	Topic string
	// Where holds alternatives: the rule matches an event when all the
	// fields of one group match (any-of groups of all-of fields). Empty,
	// the rule matches every event of the topic.
	Where [][]Field
}

// Field is a condition on a field of the payload.
//
// Name is a path of exported field names from the payload struct, through
// structs and pointers to structs, such as "Thread.UserID" or "Ban.Address";
// an embedded struct's fields are reached directly. A nil pointer on the
// path fails the condition. Fields of interfaces, such as the Object of an
// object event, cannot be named.
//
// Equals is the value the field must have, as text. It is parsed once, at
// start, into the field's type: a string as is; integers, unsigned
// integers, floats and booleans with package strconv (an integer type with a
// String method also takes its names, "chatting" for a
// [topics.ThreadState]; "NaN" matches a float that is a NaN); a type that
// implements encoding.TextUnmarshaler, such as a netip.Addr or a time.Time,
// with UnmarshalText, then compared with its Equal method or ==. Other
// types cannot be compared with text; naming one is an error at start.
type Field struct {
	// Name is the path of the field, such as "Thread.UserID".
	Name string
	// Equals is the value the field must have, as text.
	Equals string
}

// ConfigError is a mistake in the [Config], found when the app starts: it
// names the endpoint and, for a rule's mistake, the rule and its topic.
type ConfigError struct {
	Endpoint string // the endpoint's name, or "#n" for the n-th endpoint without one
	Rule     string // the rule's id quoted, or "#n" for the n-th rule without one; "" for the endpoint's own mistake
	Topic    string // the rule's topic, as written; "" when no rule is concerned
	Err      error  // what is wrong
}

// Error names the endpoint, the rule and its topic, then the mistake.
func (e *ConfigError) Error() string {
	s := "webhooks: endpoint " + e.Endpoint
	if e.Rule != "" {
		s += ": rule " + e.Rule
	}
	if e.Topic != "" {
		s += fmt.Sprintf(" on topic %q", e.Topic)
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns the mistake.
func (e *ConfigError) Unwrap() error { return e.Err }
