package webhooks_test

import (
	"fmt"
	"math"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/modules/webhooks"
	"github.com/fxbus/fxbus/topics"
)

// fuzzPayload has a field of every kind that Field.Equals can be parsed
// into.
type fuzzPayload struct {
	S      string
	I      int
	I8     int8
	I16    int16
	I32    int32
	I64    int64
	U      uint
	U8     uint8
	U16    uint16
	U32    uint32
	U64    uint64
	UP     uintptr
	F32    float32
	F64    float64
	B      bool
	State  topics.ThreadState // uint8 with names
	Lvl    fuzzLevel          // int8 with names, negative ones too
	Wide   fuzzWide           // int32 with names: compared by name
	Addr   netip.Addr         // a TextUnmarshaler compared with ==
	At     time.Time          // a TextUnmarshaler compared with Equal
	P      *int64             // behind a pointer
	Thread *topics.Thread     // a path through a pointer
}

type fuzzLevel int8

func (l fuzzLevel) String() string {
	if l < 0 {
		return fmt.Sprintf("below%d", -int(l))
	}
	return fmt.Sprintf("lvl%d", int(l))
}

type fuzzWide int32

func (w fuzzWide) String() string {
	switch w {
	case 0:
		return "zero"
	case 1:
		return "one"
	}
	return fmt.Sprintf("wide(%d)", int32(w))
}

// fieldCase is the documented reading of Field.Equals for one field of
// fuzzPayload, written independently of the package.
type fieldCase struct {
	name string
	// parse returns the value the field must have, or false when the text
	// must be a start error.
	parse func(text string) (any, bool)
	// other returns a value of the field's type that the predicate must
	// not match.
	other func(v any) any
}

func intCase[T ~int | ~int8 | ~int16 | ~int32 | ~int64](name string) fieldCase {
	bits := reflect.TypeFor[T]().Bits()
	return fieldCase{name,
		func(s string) (any, bool) { n, err := strconv.ParseInt(s, 0, bits); return T(n), err == nil },
		func(v any) any { return v.(T) ^ 1 }}
}

func uintCase[T ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr](name string) fieldCase {
	bits := reflect.TypeFor[T]().Bits()
	return fieldCase{name,
		func(s string) (any, bool) { n, err := strconv.ParseUint(s, 0, bits); return T(n), err == nil },
		func(v any) any { return v.(T) ^ 1 }}
}

// named is an 8-bit type with a String method, whose numeric case is c:
// a number, or else the first value, from 0 up as a byte, whose name is
// the text.
func named[T interface {
	~int8 | ~uint8
	fmt.Stringer
}](c fieldCase) fieldCase {
	parse := c.parse
	c.parse = func(s string) (any, bool) {
		if v, ok := parse(s); ok {
			return v, true
		}
		for i := range 256 {
			if v := T(i); v.String() == s {
				return v, true
			}
		}
		return nil, false
	}
	return c
}

func floatCase[T float32 | float64](name string) fieldCase {
	bits := reflect.TypeFor[T]().Bits()
	return fieldCase{name,
		func(s string) (any, bool) { f, err := strconv.ParseFloat(s, bits); return T(f), err == nil },
		func(v any) any {
			f := float64(v.(T))
			switch {
			case math.IsNaN(f):
				return T(0)
			case math.IsInf(f, 0):
				return T(0)
			case f == 0:
				return T(1)
			}
			if bits == 32 {
				return T(math.Nextafter32(float32(f), 0))
			}
			return T(math.Nextafter(f, 0))
		}}
}

