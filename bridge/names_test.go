package bridge

import (
	"strings"
	"testing"
)

// FuzzNames checks that any topic name makes valid NATS names: subject
// tokens without wildcards, spaces or empty tokens; stream names of
// letters, digits, '-' and '_'; and distinct names never share a stream.
func FuzzNames(f *testing.F) {
	for _, s := range []string{"ban.created", "a.b", "a_b", "", ".", "a..b", "a *.>", "thread.message_posting", "ünï.cødé"} {
		f.Add(s, "a_b")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		na := namesOf(a)
		for _, subj := range []string{na.subject(), na.partition(3), na.dead("g r.p")} {
			for _, tok := range strings.Split(subj, ".") {
				if tok == "" || strings.ContainsAny(tok, " \t\r\n*>") {
					t.Fatalf("topic %q: subject %q has a bad token %q", a, subj, tok)
				}
			}
		}
		for _, c := range na.stream {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				t.Fatalf("topic %q: stream %q has %q", a, na.stream, c)
			}
		}
		if a != b && na.stream == namesOf(b).stream {
			t.Fatalf("topics %q and %q share the stream %q", a, b, na.stream)
		}
	})
}
