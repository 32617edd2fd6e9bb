package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
)

// paramDecoder turns one string argument into a parameter value.
type paramDecoder func(arg string) (reflect.Value, error)

func decoderFor(t reflect.Type) (paramDecoder, error) {
	if t == contextType {
		return nil, fmt.Errorf("a second contract.Context is not supported")
	}
	switch t.Kind() {
	case reflect.String:
		return func(a string) (reflect.Value, error) {
			v := reflect.New(t).Elem()
			v.SetString(a)
			return v, nil
		}, nil
	case reflect.Bool:
		return func(a string) (reflect.Value, error) {
			b, err := strconv.ParseBool(a)
			if err != nil {
				return reflect.Value{}, fmt.Errorf("%q is not a bool (true or false)", a)
			}
			v := reflect.New(t).Elem()
			v.SetBool(b)
			return v, nil
		}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return func(a string) (reflect.Value, error) {
			n, err := strconv.ParseInt(a, 10, t.Bits())
			if err != nil {
				return reflect.Value{}, fmt.Errorf("%q is not an integer that fits %s", a, t)
			}
			v := reflect.New(t).Elem()
			v.SetInt(n)
			return v, nil
		}, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return func(a string) (reflect.Value, error) {
			n, err := strconv.ParseUint(a, 10, t.Bits())
			if err != nil {
				return reflect.Value{}, fmt.Errorf("%q is not a non-negative integer that fits %s", a, t)
			}
			v := reflect.New(t).Elem()
			v.SetUint(n)
			return v, nil
		}, nil
	case reflect.Float32, reflect.Float64:
		return func(a string) (reflect.Value, error) {
			f, err := strconv.ParseFloat(a, t.Bits())
			if err != nil {
				return reflect.Value{}, fmt.Errorf("%q is not a %s", a, t)
			}
			v := reflect.New(t).Elem()
			v.SetFloat(f)
			return v, nil
		}, nil
	case reflect.Struct, reflect.Pointer, reflect.Slice, reflect.Map, reflect.Array:
		return func(a string) (reflect.Value, error) {
			p := reflect.New(t)
			dec := json.NewDecoder(bytes.NewReader([]byte(a)))
			// Misspelled fields are far more often bugs than intent.
			dec.DisallowUnknownFields()
			if err := dec.Decode(p.Interface()); err != nil {
				return reflect.Value{}, fmt.Errorf("%q is not JSON for %s: %v", abbrev(a), t, err)
			}
			if dec.More() {
				return reflect.Value{}, fmt.Errorf("%q has data after the JSON value for %s", abbrev(a), t)
			}
			return p.Elem(), nil
		}, nil
	}
	return nil, fmt.Errorf("type %s is not supported (use string, bool, numbers or a JSON-encodable type)", t)
}

// abbrev keeps error messages short when a client sends a large document.
func abbrev(s string) string {
	const limit = 64
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "…"
}

func checkResultType(t reflect.Type) error {
	switch t.Kind() {
	case reflect.Chan, reflect.Func, reflect.UnsafePointer, reflect.Complex64, reflect.Complex128:
		return fmt.Errorf("type %s cannot be encoded as JSON", t)
	}
	return nil
}

// encodeResult turns a function's result into the response payload.
// Strings and byte slices are returned as they are, like Fabric's contract
// APIs do, so that clients reading e.g. an old owner get plain text; other
// values are JSON. A nil slice is an empty JSON array and a nil pointer,
// map or interface an empty payload.
func encodeResult(v reflect.Value) ([]byte, error) {
	switch v.Kind() {
	case reflect.String:
		return []byte(v.String()), nil
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return v.Bytes(), nil
		}
		if v.IsNil() {
			return []byte("[]"), nil
		}
	case reflect.Pointer, reflect.Map, reflect.Interface:
		if v.IsNil() {
			return nil, nil
		}
	}
	return json.Marshal(v.Interface())
}

// encodeEvent makes an event payload: bytes and strings as they are,
// anything else JSON.
func encodeEvent(v any) ([]byte, error) {
	switch p := v.(type) {
	case nil:
		return nil, nil
	case []byte:
		return p, nil
	case string:
		return []byte(p), nil
	}
	return json.Marshal(v)
}
