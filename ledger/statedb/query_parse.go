package statedb

// The query language is the subset of CouchDB Mango that Fabric chaincode
// uses:
//
//	{"selector": {...}, "sort": [...], "limit": n, "skip": n, "fields": [...],
//	 "use_index": ..., "bookmark": ..., "execution_stats": ...}
//
// Selector operators: $eq $ne $gt $gte $lt $lte $in $nin $exists $type $mod
// $regex $size $all $elemMatch $allMatch and the combinators $and $or $nor
// $not, at the top level or under a field. A plain value under a field means
// $eq; an object under a field without operators selects sub-fields, as does
// a dotted name ("a.b"; "\." is a literal dot; a numeric segment indexes an
// array). "_id" is the state key.
//
// Differences from CouchDB, all deliberate: use_index, bookmark,
// execution_stats, r, conflicts, update, stable and stale are accepted and
// ignored (every query scans the namespace, so no index is needed for sort);
// sort fields may mix asc and desc; strings compare by raw bytes instead of
// ICU collation; $regex uses Go RE2 syntax (no look-around or backrefs).
// Like CouchDB's index-backed sort, documents lacking a sort field are left
// out of sorted results. Values that are not JSON objects never match.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

type sortField struct {
	path []string
	desc bool
}

// parsedQuery is a validated query, ready to run.
type parsedQuery struct {
	sel    cond
	sort   []sortField
	limit  int // -1: none
	skip   int
	fields [][]string
}

var ignoredQueryKeys = map[string]bool{
	"use_index": true, "bookmark": true, "execution_stats": true, "r": true,
	"conflicts": true, "update": true, "stable": true, "stale": true,
}

// decodeJSON decodes exactly one JSON value, keeping numbers as json.Number
// so large integers compare exactly.
func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("trailing data after JSON value")
	}
	return v, nil
}

func parseQuery(q string) (*parsedQuery, error) {
	v, err := decodeJSON([]byte(q))
	if err != nil {
		return nil, fmt.Errorf("query: invalid JSON: %w", err)
	}
	top, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("query: must be a JSON object")
	}
	pq := &parsedQuery{limit: -1}
	for _, k := range sortedKeys(top) {
		val := top[k]
		switch {
		case k == "selector":
			m, ok := val.(map[string]any)
			if !ok {
				return nil, errors.New("query: selector: must be an object")
			}
			if pq.sel, err = compileObject(m, nil); err != nil {
				return nil, fmt.Errorf("query: selector: %w", err)
			}
		case k == "sort":
			if pq.sort, err = parseSort(val); err != nil {
				return nil, fmt.Errorf("query: sort: %w", err)
			}
		case k == "limit":
			if pq.limit, err = parseCount(val); err != nil {
				return nil, fmt.Errorf("query: limit: %w", err)
			}
		case k == "skip":
			if pq.skip, err = parseCount(val); err != nil {
				return nil, fmt.Errorf("query: skip: %w", err)
			}
		case k == "fields":
			if pq.fields, err = parseFields(val); err != nil {
				return nil, fmt.Errorf("query: fields: %w", err)
			}
		case ignoredQueryKeys[k]:
		default:
			return nil, fmt.Errorf("query: unknown key %q", k)
		}
	}
	if pq.sel == nil {
		return nil, errors.New("query: selector: missing")
	}
	return pq, nil
}

func parseCount(v any) (int, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("must be a number, got %s", typeName(v))
	}
	i, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil || i < 0 {
		return 0, fmt.Errorf("must be a non-negative integer, got %s", n)
	}
	return int(min(i, math.MaxInt32)), nil
}

