package configtxgen

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// obj is one YAML mapping from configtx.yaml, already merged by yaml.v3
// (anchors, aliases and "<<" keys resolved), together with its key path so
// that every error can say exactly where the problem is.
//
// Keys are matched case-insensitively because Fabric's configtxgen reads the
// file through viper, which lower-cases every key: "ClientTLSCert" and
// "clienttlscert" are the same key there, so they must be here too.
type obj struct {
	path string
	m    map[string]any // canonical key -> value
}

// newObj checks that v is a mapping whose keys are all among allowed and
// returns it with keys rewritten to their canonical spelling. A YAML null
// (an empty section such as "Organizations:") becomes an empty mapping.
func newObj(path string, v any, allowed ...string) (obj, error) {
	o := obj{path: path, m: map[string]any{}}
	if v == nil {
		return o, nil
	}
	raw, err := stringKeyed(path, v)
	if err != nil {
		return o, err
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic error messages
	for _, k := range keys {
		canon := ""
		for _, a := range allowed {
			if strings.EqualFold(a, k) {
				canon = a
				break
			}
		}
		if canon == "" {
			return o, fmt.Errorf("%s: unknown key %q (allowed: %s)", join(path, k), k, strings.Join(allowed, ", "))
		}
		if _, dup := o.m[canon]; dup {
			return o, fmt.Errorf("%s: key given twice with different letter case", join(path, canon))
		}
		o.m[canon] = raw[k]
	}
	return o, nil
}

// stringKeyed accepts both map shapes yaml.v3 can produce for a mapping.
func stringKeyed(path string, v any) (map[string]any, error) {
	switch t := v.(type) {
	case map[string]any:
		return t, nil
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, val := range t {
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("%s: key %v is not a string", path, k)
			}
			out[ks] = val
		}
		return out, nil
	default:
		return nil, fmt.Errorf("%s: want a mapping, got %s", path, describe(v))
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (o obj) at(key string) string { return join(o.path, key) }

func (o obj) has(key string) bool {
	v, ok := o.m[key]
	return ok && v != nil
}

func (o obj) sub(key string, allowed ...string) (obj, error) {
	return newObj(o.at(key), o.m[key], allowed...)
}

func (o obj) str(key string) (string, error) {
	v, ok := o.m[key]
	if !ok || v == nil {
		return "", nil
	}
	switch t := v.(type) {
	case string:
		return t, nil
	case int, float64, bool:
		// viper turns scalars into strings where a string is wanted.
		return fmt.Sprint(t), nil
	}
	return "", fmt.Errorf("%s: want a string, got %s", o.at(key), describe(v))
}

func (o obj) list(key string) ([]any, error) {
	v, ok := o.m[key]
	if !ok || v == nil {
		return nil, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: want a list, got %s", o.at(key), describe(v))
	}
	return l, nil
}

func (o obj) strList(key string) ([]string, error) {
	l, err := o.list(key)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(l))
	for i, v := range l {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%s[%d]: want a string, got %s", o.at(key), i, describe(v))
		}
		out = append(out, s)
	}
	return out, nil
}

func (o obj) boolean(key string) (bool, error) {
	v, ok := o.m[key]
	if !ok || v == nil {
		return false, nil
	}
	switch t := v.(type) {
	case bool:
		return t, nil
	case string:
		b, err := strconv.ParseBool(t)
		if err == nil {
			return b, nil
		}
	}
	return false, fmt.Errorf("%s: want true or false, got %s", o.at(key), describe(v))
}

// uint reads an unsigned integer no larger than max; numeric strings are
// accepted because viper would accept them.
func (o obj) uint(key string, max uint64) (uint64, error) {
	v, ok := o.m[key]
	if !ok || v == nil {
		return 0, nil
	}
	var n uint64
	switch t := v.(type) {
	case int:
		if t < 0 {
			return 0, fmt.Errorf("%s: must not be negative, got %d", o.at(key), t)
		}
		n = uint64(t)
	case uint64:
		n = t
	case string:
		p, err := strconv.ParseUint(strings.TrimSpace(t), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: want a whole number, got %q", o.at(key), t)
		}
		n = p
	default:
		return 0, fmt.Errorf("%s: want a whole number, got %s", o.at(key), describe(v))
	}
	if n > max {
		return 0, fmt.Errorf("%s: %d is too large (max %d)", o.at(key), n, max)
	}
	return n, nil
}

// byteSize reads a uint32 size that may carry a K, M or G unit.
func (o obj) byteSize(key string) (uint32, error) {
	v, ok := o.m[key]
	if !ok || v == nil {
		return 0, nil
	}
	if s, isStr := v.(string); isStr {
		n, err := parseByteSize(s)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", o.at(key), err)
		}
		return n, nil
	}
	n, err := o.uint(key, math.MaxUint32)
	return uint32(n), err
}

func describe(v any) string {
	switch v.(type) {
	case nil:
		return "nothing"
	case map[string]any, map[any]any:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		return fmt.Sprintf("the string %q", v)
	default:
		return fmt.Sprintf("%T %v", v, v)
	}
}
