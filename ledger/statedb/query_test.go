package statedb

import (
	"slices"
	"strings"
	"testing"
)

// queryDocs is the data set of the query tests, stored in namespace "q".
var queryDocs = []struct{ key, value string }{
	{"a1", `{"name":"alice","kind":"p","age":30,"tags":["x","y"],"addr":{"city":"Paris","zip":"75001"},"scores":[{"s":5},{"s":9}]}`},
	{"a2", `{"name":"bob","kind":"p","age":25,"tags":["y"],"addr":{"city":"Berlin"},"scores":[{"s":1}]}`},
	{"a3", `{"name":"carol","kind":"q","age":35.5,"tags":[],"vip":true}`},
	{"a4", `{"name":"dave","kind":"q","age":"old","nested":{"a.b":1}}`},
	{"a5", `{"name":"eve","kind":"p","age":null}`},
	{"arr", `[1,2,3]`},
	{"big", `{"name":"big","n":12345678901234567891}`},
	{"big2", `{"name":"big2","n":12345678901234567890}`},
	{"bin", "\x01\x02{\"name\":\"bob\"}"},
	{"num", `42`},
}

func queryDB(t testing.TB) *DB {
	db, _ := openTemp(t)
	b := NewUpdateBatch()
	for i, d := range queryDocs {
		b.Put("q", d.key, []byte(d.value), nil, Version{1, uint64(i)})
		b.Put("q2", d.key+"-other", []byte(d.value), nil, Version{1, uint64(i)})
	}
	mustCommit(t, db, b, 1)
	return db
}

func runQuery(t *testing.T, db *DB, q string) []*KV {
	t.Helper()
	it, err := db.Query("q", q)
	if err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	return drain(t, it, nil)
}

func TestQuerySelectors(t *testing.T) {
	db := queryDB(t)
	allObjects := []string{"a1", "a2", "a3", "a4", "a5", "big", "big2"}
	except := func(drop ...string) []string {
		return slices.DeleteFunc(slices.Clone(allObjects), func(k string) bool { return slices.Contains(drop, k) })
	}
	tests := []struct {
		name, selector string
		want           []string
	}{
		{"empty selector: every JSON object", `{}`, allObjects},
		{"implicit eq", `{"name":"bob"}`, []string{"a2"}},
		{"$eq", `{"name":{"$eq":"bob"}}`, []string{"a2"}},
		{"$ne needs the field", `{"name":{"$ne":"bob"}}`, except("a2")},
		{"$gt collates strings above numbers", `{"age":{"$gt":30}}`, []string{"a3", "a4"}},
		{"$gte and $lt", `{"age":{"$gte":30,"$lt":35.5}}`, []string{"a1"}},
		{"$lte includes null", `{"age":{"$lte":25}}`, []string{"a2", "a5"}},
		{"$type number", `{"age":{"$lt":26,"$type":"number"}}`, []string{"a2"}},
		{"$type null", `{"age":{"$type":"null"}}`, []string{"a5"}},
		{"$in", `{"name":{"$in":["alice","eve","zed"]}}`, []string{"a1", "a5"}},
		{"$in on array field", `{"tags":{"$in":["x"]}}`, []string{"a1"}},
		{"$in null", `{"age":{"$in":[null]}}`, []string{"a5"}},
		{"$nin", `{"name":{"$nin":["alice","bob"]}}`, except("a1", "a2")},
		{"$exists true", `{"vip":{"$exists":true}}`, []string{"a3"}},
		{"$exists false", `{"vip":{"$exists":false}}`, except("a3")},
		{"$and", `{"$and":[{"age":{"$gt":20}},{"age":{"$lt":31}}]}`, []string{"a1", "a2"}},
		{"$or", `{"$or":[{"name":"bob"},{"vip":true}]}`, []string{"a2", "a3"}},
		{"$nor", `{"$nor":[{"name":"bob"},{"vip":true}]}`, except("a2", "a3")},
		{"$not", `{"$not":{"name":"bob"}}`, except("a2")},
		{"field $not matches missing field", `{"vip":{"$not":{"$eq":true}}}`, except("a3")},
		{"field $or", `{"name":{"$or":["bob",{"$regex":"^e"}]}}`, []string{"a2", "a5"}},
		{"$regex", `{"name":{"$regex":"^[a-c]"}}`, []string{"a1", "a2", "a3", "big", "big2"}},
		{"$regex only strings", `{"age":{"$regex":"o"}}`, []string{"a4"}},
		{"$size 1", `{"tags":{"$size":1}}`, []string{"a2"}},
		{"$size 0", `{"tags":{"$size":0}}`, []string{"a3"}},
		{"$all", `{"tags":{"$all":["x","y"]}}`, []string{"a1"}},
		{"$all one", `{"tags":{"$all":["y"]}}`, []string{"a1", "a2"}},
		{"$all empty never matches", `{"tags":{"$all":[]}}`, nil},
		{"$elemMatch object", `{"scores":{"$elemMatch":{"s":{"$gt":6}}}}`, []string{"a1"}},
		{"$elemMatch scalar", `{"tags":{"$elemMatch":{"$eq":"y"}}}`, []string{"a1", "a2"}},
		{"$elemMatch non-array", `{"name":{"$elemMatch":{"$eq":"bob"}}}`, nil},
		{"$allMatch", `{"scores":{"$allMatch":{"s":{"$gt":2}}}}`, []string{"a1"}},
		{"$mod", `{"age":{"$mod":[5,0]}}`, []string{"a1", "a2"}},
		{"dotted field", `{"addr.city":"Paris"}`, []string{"a1"}},
		{"nested object form", `{"addr":{"city":"Berlin"}}`, []string{"a2"}},
		{"nested missing", `{"addr.zip":{"$exists":false}}`, except("a1")},
		{"escaped dot", `{"nested.a\\.b":1}`, []string{"a4"}},
		{"array index", `{"scores.1.s":9}`, []string{"a1"}},
		{"object equality", `{"addr":{"$eq":{"city":"Berlin"}}}`, []string{"a2"}},
		{"array equality", `{"tags":["y"]}`, []string{"a2"}},
		{"_id is the key", `{"_id":"a2"}`, []string{"a2"}},
		{"_id range", `{"_id":{"$gt":"a4"}}`, []string{"a5", "big", "big2"}},
		{"big integers exact", `{"n":{"$gt":12345678901234567890}}`, []string{"big"}},
		{"big integer eq", `{"n":12345678901234567890}`, []string{"big2"}},
		{"float equals int", `{"age":30.0}`, []string{"a1"}},
		{"no match", `{"name":"nobody"}`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := keysOf(runQuery(t, db, `{"selector":`+tc.selector+`}`))
			if !slices.Equal(got, tc.want) {
				t.Fatalf("selector %s: keys %q, want %q", tc.selector, got, tc.want)
			}
		})
	}
}

