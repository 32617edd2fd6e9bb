package statedb

import (
	"slices"
	"testing"
)

func TestHistory(t *testing.T) {
	db, path := openTemp(t)
	b := NewUpdateBatch()
	b.Put("cc", "k", []byte("1"), nil, Version{1, 0})
	b.Put("cc", "k\x00x", []byte("ext"), nil, Version{1, 1}) // shares k's history prefix
	b.Put("cc", "k", []byte("2"), nil, Version{1, 2})        // same block, later tx: both recorded
	b.Put("cc2", "k", []byte("o"), nil, Version{1, 3})
	mustCommit(t, db, b, 1)
	b = NewUpdateBatch()
	b.Delete("cc", "k", Version{2, 5})
	mustCommit(t, db, b, 2)
	b = NewUpdateBatch()
	b.Put("cc", "k", []byte("3"), nil, Version{300, 1})
	b.Put("cc", "k\x00", []byte("nul"), nil, Version{301, 0})
	mustCommit(t, db, b, 301)

	tests := []struct {
		ns, key string
		want    []Version
	}{
		{"cc", "k", []Version{{300, 1}, {2, 5}, {1, 2}, {1, 0}}},
		{"cc", "k\x00x", []Version{{1, 1}}},
		{"cc", "k\x00", []Version{{301, 0}}},
		{"cc2", "k", []Version{{1, 3}}},
		{"cc", "never", nil},
		{"c", "c\x00k", nil},
	}
	for _, tc := range tests {
		got, err := db.History(tc.ns, tc.key)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("History(%s, %q) = %v, want %v", tc.ns, tc.key, got, tc.want)
		}
	}
	db.Close()
	db2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if got, _ := db2.History("cc", "k"); len(got) != 4 {
		t.Fatalf("history after reopen %v", got)
	}
}

func TestPrefixEnd(t *testing.T) {
	tests := []struct{ in, want []byte }{
		{[]byte("ab"), []byte("ac")},
		{[]byte{'a', 0xff}, []byte("b")},
		{[]byte{0xff, 0xff}, nil},
	}
	for _, tc := range tests {
		if got := prefixEnd(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("prefixEnd(%x) = %x, want %x", tc.in, got, tc.want)
		}
	}
}
