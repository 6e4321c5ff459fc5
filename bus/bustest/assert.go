package bustest

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// AssertPublished asserts that r recorded an event for which match
// reports true; a nil match accepts any event. On failure it reports, with
// tb.Errorf, the topic and every event recorded. msgAndArgs, a message or a
// format and its arguments, are added to the report. It returns whether the
// assertion held.
func AssertPublished[T any](tb testing.TB, r *Recorder[T], match func(*T) bool, msgAndArgs ...any) bool {
	tb.Helper()
	events := r.Events()
	for i := range events {
		if match == nil || match(&events[i]) {
			return true
		}
	}
	what := "no recorded event matches"
	if match == nil {
		what = "no event recorded"
	}
	tb.Errorf("%s", report(r.topic.Name(), what, events, nil, msgAndArgs))
	return false
}

// AssertNotPublished asserts that r recorded no event for which match
// reports true; a nil match accepts any event, so that the assertion holds
// only when nothing was recorded. On failure it reports, with tb.Errorf, the
// topic and the events that matched. It returns whether the assertion held.
func AssertNotPublished[T any](tb testing.TB, r *Recorder[T], match func(*T) bool, msgAndArgs ...any) bool {
	tb.Helper()
	events := r.Events()
	var hits []int
	for i := range events {
		if match == nil || match(&events[i]) {
			hits = append(hits, i)
		}
	}
	if len(hits) == 0 {
		return true
	}
	what := fmt.Sprintf("want no matching event, %d of %d recorded match", len(hits), len(events))
	if match == nil {
		what = "want no event"
	}
	tb.Errorf("%s", report(r.topic.Name(), what, events, hits, msgAndArgs))
	return false
}

// AssertCount asserts that r recorded exactly n events. On failure it
// reports, with tb.Errorf, the topic and every event recorded. It returns
// whether the assertion held.
func AssertCount[T any](tb testing.TB, r *Recorder[T], n int, msgAndArgs ...any) bool {
	tb.Helper()
	events := r.Events()
	if len(events) == n {
		return true
	}
	tb.Errorf("%s", report(r.topic.Name(), fmt.Sprintf("want %d event(s)", n), events, nil, msgAndArgs))
	return false
}

// maxListed is how many events a report lists.
const maxListed = 20

// report describes a failed assertion: the topic, what was wrong, the
// events recorded (only those at the indices only, when given) and the
// user's message.
func report[T any](topic, what string, events []T, only []int, msgAndArgs []any) string {
	var b strings.Builder
	fmt.Fprintf(&b, "bustest: topic %q: %s", topic, what)
	if only == nil {
		for i := range events {
			only = append(only, i)
		}
		fmt.Fprintf(&b, "; recorded %d", len(events))
	}
	if len(only) > 0 {
		b.WriteString(":")
	}
	for k, i := range only {
		if k == maxListed {
			fmt.Fprintf(&b, "\n\t... and %d more", len(only)-maxListed)
			break
		}
		fmt.Fprintf(&b, "\n\t#%d: %s", i, describe(reflect.ValueOf(&events[i]).Elem(), 0))
	}
	if msg := message(msgAndArgs); msg != "" {
		b.WriteString("\n\t" + msg)
	}
	return b.String()
}

// message formats testify-style msgAndArgs.
func message(msgAndArgs []any) string {
	switch {
	case len(msgAndArgs) == 0:
		return ""
	case len(msgAndArgs) == 1:
		if s, ok := msgAndArgs[0].(string); ok {
			return s
		}
		return fmt.Sprintf("%+v", msgAndArgs[0])
	}
	if format, ok := msgAndArgs[0].(string); ok {
		return fmt.Sprintf(format, msgAndArgs[1:]...)
	}
	return fmt.Sprint(msgAndArgs...)
}

const (
	maxDepth = 3   // how deep describe looks into nested values
	maxItems = 10  // how many items of a slice or map it shows
	maxLen   = 500 // how long an event's description may be
)

// describe returns a compact, one-line description of v for a failure
// report: the exported, non-zero fields of structs, the values behind
// pointers rather than their addresses, and what String or Error says.
func describe(v reflect.Value, depth int) string {
	var b strings.Builder
	write(&b, v, depth)
	s := b.String()
	if len(s) > maxLen {
		s = s[:maxLen] + "…"
	}
	return s
}

func write(b *strings.Builder, v reflect.Value, depth int) {
	if !v.IsValid() {
		b.WriteString("nil")
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
	}
	if v.CanInterface() && v.Kind() != reflect.Interface {
		switch x := v.Interface().(type) {
		case error:
			fmt.Fprintf(b, "%q", x.Error())
			return
		case fmt.Stringer:
			b.WriteString(x.String())
			return
		}
	}
	switch v.Kind() {
	case reflect.Interface:
		write(b, v.Elem(), depth)
	case reflect.Pointer:
		if depth >= maxDepth {
			fmt.Fprintf(b, "(%s)", v.Type())
			return
		}
		b.WriteString("&")
		write(b, v.Elem(), depth)
	case reflect.Struct:
		if depth >= maxDepth {
			fmt.Fprintf(b, "%s{…}", v.Type())
			return
		}
		b.WriteString("{")
		first := true
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() || v.Field(i).IsZero() {
				continue
			}
			if !first {
				b.WriteString(" ")
			}
			first = false
			b.WriteString(f.Name + ":")
			write(b, v.Field(i), depth+1)
		}
		b.WriteString("}")
	case reflect.Map:
		if depth >= maxDepth {
			fmt.Fprintf(b, "%s(len %d)", v.Type(), v.Len())
			return
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(x, y reflect.Value) int {
			return strings.Compare(fmt.Sprint(x), fmt.Sprint(y))
		})
		b.WriteString("map[")
		for i, k := range keys {
			if i == maxItems {
				fmt.Fprintf(b, " …%d more", len(keys)-maxItems)
				break
			}
			if i > 0 {
				b.WriteString(" ")
			}
			write(b, k, depth+1)
			b.WriteString(":")
			write(b, v.MapIndex(k), depth+1)
		}
		b.WriteString("]")
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 && v.Kind() == reflect.Slice {
			data := v.Bytes()
			if len(data) > 64 {
				fmt.Fprintf(b, "%q…(%d bytes)", data[:64], len(data))
				return
			}
			fmt.Fprintf(b, "%q", data)
			return
		}
		if depth >= maxDepth {
			fmt.Fprintf(b, "%s(len %d)", v.Type(), v.Len())
			return
		}
		b.WriteString("[")
		for i := range v.Len() {
			if i == maxItems {
				fmt.Fprintf(b, " …%d more", v.Len()-maxItems)
				break
			}
			if i > 0 {
				b.WriteString(" ")
			}
			write(b, v.Index(i), depth+1)
		}
		b.WriteString("]")
	case reflect.String:
		fmt.Fprintf(b, "%q", v.String())
	case reflect.Func, reflect.Chan, reflect.UnsafePointer:
		fmt.Fprintf(b, "(%s)", v.Type())
	default:
		if v.CanInterface() {
			fmt.Fprint(b, v.Interface())
			return
		}
		fmt.Fprint(b, v)
	}
}