var fieldCases = []fieldCase{
	{"S", func(s string) (any, bool) { return s, true }, func(v any) any { return v.(string) + "\x00" }},
	intCase[int]("I"), intCase[int8]("I8"), intCase[int16]("I16"), intCase[int32]("I32"), intCase[int64]("I64"),
	uintCase[uint]("U"), uintCase[uint8]("U8"), uintCase[uint16]("U16"), uintCase[uint32]("U32"),
	uintCase[uint64]("U64"), uintCase[uintptr]("UP"),
	floatCase[float32]("F32"), floatCase[float64]("F64"),
	{"B", func(s string) (any, bool) { b, err := strconv.ParseBool(s); return b, err == nil }, func(v any) any { return !v.(bool) }},
	named[topics.ThreadState](uintCase[topics.ThreadState]("State")), named[fuzzLevel](intCase[fuzzLevel]("Lvl")),
	{"Addr", func(s string) (any, bool) {
		var a netip.Addr
		return a, a.UnmarshalText([]byte(s)) == nil
	}, func(v any) any {
		if a := v.(netip.Addr); a.IsValid() {
			return a.Next() // the zero Addr after the last address
		}
		return netip.MustParseAddr("192.0.2.1")
	}},
	{"At", func(s string) (any, bool) {
		var t time.Time
		return t, t.UnmarshalText([]byte(s)) == nil
	}, func(v any) any { return v.(time.Time).Add(time.Nanosecond) }},
	intCase[int64]("P"),
	named[topics.ThreadState](uintCase[topics.ThreadState]("Thread.State")),
}

// set stores v in the field named name of p, allocating the pointers on
// the way.
func set(p *fuzzPayload, name string, v any) {
	f := reflect.ValueOf(p).Elem()
	for seg := range strings.SplitSeq(name, ".") {
		if f.Kind() == reflect.Pointer {
			if f.IsNil() {
				f.Set(reflect.New(f.Type().Elem()))
			}
			f = f.Elem()
		}
		f = f.FieldByName(seg)
	}
	if f.Kind() == reflect.Pointer {
		f.Set(reflect.New(f.Type().Elem()))
		f = f.Elem()
	}
	f.Set(reflect.ValueOf(v))
}

// FuzzFieldEquals proves, for any text as Field.Equals, and for a field of
// every kind that can be compared with text (string, every integer and
// unsigned integer, floats, bool, 8-bit integer types with names, a wider
// one, a netip.Addr, a time.Time, behind pointers or not), that compiling
// the condition never panics and that:
//
//   - it fails exactly when the documented reading (package strconv, the
//     names of String, UnmarshalText) rejects the text, with an error that
//     names the field and quotes the text;
//   - otherwise the predicate matches a payload whose field holds exactly
//     the value read, and not one that holds another value, nor one with a
//     nil pointer on the path;
//   - for an integer type wider than 8 bits with names, text that is not a
//     number matches the values with that name, and only those.
func FuzzFieldEquals(f *testing.F) {
	for _, s := range []string{
		"", "0", "-0", "1", "-1", "42", "0x7f", "0X7F", "-0x80", "0o17", "0b101", "1_000", "255", "256", "-129",
		"9223372036854775807", "-9223372036854775808", "18446744073709551615", "18446744073709551616",
		"1.5", "-2.5e-3", "1e39", "0x1p-2", "Inf", "+inf", "-Infinity", "NaN", "nan", "-NaN", "3.4028235e38",
		"true", "FALSE", "t", "F", "yes",
		"queue", "chatting", "invited", "ThreadState(7)", "ThreadState(256)", "lvl3", "below128", "lvl-1",
		"zero", "one", "wide(5)", "wide(-2147483648)",
		"192.0.2.1", "::ffff:192.0.2.1", "fe80::1%eth0", "255.255.255.255", "300.1.1.1",
		"2025-01-01T12:00:00Z", "2025-01-01T13:00:00+01:00", "2025-01-01T12:00:00.123456789-07:00", "yesterday",
		"\xff", "ada",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, c := range fieldCases {
			p, err := webhooks.Predicate[fuzzPayload](webhooks.Field{Name: c.name, Equals: text})
			want, ok := c.parse(text)
			if !ok {
				require.Error(t, err, "%s = %q", c.name, text)
				assert.ErrorContains(t, err, fmt.Sprintf("field %q: ", c.name))
				assert.ErrorContains(t, err, strconv.Quote(text))
				continue
			}
			require.NoError(t, err, "%s = %q", c.name, text)
			if c.name == "P" || strings.HasPrefix(c.name, "Thread.") {
				assert.False(t, p(&fuzzPayload{}), "%s = %q: a nil pointer on the path", c.name, text)
			}

			var e fuzzPayload
			set(&e, c.name, want)
			assert.True(t, p(&e), "%s = %q: the field holds %#v", c.name, text, want)
			other := c.other(want)
			set(&e, c.name, other)
			assert.False(t, p(&e), "%s = %q: the field holds %#v, not %#v", c.name, text, other, want)
		}

		// A wide type with names: a number is its value, other text a name.
		p, err := webhooks.Predicate[fuzzPayload](webhooks.Field{Name: "Wide", Equals: text})
		require.NoError(t, err, "Wide = %q: any text is a number or a name", text)
		n, numErr := strconv.ParseInt(text, 0, 32)
		var named int32
		_, _ = fmt.Sscanf(text, "wide(%d)", &named)
		for _, v := range []fuzzWide{0, 1, -1, fuzzWide(n), fuzzWide(n) ^ 1, fuzzWide(named), math.MaxInt32, math.MinInt32} {
			want := v.String() == text
			if numErr == nil {
				want = int64(v) == n
			}
			assert.Equal(t, want, p(&fuzzPayload{Wide: v}), "Wide = %q, the field holds %d (%s)", text, int32(v), v)
		}
	})
}

