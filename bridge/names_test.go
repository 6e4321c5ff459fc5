package bridge

import (
	"strings"
	"testing"
)

// FuzzNames checks that any topic or group name makes valid NATS names:
// subject tokens without wildcards, spaces or empty tokens; stream and
// consumer names of letters, digits, '-' and '_' within JetStream's 255
// bytes; and that distinct names never share a stream or a consumer, nor a
// topic the dead-letter stream.
func FuzzNames(f *testing.F) {
	long := strings.Repeat("x", 300)
	for _, s := range [][2]string{
		{"ban.created", "a_b"}, {"a.b", "a_b"}, {"", "."}, {"a..b", "a *.>"},
		{"thread.message_posting", "g r.p"}, {"ünï.cødé", "a_b"},
		{"a_b_108bf50c", "a.b"}, // the form a.b's stream takes
		{"DEAD", "dead"}, {long, long + "y"}, {"x_p0", "x"}, {"x_p", "x_p12"},
	} {
		f.Add(s[0], s[1])
	}
	valid := func(t *testing.T, what, name string) {
		t.Helper()
		if name == "" || len(name) > maxNameLen {
			t.Fatalf("%s %q: %d bytes", what, name, len(name))
		}
		for _, c := range name {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				t.Fatalf("%s %q has %q", what, name, c)
			}
		}
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		na := namesOf(a)
		for _, subj := range []string{na.subject(), na.partition(3), na.dead("g r.p"), na.dead(b)} {
			for _, tok := range strings.Split(subj, ".") {
				if tok == "" || strings.ContainsAny(tok, " \t\r\n*>") {
					t.Fatalf("topic %q: subject %q has a bad token %q", a, subj, tok)
				}
			}
		}
		valid(t, "stream", na.stream)
		if na.stream == deadStream {
			t.Fatalf("topic %q has the dead-letter stream", a)
		}
		if a != b && na.stream == namesOf(b).stream {
			t.Fatalf("topics %q and %q share the stream %q", a, b, na.stream)
		}
		// Consumers: group a unkeyed, and group b's partitions.
		ga, gb := groupToken(a), groupToken(b)
		valid(t, "consumer", ga)
		valid(t, "consumer", gb+"_p1000")
		if a != b && ga == gb {
			t.Fatalf("groups %q and %q share the consumer %q", a, b, ga)
		}
		for _, p := range []string{"0", "1", "12"} {
			if ga == gb+"_p"+p {
				t.Fatalf("group %q shares its consumer with partition %s of group %q", a, p, b)
			}
		}
	})
}
