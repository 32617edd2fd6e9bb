package statedb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
)

// Query runs a CouchDB-style JSON query (see query_parse.go) over the JSON
// object values of ns. Results come in key order unless the query sorts.
// Without a sort, results stream page by page; with one, all matches are
// collected before the first Next returns.
func (db *DB) Query(ns, query string) (Iterator, error) {
	if err := checkNamespace(ns); err != nil {
		return nil, err
	}
	pq, err := parseQuery(query)
	if err != nil {
		return nil, err
	}
	qi := &queryIter{q: pq, src: db.newRangeIter(ns, "", "", pageSize), limit: pq.limit}
	if len(pq.sort) > 0 {
		if err := qi.collectSorted(); err != nil {
			return nil, err
		}
	}
	return qi, nil
}

type queryIter struct {
	q      *parsedQuery
	src    *rangeIter
	limit  int  // results still allowed; -1 unlimited
	skip   int  // matches skipped so far (unsorted mode)
	sorted bool // results already collected into buf
	buf    []*KV
	closed bool
}

// nextMatch returns the next matching KV from the scan with its decoded
// document.
func (qi *queryIter) nextMatch() (*KV, any, error) {
	for {
		kv, err := qi.src.Next()
		if err != nil || kv == nil {
			return nil, nil, err
		}
		v, err := decodeJSON(kv.Value)
		if err != nil {
			continue // not JSON: never matches
		}
		doc, ok := v.(map[string]any)
		if !ok {
			continue
		}
		doc["_id"] = kv.Key
		if qi.q.sel.match(doc) {
			return kv, doc, nil
		}
	}
}

func (qi *queryIter) Next() (*KV, error) {
	if qi.closed || qi.limit == 0 {
		return nil, nil
	}
	if qi.sorted {
		if len(qi.buf) == 0 {
			return nil, nil
		}
		kv := qi.buf[0]
		qi.buf = qi.buf[1:]
		return kv, nil
	}
	for {
		kv, doc, err := qi.nextMatch()
		if err != nil {
			return nil, fmt.Errorf("statedb: query %s: %w", qi.src.ns, err)
		}
		if kv == nil {
			return nil, nil
		}
		if qi.skip < qi.q.skip {
			qi.skip++
			continue
		}
		if qi.limit > 0 {
			qi.limit--
		}
		return qi.project(kv, doc)
	}
}

func (qi *queryIter) Close() { qi.closed, qi.buf = true, nil; qi.src.Close() }

type sortedMatch struct {
	kv   *KV
	doc  any
	keys []any
}

func (qi *queryIter) collectSorted() error {
	var ms []sortedMatch
	for {
		kv, doc, err := qi.nextMatch()
		if err != nil {
			return fmt.Errorf("statedb: query %s: %w", qi.src.ns, err)
		}
		if kv == nil {
			break
		}
		m := sortedMatch{kv: kv, doc: doc, keys: make([]any, len(qi.q.sort))}
		present := true
		for i, sf := range qi.q.sort {
			if m.keys[i], present = resolve(doc, sf.path); !present {
				break
			}
		}
		if present {
			ms = append(ms, m)
		}
	}
	// Stable: ties keep key order.
	sort.SliceStable(ms, func(i, j int) bool {
		for k, sf := range qi.q.sort {
			c := collate(ms[i].keys[k], ms[j].keys[k])
			if sf.desc {
				c = -c
			}
			if c != 0 {
				return c < 0
			}
		}
		return false
	})
	ms = ms[min(qi.q.skip, len(ms)):]
	if qi.limit >= 0 && qi.limit < len(ms) {
		ms = ms[:qi.limit]
	}
	qi.buf = make([]*KV, 0, len(ms))
	for _, m := range ms {
		kv, err := qi.project(m.kv, m.doc)
		if err != nil {
			return err
		}
		qi.buf = append(qi.buf, kv)
	}
	qi.sorted, qi.limit = true, -1
	return nil
}

// project applies the fields list. Without one the stored bytes are
// returned untouched. "_id" is never part of the output: the key is in KV.
func (qi *queryIter) project(kv *KV, doc any) (*KV, error) {
	if len(qi.q.fields) == 0 {
		return kv, nil
	}
	out := map[string]any{}
	for _, p := range qi.q.fields {
		if p[0] == "_id" {
			continue
		}
		v, ok := resolve(doc, p)
		if !ok {
			continue
		}
		setPath(out, p, v)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("statedb: query %s: key %q: projecting fields: %w", qi.src.ns, kv.Key, err)
	}
	kv.Value = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	return kv, nil
}

// setPath stores v at path inside out, creating objects on the way. A
// value already there is kept; since parseFields orders paths shortest
// first, of overlapping fields such as "a" and "a.b" the wider one wins and
// nothing is ever written into a map shared with the document.
func setPath(out map[string]any, path []string, v any) {
	for _, p := range path[:len(path)-1] {
		next, exists := out[p]
		if !exists {
			m := map[string]any{}
			out[p] = m
			out = m
			continue
		}
		m, ok := next.(map[string]any)
		if !ok {
			return
		}
		out = m
	}
	if _, exists := out[path[len(path)-1]]; !exists {
		out[path[len(path)-1]] = v
	}
}