// FuzzFieldRoundTrip proves that a value written as text the way a
// config author would (strconv's formats, in any base with its prefix,
// the String name, MarshalText) compiles, matches a payload whose field
// holds exactly that value, whatever the value, and does not match a
// payload with another value.
func FuzzFieldRoundTrip(f *testing.F) {
	f.Add(int64(0), uint64(0), 0.0, "", uint8(0))
	f.Add(int64(-42), uint64(7), 1.5, "ada", uint8(1))
	f.Add(int64(math.MinInt64), uint64(1<<63|0x7f7fffff), math.MaxFloat64, "\xff", uint8(2))
	f.Add(int64(math.MaxInt64), uint64(1<<63), math.SmallestNonzeroFloat64, "0x10", uint8(3))
	f.Add(int64(-128), uint64(255), math.Copysign(0, -1), "chatting", uint8(7))
	f.Add(int64(1700000000123456789), uint64(0xc0000201), math.Inf(-1), " ", uint8(5))
	f.Add(int64(1), uint64(math.MaxUint64), math.NaN(), "NaN", uint8(6)) // NaNs everywhere
	f.Fuzz(func(t *testing.T, i int64, u uint64, x float64, s string, form uint8) {
		check := func(name, text string, holds, other func(*fuzzPayload)) {
			t.Helper()
			p, err := webhooks.Predicate[fuzzPayload](webhooks.Field{Name: name, Equals: text})
			require.NoError(t, err, "%s = %q", name, text)
			var e fuzzPayload
			holds(&e)
			assert.True(t, p(&e), "%s = %q: the field holds the value written", name, text)
			e = fuzzPayload{}
			other(&e)
			assert.False(t, p(&e), "%s = %q: the field holds another value", name, text)
		}
		base := []int{10, 16, 8, 2}[form%4]
		// Signed integers of every size, truncated from i.
		for _, c := range []struct {
			name string
			bits uint
		}{{"I", 64}, {"I8", 8}, {"I16", 16}, {"I32", 32}, {"I64", 64}, {"P", 64}} {
			v := i << (64 - c.bits) >> (64 - c.bits)
			check(c.name, formatInt(v, base, form), func(e *fuzzPayload) { set(e, c.name, convert(v, c.name)) },
				func(e *fuzzPayload) { set(e, c.name, convert(v^1, c.name)) })
		}
		// Unsigned integers of every size, truncated from u.
		for _, c := range []struct {
			name string
			bits uint
		}{{"U", 64}, {"U8", 8}, {"U16", 16}, {"U32", 32}, {"U64", 64}, {"UP", 64}} {
			v := u << (64 - c.bits) >> (64 - c.bits)
			check(c.name, formatUint(v, base, form), func(e *fuzzPayload) { set(e, c.name, convert(v, c.name)) },
				func(e *fuzzPayload) { set(e, c.name, convert(v^1, c.name)) })
		}
		// Floats, in strconv's formats that parse back exactly: x, and the
		// float64 and float32 whose bits are u, which reach the infinities,
		// the NaNs and the subnormals more often than the mutations of x.
		fmtByte := []byte{'g', 'e', 'f', 'x', 'G', 'E', 'X'}[int(form)%7]
		for _, x := range []float64{x, math.Float64frombits(u)} {
			check("F64", strconv.FormatFloat(x, fmtByte, -1, 64), func(e *fuzzPayload) { e.F64 = x },
				func(e *fuzzPayload) { e.F64 = floatCase[float64]("").other(x).(float64) })
		}
		for _, x32 := range []float32{float32(x), math.Float32frombits(uint32(u))} {
			check("F32", strconv.FormatFloat(float64(x32), fmtByte, -1, 32), func(e *fuzzPayload) { e.F32 = x32 },
				func(e *fuzzPayload) { e.F32 = floatCase[float32]("").other(x32).(float32) })
		}
		// Strings as they are; bools.
		check("S", s, func(e *fuzzPayload) { e.S = s }, func(e *fuzzPayload) { e.S = s + "." })
		b := i&1 == 1
		check("B", strconv.FormatBool(b), func(e *fuzzPayload) { e.B = b }, func(e *fuzzPayload) { e.B = !b })
		// Integer types with names, by their names.
		st := topics.ThreadState(u)
		check("Thread.State", st.String(), func(e *fuzzPayload) { e.Thread = &topics.Thread{State: st} },
			func(e *fuzzPayload) { e.Thread = &topics.Thread{State: st ^ 1} })
		lvl := fuzzLevel(i)
		check("Lvl", lvl.String(), func(e *fuzzPayload) { e.Lvl = lvl }, func(e *fuzzPayload) { e.Lvl = lvl ^ 1 })
		w := fuzzWide(i)
		check("Wide", w.String(), func(e *fuzzPayload) { e.Wide = w }, func(e *fuzzPayload) { e.Wide = w ^ 1 })
		// Addresses and times, by MarshalText.
		var a netip.Addr
		if form&1 == 0 {
			a = netip.AddrFrom4([4]byte{byte(u >> 24), byte(u >> 16), byte(u >> 8), byte(u)})
		} else {
			var b16 [16]byte
			for k := range 8 {
				b16[k], b16[8+k] = byte(u>>(8*k)), byte(i>>(8*k))
			}
			a = netip.AddrFrom16(b16)
		}
		text, err := a.MarshalText()
		require.NoError(t, err)
		check("Addr", string(text), func(e *fuzzPayload) { e.Addr = a }, func(e *fuzzPayload) { e.Addr = a.Next() })
		at := time.Unix(i%(1<<35), int64(u%1e9)).In(time.FixedZone("", int(int64(u>>32)%(18*60))*60))
		text, err = at.MarshalText()
		require.NoError(t, err)
		check("At", string(text), func(e *fuzzPayload) { e.At = at.UTC() },
			func(e *fuzzPayload) { e.At = at.Add(-time.Nanosecond) })
	})
}

// formatInt writes v in base with Go's prefix, as strconv.ParseInt with
// base 0 reads it; form picks upper or lower case prefixes and digits.
func formatInt(v int64, base int, form uint8) string {
	if v < 0 {
		return "-" + formatUint(uint64(-v), base, form) // -MinInt64 wraps to itself, as a uint64 it is right
	}
	return formatUint(uint64(v), base, form)
}

func formatUint(v uint64, base int, form uint8) string {
	prefix := map[int]string{10: "", 16: "0x", 8: "0o", 2: "0b"}[base]
	s := prefix + strconv.FormatUint(v, base)
	if form&4 != 0 {
		s = strings.ToUpper(s)
	}
	return s
}

// convert returns v as the type of the field name of fuzzPayload.
func convert[N int64 | uint64](v N, name string) any {
	sf, _ := reflect.TypeFor[fuzzPayload]().FieldByName(name)
	t := sf.Type
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return reflect.ValueOf(v).Convert(t).Interface()
}
