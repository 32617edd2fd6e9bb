package statedb

import (
	"encoding/json"
	"testing"
)

// FuzzQuery feeds arbitrary queries and documents through the parser, the
// matcher and a real Query: nothing may panic, and a query that parses must
// run, with every projected result still valid JSON.
func FuzzQuery(f *testing.F) {
	seeds := []string{
		`{"selector":{}}`,
		`{"selector":{"name":{"$regex":"^a"}},"sort":[{"age":"desc"}],"limit":2,"skip":1,"fields":["name","a.b"]}`,
		`{"selector":{"$or":[{"a":{"$gt":1}},{"b":{"$elemMatch":{"$in":[1,"x",null]}}}]}}`,
		`{"selector":{"$not":{"a.0.b":{"$all":[1],"$size":1}}},"fields":["a","a.b"]}`,
		`{"selector":{"a":{"$mod":[3,1],"$type":"number","$exists":true,"$nin":[2]}}}`,
		`{"selector":{"a":{"$nor":[{"$lt":0},{"$allMatch":{"$ne":1}}]}},"use_index":"x"}`,
		`{"selector":{"_id":{"$gte":""}},"sort":["_id"]}`,
		`{"selector":[]}`, `{`, `null`,
	}
	for _, s := range seeds {
		f.Add(s, `{"name":"alice","age":3,"a":[{"b":1}],"b":[1,"x"]}`)
	}
	f.Add(`{"selector":{"n":{"$gt":-0}}}`, `{"n":-12345678901234567890123}`)
	db, _ := openTemp(f)
	b := NewUpdateBatch()
	for i, d := range queryDocs {
		b.Put("q", d.key, []byte(d.value), nil, Version{1, uint64(i)})
	}
	mustCommit(f, db, b, 1)
	f.Fuzz(func(t *testing.T, query, doc string) {
		pq, err := parseQuery(query)
		if err != nil {
			if _, qerr := db.Query("q", query); qerr == nil {
				t.Fatalf("parseQuery failed (%v) but Query accepted %q", err, query)
			}
			return
		}
		if v, err := decodeJSON([]byte(doc)); err == nil {
			pq.sel.match(v)
			for _, sf := range pq.sort {
				if x, ok := resolve(v, sf.path); ok {
					collate(x, v)
				}
			}
		}
		it, err := db.Query("q", query)
		if err != nil {
			t.Fatalf("parsed query rejected by Query: %v", err)
		}
		defer it.Close()
		for n := 0; ; n++ {
			kv, err := it.Next()
			if err != nil {
				t.Fatal(err)
			}
			if kv == nil {
				break
			}
			if !json.Valid(kv.Value) {
				t.Fatalf("result %q is not JSON: %q", kv.Key, kv.Value)
			}
			if n > len(queryDocs) {
				t.Fatal("more results than documents")
			}
		}
	})
}
