package webhooks_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/bus/rules"
	"github.com/fxbus/fxbus/modules/webhooks"
)

// FuzzConfig proves, for an endpoint with any name, URL and policy, and
// two rules with any ids and topics, the first with a condition on any
// field path with any text (none when both are empty), that [webhooks.New]
// never panics and that:
//
//   - it fails exactly at the first mistake, in the documented order: no
//     name, a URL that is not absolute http or https, an unknown policy,
//     then, rule by rule, an unknown topic, a field path that does not
//     name an exported field (checked against reflect.VisibleFields of the
//     topic's payload), a rule id given twice;
//   - its error is a *ConfigError naming the endpoint ("#0" without a
//     name, else quoted), and, for a rule's mistake, the rule (quoted, or
//     "#n") and its topic as written; its message repeats them, and the
//     unknown topic, or the field path, quoted;
//   - a condition on a string field, which any text can equal, never fails;
//   - otherwise the config compiles, with counters for the endpoint.
func FuzzConfig(f *testing.F) {
	const u = "http://127.0.0.1:1/hook"
	for _, s := range [][9]string{
		// name, URL, policy, rule id, topic, field, equals, second id, second topic
		{"crm", u, "", "r1", "ban.created", "Ban.Address", "192.0.2.1", "r2", "thread.created"},
		{"crm", u, "exclude", "", "thread.message_posting", "Kind", "user", "", "ban.deleted"},
		{"crm", u, "include", "vip", "thread.message_posting", "Thread.UserID", "vip-1", "vip", "ban.created"},
		{"crm", u, "", "r", "thread.created", "Thread.ID", "forty-two", "", ""},
		{"crm", u, "", "r", "thread.message_posting", "Body.Len", "1", "", "nope"},
		{"crm", u, "", "r", "object.created", "Object.Ref", "R-1", "", "ban.created"},
		{"crm", u, "", "r", "page.add_css", "Assets", "x", "", "ban.created"},
		{"crm", u, "", "", "user.login.after", "Req.Login", "ada", "", "user.login.before"},
		{"crm", u, "", "", "user.login.after", "Res.Token", "", "", "data.create.after"},
		{"crm", u, "", "", "user.login.after", "Err", "x", "", "data.create.after"},
		{"crm", u, "", "", "chat.message_received", "Message.Kind", "agent", "x", "x"},
		{"crm", u, "", "", "ban.create", "", "", "", "ban.created"},
		{"crm", u, "", "", "ban.created", "", "x", "", "ban.created"},
		{"crm", u, "", "", "ban.created", "Ban..ID", "1", "", "ban.created"},
		{"crm", u, "", "", "ban.created", "ban.id", "1", "", "ban.created"},
		{"crm", u, "maybe", "", "", "", "", "", ""},
		{"", u, "", "", "", "", "", "", ""},
		{"crm", "ftp://example.com/x", "", "", "", "", "", "", ""},
		{"crm", "/hook", "", "", "", "", "", "", ""},
		{"crm", "https://[::1]:8443/h?q=1#f", "", "", "ban.created", "", "", "", ""},
		{"\xff\"", "http://%zz", "", "\x00", "\xff", "\xff", "\xff", "\x00", "\xff"},
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8])
	}

	ts, samples, _ := webhooks.Catalogue()
	payloads := map[string]reflect.Type{}
	for i, t := range ts {
		payloads[t.Name()] = reflect.TypeOf(samples[i]).Elem()
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	f.Fuzz(func(t *testing.T, name, rawURL, policy, id, topic, field, equals, id2, topic2 string) {
		rule := webhooks.Rule{ID: id, Topic: topic}
		hasWhere := field != "" || equals != ""
		if hasWhere {
			rule.Where = [][]webhooks.Field{{{Name: field, Equals: equals}}}
		}
		cfg := webhooks.Config{AllowLoopback: true, AllowPrivate: true, Endpoints: []webhooks.Endpoint{{
			Name: name, URL: rawURL, Policy: policy, Secret: testSecret,
			Rules: []webhooks.Rule{rule, {ID: id2, Topic: topic2}},
		}}}
		w, err := webhooks.New(webhooks.Params{Config: cfg, Logger: log})

		endpoint := fmt.Sprintf("%q", name)
		if name == "" {
			endpoint = "#0"
		}
		// mistake checks that err is the ConfigError of a mistake of rule
		// (a name, "" for the endpoint's own) on topic, saying each of what.
		mistake := func(rule, topic string, what ...string) {
			t.Helper()
			require.Error(t, err, "want a mistake: %s", what)
			assert.Nil(t, w)
			var ce *webhooks.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, webhooks.ConfigError{Endpoint: endpoint, Rule: rule, Topic: topic},
				webhooks.ConfigError{Endpoint: ce.Endpoint, Rule: ce.Rule, Topic: ce.Topic}, "%v", err)
			msg := err.Error()
			assert.Contains(t, msg, "webhooks: endpoint "+endpoint+": ")
			if rule != "" {
				assert.Contains(t, msg, "rule "+rule)
			}
			if topic != "" {
				assert.Contains(t, msg, fmt.Sprintf(" on topic %q: ", topic))
			}
			for _, w := range what {
				assert.Contains(t, msg, w)
			}
		}

		if name == "" {
			mistake("", "", "no name")
			return
		}
		if u, perr := url.Parse(rawURL); perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			mistake("", "", fmt.Sprintf("URL %q is not an absolute http or https URL", rawURL))
			return
		} else if u.User != nil {
			mistake("", "", "URL has user information")
			return
		}
		if policy != "" && policy != webhooks.Include && policy != webhooks.Exclude {
			mistake("", "", fmt.Sprintf("policy %q", policy))
			return
		}

		rule0, rule1 := ruleName(id, 0), ruleName(id2, 1)
		payload, known := payloads[topic]
		if !known {
			mistake(rule0, topic, "no such topic in topics.All()")
			return
		}
		if hasWhere {
			leaf, named := leafOf(payload, field)
			switch {
			case field == "":
				mistake(rule0, topic, "field with no name")
				return
			case !named:
				mistake(rule0, topic, fmt.Sprintf("field %q: ", field))
				return
			case leaf.Kind() == reflect.String:
				// Any text equals some string: no mistake here.
			default:
				// Whether the text parses is FuzzFieldEquals's concern; a
				// mistake here names the field, and quotes the text or says
				// the type cannot be compared with text.
				var ce *webhooks.ConfigError
				if errors.As(err, &ce) && ce.Rule == rule0 && strings.Contains(err.Error(), fmt.Sprintf("field %q: ", field)) {
					why := fmt.Sprintf("%q", equals)
					if strings.HasSuffix(err.Error(), "cannot be compared with text") {
						why = fmt.Sprintf("(%s) cannot be compared with text", leaf.Kind())
					}
					mistake(rule0, topic, why)
					return
				}
			}
		}
		if _, known := payloads[topic2]; !known {
			mistake(rule1, topic2, "no such topic in topics.All()")
			return
		}
		if id != "" && id == id2 {
			mistake(rule1, topic2, "rule id given twice")
			assert.ErrorIs(t, err, rules.ErrDuplicateRule)
			return
		}
		require.NoError(t, err)
		require.NotNil(t, w)
		assert.Zero(t, w.Stats().Delivered(name)+w.Stats().Failed(name)+w.Stats().Dropped(name))
	})
}

// ruleName is how errors name the n-th rule with id.
func ruleName(id string, n int) string {
	if id == "" {
		return fmt.Sprintf("#%d", n)
	}
	return fmt.Sprintf("%q", id)
}

// leafOf returns the type of the field that path names in t, through
// pointers, as reflect.VisibleFields sees the fields of each struct:
// exported, promoted from embedded structs, not hidden by another field
// of the same name at the same depth or above.
func leafOf(t reflect.Type, path string) (reflect.Type, bool) {
	for seg := range strings.SplitSeq(path, ".") {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return nil, false
		}
		found := false
		for _, sf := range reflect.VisibleFields(t) {
			if sf.Name == seg && sf.IsExported() {
				t, found = sf.Type, true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t, true
}
