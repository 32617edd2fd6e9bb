package statedb

import (
	"path/filepath"
	"testing"
)

func openTemp(t testing.TB) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func mustCommit(t testing.TB, db *DB, b *UpdateBatch, block uint64) {
	t.Helper()
	if err := db.Commit(b, block); err != nil {
		t.Fatal(err)
	}
}

// drain reads an iterator to the end.
func drain(t testing.TB, it Iterator, err error) []*KV {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var out []*KV
	for {
		kv, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if kv == nil {
			return out
		}
		out = append(out, kv)
	}
}

func keysOf(kvs []*KV) []string {
	out := make([]string, len(kvs))
	for i, kv := range kvs {
		out[i] = kv.Key
	}
	return out
}