func TestQueryOptions(t *testing.T) {
	db := queryDB(t)
	tests := []struct {
		name, query string
		want        []string
	}{
		{"sort desc", `{"selector":{"age":{"$type":"number"}},"sort":[{"age":"desc"}]}`, []string{"a3", "a1", "a2"}},
		{"sort asc drops docs without the field", `{"selector":{},"sort":["age"]}`, []string{"a5", "a2", "a1", "a3", "a4"}},
		{"sort two fields", `{"selector":{"kind":{"$exists":true}},"sort":[{"kind":"asc"},{"name":"desc"}]}`,
			[]string{"a5", "a2", "a1", "a4", "a3"}},
		{"sort nested", `{"selector":{},"sort":[{"addr.city":"asc"}]}`, []string{"a2", "a1"}},
		{"limit", `{"selector":{},"limit":2}`, []string{"a1", "a2"}},
		{"skip and limit", `{"selector":{},"skip":2,"limit":2}`, []string{"a3", "a4"}},
		{"skip past end", `{"selector":{},"skip":50}`, nil},
		{"limit zero", `{"selector":{},"limit":0}`, nil},
		{"sort skip limit", `{"selector":{},"sort":[{"age":"desc"}],"skip":1,"limit":2}`, []string{"a3", "a1"}},
		{"ignored keys", `{"selector":{"name":"bob"},"use_index":["_design/x","idx"],"bookmark":"abc","execution_stats":true}`,
			[]string{"a2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := keysOf(runQuery(t, db, tc.query)); !slices.Equal(got, tc.want) {
				t.Fatalf("keys %q, want %q", got, tc.want)
			}
		})
	}
}

func TestQueryValues(t *testing.T) {
	db := queryDB(t)
	b := NewUpdateBatch()
	spaced := "{ \"name\" : \"spaced\",\n \"x\": 1 }"
	b.Put("q", "sp", []byte(spaced), nil, Version{2, 7})
	mustCommit(t, db, b, 2)
	kvs := runQuery(t, db, `{"selector":{"name":"spaced"}}`)
	if len(kvs) != 1 || string(kvs[0].Value) != spaced || kvs[0].Version != (Version{2, 7}) || kvs[0].Namespace != "q" {
		t.Fatalf("unprojected result %+v: want stored bytes untouched", kvs)
	}
	tests := []struct{ query, want string }{
		{`{"selector":{"name":"alice"},"fields":["name","addr.city"]}`, `{"addr":{"city":"Paris"},"name":"alice"}`},
		{`{"selector":{"name":"bob"},"fields":["_id","name"]}`, `{"name":"bob"}`},
		{`{"selector":{"name":"alice"},"fields":["addr.city","addr"]}`, `{"addr":{"city":"Paris","zip":"75001"}}`},
		{`{"selector":{"name":"alice"},"fields":["missing"]}`, `{}`},
		{`{"selector":{"name":"big"},"fields":["n"]}`, `{"n":12345678901234567891}`},
		{`{"selector":{"name":"alice"},"fields":["tags"],"sort":["name"]}`, `{"tags":["x","y"]}`},
	}
	for _, tc := range tests {
		kvs := runQuery(t, db, tc.query)
		if len(kvs) != 1 || string(kvs[0].Value) != tc.want {
			var got []string
			for _, kv := range kvs {
				got = append(got, string(kv.Value))
			}
			t.Errorf("%s: values %q, want [%s]", tc.query, got, tc.want)
		}
	}
	it, err := db.Query("q2", `{"selector":{"name":"bob"}}`)
	if got := keysOf(drain(t, it, err)); !slices.Equal(got, []string{"a2-other"}) {
		t.Errorf("namespace q2: %q", got)
	}
}

