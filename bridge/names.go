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
	return deadPrefix + nameToken(group) + "." + n.token
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

// streamToken makes s into a stream name's tail; a name that had to change
// gets a hash of the original, so that "a.b" and "a_b" never share a
// stream.
func streamToken(s string) string {
	t := nameToken(s)
	if t == s {
		return t
	}
	h := fnv.New32a()
	h.Write([]byte(s))
	return fmt.Sprintf("%s_%08x", t, h.Sum32())
}

// partitionOf returns the partition of key among n.
func partitionOf(key string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % uint32(n))
}
