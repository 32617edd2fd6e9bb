package statedb

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPutGetDelete(t *testing.T) {
	db, path := openTemp(t)
	if _, ok := db.Savepoint(); ok {
		t.Fatal("fresh db has a savepoint")
	}
	b := NewUpdateBatch()
	b.Put("cc", "a", []byte("va"), nil, Version{1, 0})
	b.Put("cc", "b", []byte("vb"), []byte("meta-b"), Version{1, 1})
	b.Put("other", "a", []byte("other-a"), nil, Version{1, 2})
	b.Put("cc", "empty", nil, nil, Version{1, 3})
	mustCommit(t, db, b, 1)

	tests := []struct {
		ns, key   string
		wantNil   bool
		val, meta string
		v         Version
	}{
		{ns: "cc", key: "a", val: "va", v: Version{1, 0}},
		{ns: "cc", key: "b", val: "vb", meta: "meta-b", v: Version{1, 1}},
		{ns: "other", key: "a", val: "other-a", v: Version{1, 2}},
		{ns: "cc", key: "empty", val: "", v: Version{1, 3}},
		{ns: "cc", key: "missing", wantNil: true},
		{ns: "nope", key: "a", wantNil: true},
		{ns: "c", key: "c\x00a", wantNil: true}, // must not alias cc/a
	}
	check := func(stage string) {
		for _, tc := range tests {
			vv, err := db.Get(tc.ns, tc.key)
			if err != nil {
				t.Fatalf("%s: get %s/%q: %v", stage, tc.ns, tc.key, err)
			}
			if tc.wantNil {
				if vv != nil {
					t.Fatalf("%s: get %s/%q = %+v, want nil", stage, tc.ns, tc.key, vv)
				}
				continue
			}
			if vv == nil || string(vv.Value) != tc.val || string(vv.Metadata) != tc.meta || vv.Version != tc.v {
				t.Fatalf("%s: get %s/%q = %+v, want %q %q %v", stage, tc.ns, tc.key, vv, tc.val, tc.meta, tc.v)
			}
			if tc.meta == "" && vv.Metadata != nil {
				t.Fatalf("%s: get %s/%q: metadata %q, want nil", stage, tc.ns, tc.key, vv.Metadata)
			}
		}
	}
	check("before reopen")

	// Delete and overwrite; the deleted key disappears, the other changes version.
	b = NewUpdateBatch()
	b.Delete("cc", "a", Version{2, 0})
	b.Put("cc", "b", []byte("vb2"), nil, Version{2, 1})
	mustCommit(t, db, b, 2)
	tests[0] = struct {
		ns, key   string
		wantNil   bool
		val, meta string
		v         Version
	}{ns: "cc", key: "a", wantNil: true}
	tests[1].val, tests[1].meta, tests[1].v = "vb2", "", Version{2, 1}
	check("after delete")

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	db = db2
	check("after reopen")
	if sp, ok := db.Savepoint(); !ok || sp != 2 {
		t.Fatalf("savepoint after reopen = %d,%v, want 2", sp, ok)
	}
}

func TestCommitErrors(t *testing.T) {
	db, _ := openTemp(t)
	mustCommit(t, db, nil, 0) // genesis: no writes, savepoint 0
	if sp, ok := db.Savepoint(); !ok || sp != 0 {
		t.Fatalf("savepoint = %d,%v, want 0,true", sp, ok)
	}
	tests := []struct {
		name  string
		batch func() *UpdateBatch
		block uint64
		want  string
	}{
		{"replayed block", NewUpdateBatch, 0, "already at savepoint 0"},
		{"namespace with NUL", func() *UpdateBatch {
			b := NewUpdateBatch()
			b.Put("c\x00c", "k", []byte("v"), nil, Version{1, 0})
			return b
		}, 1, "must not contain"},
		{"key too large", func() *UpdateBatch {
			b := NewUpdateBatch()
			b.Put("cc", strings.Repeat("k", 40000), []byte("v"), nil, Version{1, 0})
			return b
		}, 1, "max 32768"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := db.Commit(tc.batch(), tc.block)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want containing %q", err, tc.want)
			}
			if sp, _ := db.Savepoint(); sp != 0 {
				t.Fatalf("failed commit moved savepoint to %d", sp)
			}
		})
	}
	if _, err := db.Get("a\x00b", "k"); err == nil {
		t.Fatal("Get accepted namespace with NUL")
	}
	if _, err := db.GetRange("a\x00b", "", ""); err == nil {
		t.Fatal("GetRange accepted namespace with NUL")
	}
	if _, err := db.History("a\x00b", "k"); err == nil {
		t.Fatal("History accepted namespace with NUL")
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(filepath.Join(dir, "missing", "state.db")); err == nil {
		t.Fatal("open in missing directory succeeded")
	}
	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, bytes.Repeat([]byte("x"), 8192), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(junk); err == nil {
		t.Fatal("open of a non-bbolt file succeeded")
	}
}