func parseSort(v any) ([]sortField, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("must be an array, got %s", typeName(v))
	}
	out := make([]sortField, 0, len(arr))
	for i, e := range arr {
		var sf sortField
		var name string
		switch e := e.(type) {
		case string:
			name = e
		case map[string]any:
			if len(e) != 1 {
				return nil, fmt.Errorf("entry %d: object must have exactly one field", i)
			}
			for f, dir := range e {
				name = f
				switch dir {
				case "asc":
				case "desc":
					sf.desc = true
				default:
					return nil, fmt.Errorf("entry %d: field %q: direction must be \"asc\" or \"desc\"", i, f)
				}
			}
		default:
			return nil, fmt.Errorf("entry %d: must be a field name or {field: direction}, got %s", i, typeName(e))
		}
		p, err := splitField(name)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		sf.path = p
		out = append(out, sf)
	}
	return out, nil
}

func parseFields(v any) ([][]string, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("must be an array, got %s", typeName(v))
	}
	var out [][]string
	for i, e := range arr {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("entry %d: must be a string, got %s", i, typeName(e))
		}
		p, err := splitField(s)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		out = append(out, p)
	}
	// Shortest first: see setPath.
	sort.SliceStable(out, func(i, j int) bool { return len(out[i]) < len(out[j]) })
	return out, nil
}

// splitField splits a dotted field name; "\." is a literal dot.
func splitField(name string) ([]string, error) {
	if name == "" {
		return nil, errors.New("empty field name")
	}
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(name); i++ {
		switch {
		case name[i] == '\\' && i+1 < len(name) && name[i+1] == '.':
			cur.WriteByte('.')
			i++
		case name[i] == '.':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(name[i])
		}
	}
	parts = append(parts, cur.String())
	for _, p := range parts {
		if p == "" {
			return nil, fmt.Errorf("field %q: empty path segment", name)
		}
	}
	return parts, nil
}

func joinPath(path []string) string {
	if len(path) == 0 {
		return "(document)"
	}
	return strconv.Quote(strings.Join(path, "."))
}

func withPath(path []string, sub ...string) []string {
	return append(append(make([]string, 0, len(path)+len(sub)), path...), sub...)
}

// compileObject compiles a selector object applying to the value at path
// (nil: the document itself, or the element inside $elemMatch).
func compileObject(m map[string]any, path []string) (cond, error) {
	var conds andCond
	for _, k := range sortedKeys(m) {
		v := m[k]
		var c cond
		var err error
		switch {
		case k == "$and" || k == "$or" || k == "$nor":
			c, err = compileList(k, v, path)
		case k == "$not":
			var inner cond
			if inner, err = compileValue(v, path, k); err == nil {
				c = notCond{inner}
			}
		case strings.HasPrefix(k, "$"):
			var op matcher
			if op, err = compileOp(k, v); err == nil {
				c = fieldCond{path: path, op: op}
			}
			if err != nil {
				err = fmt.Errorf("field %s: %w", joinPath(path), err)
			}
		default:
			var sub []string
			if sub, err = splitField(k); err == nil {
				c, err = compileValue(v, withPath(path, sub...), k)
			}
		}
		if err != nil {
			return nil, err
		}
		conds = append(conds, c)
	}
	if len(conds) == 1 {
		return conds[0], nil
	}
	return conds, nil
}

// compileValue compiles what appears under a field name or combinator: an
// object is a nested selector, anything else an implicit $eq.
func compileValue(v any, path []string, under string) (cond, error) {
	if m, ok := v.(map[string]any); ok && (len(m) > 0 || len(path) == 0) {
		return compileObject(m, path)
	}
	if len(path) == 0 {
		return nil, fmt.Errorf("%s: must be an object, got %s", under, typeName(v))
	}
	return fieldCond{path: path, op: eqOp{v}}, nil
}

func compileList(op string, v any, path []string) (cond, error) {
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		return nil, fmt.Errorf("operator %s at %s: must be a non-empty array", op, joinPath(path))
	}
	cs := make([]cond, 0, len(arr))
	for i, e := range arr {
		c, err := compileValue(e, path, fmt.Sprintf("%s[%d]", op, i))
		if err != nil {
			return nil, fmt.Errorf("operator %s at %s: %w", op, joinPath(path), err)
		}
		cs = append(cs, c)
	}
	switch op {
	case "$and":
		return andCond(cs), nil
	case "$or":
		return orCond(cs), nil
	}
	return notCond{orCond(cs)}, nil
}
