package statedb

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
)

// cond is a compiled selector node evaluated against a decoded document.
type cond interface{ match(doc any) bool }

type andCond []cond
type orCond []cond
type notCond struct{ c cond }

func (a andCond) match(doc any) bool {
	for _, c := range a {
		if !c.match(doc) {
			return false
		}
	}
	return true
}

func (o orCond) match(doc any) bool {
	for _, c := range o {
		if c.match(doc) {
			return true
		}
	}
	return false
}

func (n notCond) match(doc any) bool { return !n.c.match(doc) }

// matcher is one field operator applied to a present value.
type matcher interface{ matchValue(v any) bool }

// fieldCond applies op to the value at path. As in CouchDB, a missing field
// satisfies only {"$exists": false}; negations ($not, $nor) wrap fieldCond
// and so do match documents lacking the field.
type fieldCond struct {
	path []string
	op   matcher
}

func (f fieldCond) match(doc any) bool {
	v, ok := resolve(doc, f.path)
	if !ok {
		e, isExists := f.op.(existsOp)
		return isExists && !e.want
	}
	return f.op.matchValue(v)
}

// resolve walks path through objects (and arrays, for numeric segments).
func resolve(v any, path []string) (any, bool) {
	for _, p := range path {
		switch t := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = t[p]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(t) {
				return nil, false
			}
			v = t[i]
		default:
			return nil, false
		}
	}
	return v, true
}

type eqOp struct{ arg any }
type neOp struct{ arg any }
type cmpOp struct {
	op  string
	arg any
}
type inOp struct{ args []any }
type ninOp struct{ args []any }
type allOp struct{ args []any }
type existsOp struct{ want bool }
type typeOp struct{ name string }
type regexOp struct{ re *regexp.Regexp }
type sizeOp struct{ n int }
type modOp struct{ d, r int64 }
type elemMatchOp struct {
	c   cond
	all bool
}

func (o eqOp) matchValue(v any) bool { return collate(v, o.arg) == 0 }
func (o neOp) matchValue(v any) bool { return collate(v, o.arg) != 0 }

func (o cmpOp) matchValue(v any) bool {
	c := collate(v, o.arg)
	switch o.op {
	case "$gt":
		return c > 0
	case "$gte":
		return c >= 0
	case "$lt":
		return c < 0
	}
	return c <= 0
}

func contains(args []any, v any) bool {
	for _, a := range args {
		if collate(v, a) == 0 {
			return true
		}
	}
	return false
}

// An array field is "in" the list when any of its elements is, as in CouchDB.
func (o inOp) matchValue(v any) bool {
	if arr, ok := v.([]any); ok {
		for _, e := range arr {
			if contains(o.args, e) {
				return true
			}
		}
		return false
	}
	return contains(o.args, v)
}

func (o ninOp) matchValue(v any) bool { return !inOp(o).matchValue(v) }

func (o allOp) matchValue(v any) bool {
	arr, ok := v.([]any)
	if !ok || len(o.args) == 0 {
		return false
	}
	for _, a := range o.args {
		if !contains(arr, a) {
			return false
		}
	}
	return true
}

func (o existsOp) matchValue(any) bool { return o.want }
func (o typeOp) matchValue(v any) bool { return typeName(v) == o.name }

func (o regexOp) matchValue(v any) bool {
	s, ok := v.(string)
	return ok && o.re.MatchString(s)
}

func (o sizeOp) matchValue(v any) bool {
	arr, ok := v.([]any)
	return ok && len(arr) == o.n
}

func (o modOp) matchValue(v any) bool {
	n, err := asInt(v)
	return err == nil && n%o.d == o.r
}

func (o elemMatchOp) matchValue(v any) bool {
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		return false
	}
	for _, e := range arr {
		if o.c.match(e) != o.all {
			return !o.all
		}
	}
	return o.all
}

// typeRank is CouchDB's collation order between JSON types.
func typeRank(v any) int {
	switch t := v.(type) {
	case nil:
		return 0
	case bool:
		if t {
			return 2
		}
		return 1
	case json.Number:
		return 3
	case string:
		return 4
	case []any:
		return 5
	}
	return 6
}

// collate orders two JSON values: types by typeRank, numbers numerically,
// strings by raw bytes, arrays element-wise, objects by sorted keys then
// values.
func collate(a, b any) int {
	ra, rb := typeRank(a), typeRank(b)
	if ra != rb {
		return cmpInt(ra, rb)
	}
	switch a := a.(type) {
	case json.Number:
		return compareNumbers(string(a), string(b.(json.Number)))
	case string:
		return strings.Compare(a, b.(string))
	case []any:
		bb := b.([]any)
		for i := 0; i < len(a) && i < len(bb); i++ {
			if c := collate(a[i], bb[i]); c != 0 {
				return c
			}
		}
		return cmpInt(len(a), len(bb))
	case map[string]any:
		bm := b.(map[string]any)
		ka, kb := sortedKeys(a), sortedKeys(bm)
		for i := 0; i < len(ka) && i < len(kb); i++ {
			if c := strings.Compare(ka[i], kb[i]); c != 0 {
				return c
			}
			if c := collate(a[ka[i]], bm[kb[i]]); c != 0 {
				return c
			}
		}
		return cmpInt(len(ka), len(kb))
	}
	return 0 // null, or booleans of equal rank
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareNumbers compares JSON number literals; integers of any size
// compare exactly, anything else as float64.
func compareNumbers(a, b string) int {
	if isJSONInt(a) && isJSONInt(b) {
		return compareInts(a, b)
	}
	fa, _ := strconv.ParseFloat(a, 64)
	fb, _ := strconv.ParseFloat(b, 64)
	switch {
	case fa < fb:
		return -1
	case fa > fb:
		return 1
	}
	return 0
}

func isJSONInt(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func compareInts(a, b string) int {
	na, nb := strings.HasPrefix(a, "-"), strings.HasPrefix(b, "-")
	da, db := strings.TrimLeft(strings.TrimPrefix(a, "-"), "0"), strings.TrimLeft(strings.TrimPrefix(b, "-"), "0")
	if da == "" {
		na = false // -0 is 0
	}
	if db == "" {
		nb = false
	}
	if na != nb {
		if na {
			return -1
		}
		return 1
	}
	c := cmpInt(len(da), len(db))
	if c == 0 {
		c = strings.Compare(da, db)
	}
	if na {
		return -c
	}
	return c
}