func TestBatch(t *testing.T) {
	b := NewUpdateBatch()
	if _, _, ok := b.Get("cc", "k"); ok {
		t.Fatal("empty batch reports a write")
	}
	val := []byte("v1")
	b.Put("cc", "k", val, []byte("m"), Version{3, 0})
	val[0] = 'X' // the batch must have copied
	vv, del, ok := b.Get("cc", "k")
	if !ok || del || string(vv.Value) != "v1" || string(vv.Metadata) != "m" || vv.Version != (Version{3, 0}) {
		t.Fatalf("Get = %+v %v %v", vv, del, ok)
	}
	b.Delete("cc", "k", Version{3, 1})
	if vv, del, ok := b.Get("cc", "k"); !ok || !del || vv != nil {
		t.Fatalf("after delete Get = %+v %v %v", vv, del, ok)
	}
	b.Put("cc", "a", []byte("x"), nil, Version{3, 2})
	b.Put("aa", "z", []byte("y"), nil, Version{3, 3})
	if b.Len() != 3 {
		t.Fatalf("Len = %d, want 3", b.Len())
	}
	var seen []string
	b.ForEach(func(ns, key string, vv *VersionedValue, deleted bool) {
		seen = append(seen, ns+"/"+key)
		if deleted != (vv == nil) {
			t.Fatalf("%s/%s: deleted %v with value %+v", ns, key, deleted, vv)
		}
	})
	if got := strings.Join(seen, ","); got != "aa/z,cc/a,cc/k" {
		t.Fatalf("ForEach order %s", got)
	}
	if len(b.history) != 4 {
		t.Fatalf("history entries %d, want 4 (every write)", len(b.history))
	}
	var zero UpdateBatch // zero value must be usable too
	zero.Put("cc", "k", nil, nil, Version{})
	if zero.Len() != 1 {
		t.Fatal("zero-value batch lost a write")
	}
}

func TestVersionCompare(t *testing.T) {
	tests := []struct {
		a, b Version
		want int
	}{
		{Version{1, 0}, Version{1, 0}, 0},
		{Version{1, 5}, Version{2, 0}, -1},
		{Version{2, 0}, Version{1, 9}, 1},
		{Version{2, 1}, Version{2, 3}, -1},
		{Version{2, 3}, Version{2, 1}, 1},
	}
	for _, tc := range tests {
		if got := tc.a.Compare(tc.b); got != tc.want {
			t.Errorf("%v.Compare(%v) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestDecodeValueCorrupt(t *testing.T) {
	good := encodeValue(&VersionedValue{Value: []byte("v"), Metadata: []byte("mm"), Version: Version{7, 9}})
	vv, err := decodeValue(good)
	if err != nil || string(vv.Value) != "v" || string(vv.Metadata) != "mm" || vv.Version != (Version{7, 9}) {
		t.Fatalf("round trip: %+v %v", vv, err)
	}
	for _, bad := range [][]byte{nil, {9}, {valueFormat}, {valueFormat, 1, 1, 50, 'x'}, {valueFormat, 0xff}} {
		if _, err := decodeValue(bad); err == nil {
			t.Errorf("decodeValue(%x) succeeded", bad)
		}
	}
}
