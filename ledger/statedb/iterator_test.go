package statedb

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// composite builds a key as fabric-shim's createCompositeKey does.
func composite(objectType string, attrs ...string) string {
	k := "\x00" + objectType + "\x00"
	for _, a := range attrs {
		k += a + "\x00"
	}
	return k
}

func TestGetRange(t *testing.T) {
	db, _ := openTemp(t)
	b := NewUpdateBatch()
	plain := []string{"a", "b", "b1", "c", "z", "é"} // raw byte order: é is 0xc3 0xa9
	for i, k := range plain {
		b.Put("cc", k, []byte("v"+k), nil, Version{1, uint64(i)})
	}
	comp := []string{
		composite("owner", "alice", "car1"),
		composite("owner", "alice", "car2"),
		composite("owner", "bob", "car3"),
		composite("ownerX", "carol", "car4"),
		composite("color", "red", "car1"),
	}
	for i, k := range comp {
		b.Put("cc", k, []byte("c"), nil, Version{1, uint64(10 + i)})
	}
	b.Put("cc2", "a", []byte("other ns"), nil, Version{1, 20}) // namespace "cc2" must not leak into "cc"
	b.Put("c", "c\x00a", []byte("other ns"), nil, Version{1, 21})
	mustCommit(t, db, b, 1)

	const maxRune = "\U0010FFFF"
	tests := []struct {
		name, ns, start, end string
		want                 []string
	}{
		{"whole namespace", "cc", "", "", append(slices.Sorted(slices.Values(comp)), plain...)},
		{"half open", "cc", "b", "c", []string{"b", "b1"}},
		{"end empty means to the end", "cc", "c", "", []string{"c", "z", "é"}},
		{"start past end", "cc", "z", "a", nil},
		{"start equals end", "cc", "b", "b", nil},
		{"non-ascii", "cc", "d", "\xff", []string{"z", "é"}},
		{"partial composite one attr", "cc", composite("owner", "alice"), composite("owner", "alice") + maxRune,
			[]string{comp[0], comp[1]}},
		{"partial composite type only", "cc", composite("owner"), composite("owner") + maxRune,
			[]string{comp[0], comp[1], comp[2]}},
		{"all composite keys", "cc", "\x00", "\x00" + maxRune, slices.Sorted(slices.Values(comp))},
		{"other namespace", "cc2", "", "", []string{"a"}},
		{"prefix namespace", "c", "", "", []string{"c\x00a"}},
		{"unknown namespace", "zz", "", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			it, err := db.GetRange(tc.ns, tc.start, tc.end)
			got := keysOf(drain(t, it, err))
			if !slices.Equal(got, tc.want) {
				t.Fatalf("keys %q, want %q", got, tc.want)
			}
		})
	}
	it, _ := db.GetRange("cc", "a", "")
	kv, err := it.Next()
	if err != nil || kv.Namespace != "cc" || kv.Key != "a" || string(kv.Value) != "va" || kv.Version != (Version{1, 0}) {
		t.Fatalf("first kv %+v %v", kv, err)
	}
	it.Close()
	if kv, err := it.Next(); kv != nil || err != nil {
		t.Fatalf("Next after Close = %+v %v", kv, err)
	}
}

// TestRangePagingAndConcurrentCommit crosses page boundaries and commits
// while an iterator is half-way: the commit must not wait for the iterator.
func TestRangePagingAndConcurrentCommit(t *testing.T) {
	db, _ := openTemp(t)
	b := NewUpdateBatch()
	var want []string
	for i := 0; i < 25; i++ {
		k := fmt.Sprintf("k%03d", i)
		want = append(want, k)
		b.Put("cc", k, []byte("v"), nil, Version{1, uint64(i)})
	}
	mustCommit(t, db, b, 1)
	for _, size := range []int{1, 4, 5, 25, 100} {
		got := keysOf(drain(t, db.newRangeIter("cc", "", "", size), nil))
		if !slices.Equal(got, want) {
			t.Fatalf("page size %d: keys %q", size, got)
		}
	}

	it := db.newRangeIter("cc", "", "", 4)
	if kv, err := it.Next(); err != nil || kv.Key != "k000" {
		t.Fatalf("first: %+v %v", kv, err)
	}
	done := make(chan error, 1)
	go func() {
		b := NewUpdateBatch()
		b.Delete("cc", "k010", Version{2, 0})
		b.Put("cc", "k020x", []byte("new"), nil, Version{2, 1})
		done <- db.Commit(b, 2)
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("commit blocked by an open iterator")
	}
	rest := keysOf(drain(t, it, nil))
	// The page already read (k001..k003) predates the commit; later pages see it.
	if slices.Contains(rest, "k010") || !slices.Contains(rest, "k020x") || rest[0] != "k001" {
		t.Fatalf("keys after concurrent commit %q", rest)
	}
}
