package webhooks

import (
	"encoding"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

var (
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	stringer        = reflect.TypeFor[fmt.Stringer]()
)

// compileWhere makes typed predicates over *T from where: one per group,
// all of whose fields must match.
func compileWhere[T any](where [][]Field) ([]func(*T) bool, error) {
	anyOf := make([]func(*T) bool, 0, len(where))
	for _, group := range where {
		allOf := make([]func(*T) bool, 0, len(group))
		for _, f := range group {
			p, err := compileField[T](f)
			if err != nil {
				return nil, err
			}
			allOf = append(allOf, p)
		}
		anyOf = append(anyOf, allOfPreds(allOf))
	}
	return anyOf, nil
}

func allOfPreds[T any](ps []func(*T) bool) func(*T) bool {
	return func(e *T) bool {
		for _, p := range ps {
			if !p(e) {
				return false
			}
		}
		return true
	}
}

// compileField resolves f.Name in T, once, to a path of field indices,
// parses f.Equals into the field's type, and returns the predicate.
func compileField[T any](f Field) (func(*T) bool, error) {
	var path [][]int
	t := reflect.TypeFor[T]()
	if f.Name == "" {
		return nil, fmt.Errorf("field with no name")
	}
	for seg := range strings.SplitSeq(f.Name, ".") {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return nil, fmt.Errorf("field %q: %s (%s) has no fields to name %q", f.Name, t, t.Kind(), seg)
		}
		sf, ok := t.FieldByName(seg)
		if !ok || !sf.IsExported() {
			return nil, fmt.Errorf("field %q: %s has no exported field %q", f.Name, t, seg)
		}
		path = append(path, sf.Index)
		t = sf.Type
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	eq, err := equality(t, f.Equals)
	if err != nil {
		return nil, fmt.Errorf("field %q: %w", f.Name, err)
	}
	return func(e *T) bool {
		v := reflect.ValueOf(e).Elem()
		for _, idx := range path {
			var ok bool
			if v, ok = deref(v); !ok {
				return false
			}
			var err error
			if v, err = v.FieldByIndexErr(idx); err != nil { // a nil embedded pointer
				return false
			}
		}
		v, ok := deref(v)
		return ok && eq(v)
	}, nil
}

// deref follows pointers; it reports false at a nil one.
func deref(v reflect.Value) (reflect.Value, bool) {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return v, false
		}
		v = v.Elem()
	}
	return v, true
}

// equality parses s into type t and returns the test of a value of t
// against it.
func equality(t reflect.Type, s string) (func(reflect.Value) bool, error) {
	switch t.Kind() {
	case reflect.String:
		return func(v reflect.Value) bool { return v.String() == s }, nil
	case reflect.Bool:
		want, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a %s", s, t)
		}
		return func(v reflect.Value) bool { return v.Bool() == want }, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if want, err := strconv.ParseInt(s, 0, t.Bits()); err == nil {
			return func(v reflect.Value) bool { return v.Int() == want }, nil
		}
		return byName(t, s)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if want, err := strconv.ParseUint(s, 0, t.Bits()); err == nil {
			return func(v reflect.Value) bool { return v.Uint() == want }, nil
		}
		return byName(t, s)
	case reflect.Float32, reflect.Float64:
		want, err := strconv.ParseFloat(s, t.Bits())
		if err != nil {
			return nil, fmt.Errorf("%q is not a %s", s, t)
		}
		if math.IsNaN(want) { // never == itself
			return func(v reflect.Value) bool { return math.IsNaN(v.Float()) }, nil
		}
		return func(v reflect.Value) bool { return v.Float() == want }, nil
	}
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		p := reflect.New(t)
		if err := p.Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			return nil, fmt.Errorf("%q is not a %s: %w", s, t, err)
		}
		want := p.Elem()
		if m, ok := t.MethodByName("Equal"); ok && m.Type.NumIn() == 2 && m.Type.In(1) == t &&
			m.Type.NumOut() == 1 && m.Type.Out(0).Kind() == reflect.Bool {
			return func(v reflect.Value) bool {
				return v.CanInterface() && m.Func.Call([]reflect.Value{v, want})[0].Bool()
			}, nil
		}
		if t.Comparable() {
			w := want.Interface()
			return func(v reflect.Value) bool { return v.CanInterface() && v.Interface() == w }, nil
		}
	}
	return nil, fmt.Errorf("a %s (%s) cannot be compared with text", t, t.Kind())
}

// byName matches an integer type by the name its String method gives: for
// 8-bit types, it finds the value once; for others, it compares names.
func byName(t reflect.Type, s string) (func(reflect.Value) bool, error) {
	if !t.Implements(stringer) {
		return nil, fmt.Errorf("%q is not a %s", s, t)
	}
	if t.Bits() == 8 {
		v := reflect.New(t).Elem()
		for i := range 256 {
			if t.Kind() == reflect.Int8 {
				v.SetInt(int64(int8(i)))
			} else {
				v.SetUint(uint64(i))
			}
			if v.Interface().(fmt.Stringer).String() == s {
				if t.Kind() == reflect.Int8 {
					want := v.Int()
					return func(v reflect.Value) bool { return v.Int() == want }, nil
				}
				want := v.Uint()
				return func(v reflect.Value) bool { return v.Uint() == want }, nil
			}
		}
		return nil, fmt.Errorf("%q is not a %s: no value has this name", s, t)
	}
	return func(v reflect.Value) bool {
		return v.CanInterface() && v.Interface().(fmt.Stringer).String() == s
	}, nil
}
