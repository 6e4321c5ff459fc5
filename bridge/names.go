package bridge

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// The subjects of a topic named name (its dots kept, other characters that
// NATS does not allow in a subject token replaced by '_'):
//
//	fxbus.topic.<name>           events exported without a key
//	fxbus.part.<p>.<name>        events exported with a key, in partition p
//	fxbus.dead.<group>.<name>    events dead-lettered by an import group
//
// Each topic has a stream of its own, FXBUS_<name>, holding the first two;
// the stream FXBUS_DEAD holds every dead letter.
const (
	subjectPrefix = "fxbus.topic."
	partPrefix    = "fxbus.part."
	deadPrefix    = "fxbus.dead."
	deadStream    = "FXBUS_DEAD"
)

// names are the NATS names of one topic.
type names struct {
	topic  string
	token  string // the topic name as subject tokens
	stream string
}

func namesOf(topic string) names {
	tok := subjectTokens(topic)
	return names{topic: topic, token: tok, stream: "FXBUS_" + streamToken(topic)}
}

func (n names) subject() string        { return subjectPrefix + n.token }
func (n names) partition(p int) string { return partPrefix + strconv.Itoa(p) + "." + n.token }
func (n names) partitions() string     { return partPrefix + "*." + n.token }
func (n names) dead(group string) string {
	return deadPrefix + groupToken(group) + "." + n.token
}

// subjectTokens makes a topic name into dot-separated subject tokens.
func subjectTokens(name string) string {
	parts := strings.Split(name, ".")
	for i, p := range parts {
		parts[i] = nameToken(p)
	}
	return strings.Join(parts, ".")
}

// nameToken makes s into one token of letters, digits, '-' and '_'.
func nameToken(s string) string {
	if s == "" {
		return "_"
	}
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// maxNameLen is JetStream's limit on the length of stream and consumer
// names.
const maxNameLen = 255

// streamToken makes s into a stream name's tail (after "FXBUS_"), one
// stream per topic name.
func streamToken(s string) string {
	return hashedToken(s, maxNameLen-len("FXBUS_"), "DEAD")
}

// groupToken makes a group name into its durable consumer's name (to
// which a keyed import adds "_p<partition>"), one consumer per group name.
func groupToken(s string) string {
	return hashedToken(s, maxNameLen-len("_p")-10, "")
}

// hashedToken makes s into a token of letters, digits, '-' and '_' of at
// most max bytes, a different one for each s (FNV-32a collisions aside):
// s itself when it is such a token already, short enough, not reserved,
// and not shaped like a changed one (ending in "_" and 8 hex digits, or in
// "_p" and digits, as partition consumers do); otherwise s made into a
// token, cut to fit, with '_' and a hash of s appended. So "a.b" and "a_b"
// never share a name, and neither does a name that happens to look like
// another's hashed form.
func hashedToken(s string, max int, reserved string) string {
	t := nameToken(s)
	if t == s && len(t) <= max && t != reserved && !hashShaped(t) && !partitionShaped(t) {
		return t
	}
	h := fnv.New32a()
	h.Write([]byte(s))
	t = t[:min(len(t), max-9)]
	return fmt.Sprintf("%s_%08x", t, h.Sum32())
}

// hashShaped reports whether t ends in '_' and 8 lowercase hex digits.
func hashShaped(t string) bool {
	if len(t) < 9 || t[len(t)-9] != '_' {
		return false
	}
	for _, c := range []byte(t[len(t)-8:]) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// partitionShaped reports whether t ends in "_p" and digits.
func partitionShaped(t string) bool {
	i := len(t)
	for i > 0 && t[i-1] >= '0' && t[i-1] <= '9' {
		i--
	}
	return i < len(t) && i >= 2 && t[i-2:i] == "_p"
}

// partitionOf returns the partition of key among n.
func partitionOf(key string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % uint32(n))
}