func TestQueryErrors(t *testing.T) {
	db := queryDB(t)
	tests := []struct{ query, want string }{
		{``, "invalid JSON"},
		{`{"selector":{}} x`, "trailing data"},
		{`[]`, "must be a JSON object"},
		{`{}`, "selector: missing"},
		{`{"selector":1}`, "selector: must be an object"},
		{`{"selector":{"a":{"$foo":1}}}`, `field "a": unknown operator "$foo"`},
		{`{"selector":{"$where":"1"}}`, `unknown operator "$where"`},
		{`{"selector":{"$and":{}}}`, "$and at (document): must be a non-empty array"},
		{`{"selector":{"$or":[]}}`, "$or"},
		{`{"selector":{"$or":[1]}}`, "$or[0]: must be an object"},
		{`{"selector":{"$not":5}}`, "$not: must be an object"},
		{`{"selector":{"a":{"$in":5}}}`, "$in: argument must be an array"},
		{`{"selector":{"a":{"$exists":"yes"}}}`, "$exists: argument must be a boolean"},
		{`{"selector":{"a":{"$regex":"("}}}`, "$regex"},
		{`{"selector":{"a":{"$regex":1}}}`, "$regex: argument must be a string"},
		{`{"selector":{"a":{"$size":-1}}}`, "$size"},
		{`{"selector":{"a":{"$mod":[0,1]}}}`, "$mod"},
		{`{"selector":{"a":{"$mod":[2]}}}`, "$mod"},
		{`{"selector":{"a":{"$type":"date"}}}`, "$type"},
		{`{"selector":{"a":{"$elemMatch":3}}}`, "$elemMatch: argument must be an object"},
		{`{"selector":{"a":{"$elemMatch":{"b":{"$bad":1}}}}}`, `unknown operator "$bad"`},
		{`{"selector":{"":1}}`, "empty field name"},
		{`{"selector":{"a..b":1}}`, "empty path segment"},
		{`{"selector":{},"sort":"name"}`, "sort: must be an array"},
		{`{"selector":{},"sort":[{"a":"up"}]}`, `field "a": direction`},
		{`{"selector":{},"sort":[{"a":"asc","b":"asc"}]}`, "exactly one field"},
		{`{"selector":{},"sort":[3]}`, "sort: entry 0"},
		{`{"selector":{},"limit":-1}`, "limit: must be a non-negative integer"},
		{`{"selector":{},"limit":1.5}`, "limit"},
		{`{"selector":{},"skip":"2"}`, "skip: must be a number"},
		{`{"selector":{},"fields":[1]}`, "fields: entry 0"},
		{`{"selector":{},"fields":"a"}`, "fields: must be an array"},
		{`{"selector":{},"foo":1}`, `unknown key "foo"`},
	}
	for _, tc := range tests {
		_, err := db.Query("q", tc.query)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Query(%s) error = %v, want containing %q", tc.query, err, tc.want)
		}
	}
	if _, err := db.Query("a\x00b", `{"selector":{}}`); err == nil {
		t.Error("Query accepted namespace with NUL")
	}
}

func TestCollate(t *testing.T) {
	// Each value sorts strictly before the next.
	ordered := []string{`null`, `false`, `true`, `-12345678901234567890`, `-1.5`, `-0`, `0.5`, `2`, `10`,
		`1e3`, `12345678901234567890`, `""`, `"A"`, `"a"`, `"ab"`, `[]`, `[1]`, `[1,2]`, `[2]`, `{}`, `{"a":1}`, `{"a":2}`, `{"b":0}`}
	vals := make([]any, len(ordered))
	for i, s := range ordered {
		v, err := decodeJSON([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		vals[i] = v
	}
	for i := range vals {
		for j := range vals {
			want := cmpInt(i, j)
			if got := collate(vals[i], vals[j]); got != want {
				t.Errorf("collate(%s, %s) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
	equal := [][2]string{{`0`, `-0`}, {`1`, `1.0`}, {`100`, `1e2`}, {`{"a":1,"b":2}`, `{"b":2,"a":1}`}}
	for _, p := range equal {
		a, _ := decodeJSON([]byte(p[0]))
		b, _ := decodeJSON([]byte(p[1]))
		if collate(a, b) != 0 {
			t.Errorf("collate(%s, %s) != 0", p[0], p[1])
		}
	}
}
