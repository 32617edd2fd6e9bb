package txsim

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/ledger/statedb"
	"weft/wire/ledger/queryresult"
	"weft/wire/ledger/rwset"
	"weft/wire/ledger/rwset/kvrwset"
)

type put struct {
	ns, key string
	value   []byte
	meta    map[string][]byte
}

// openDB returns a state database holding puts committed as block 1 tx 0
// (and tx i for the i-th put, so versions differ).
func openDB(t *testing.T, puts ...put) *statedb.DB {
	t.Helper()
	db, err := statedb.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if len(puts) > 0 {
		commit(t, db, 1, puts...)
	}
	return db
}

func commit(t *testing.T, db *statedb.DB, block uint64, puts ...put) {
	t.Helper()
	b := statedb.NewUpdateBatch()
	for i, p := range puts {
		meta, err := MarshalMetadata(p.meta)
		if err != nil {
			t.Fatal(err)
		}
		b.Put(p.ns, p.key, p.value, meta, statedb.Version{BlockNum: block, TxNum: uint64(i)})
	}
	if err := db.Commit(b, block); err != nil {
		t.Fatal(err)
	}
}

// nsSet decodes the KVRWSet of ns from results, failing if absent.
func nsSet(t *testing.T, s *Simulator, ns string) *kvrwset.KVRWSet {
	t.Helper()
	rws, err := s.Results()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range rws.GetNsRwset() {
		if n.GetNamespace() == ns {
			kv := &kvrwset.KVRWSet{}
			if err := proto.Unmarshal(n.GetRwset(), kv); err != nil {
				t.Fatal(err)
			}
			return kv
		}
	}
	t.Fatalf("namespace %q not in results %v", ns, rws)
	return nil
}

func ver(b, tx uint64) *kvrwset.Version { return &kvrwset.Version{BlockNum: b, TxNum: tx} }

func TestGetStateRecordsCommittedVersion(t *testing.T) {
	db := openDB(t, put{"cc", "a", []byte("A"), nil}, put{"cc", "b", []byte("B"), nil})
	s := New(db, "tx1")
	for _, tc := range []struct {
		key  string
		want []byte
	}{{"b", []byte("B")}, {"a", []byte("A")}, {"missing", nil}} {
		got, err := s.GetState("cc", tc.key)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, tc.want) {
			t.Errorf("GetState(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
	// A commit between two reads of "a" must not change the recorded
	// version: the first read is what the transaction depended on.
	commit(t, db, 2, put{"cc", "a", []byte("A2"), nil})
	if v, _ := s.GetState("cc", "a"); string(v) != "A2" {
		t.Fatalf("second read = %q, want the new committed value", v)
	}
	want := &kvrwset.KVRWSet{Reads: []*kvrwset.KVRead{
		{Key: "a", Version: ver(1, 0)},
		{Key: "b", Version: ver(1, 1)},
		{Key: "missing"},
	}}
	if got := nsSet(t, s, "cc"); !proto.Equal(got, want) {
		t.Errorf("read set = %v, want %v", got, want)
	}
}

func TestOwnWritesNotVisible(t *testing.T) {
	db := openDB(t, put{"cc", "k", []byte("old"), nil})
	s := New(db, "tx1")
	if err := s.PutState("cc", "k", []byte("new")); err != nil {
		t.Fatal(err)
	}
	if err := s.PutState("cc", "fresh", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.GetState("cc", "k"); string(v) != "old" {
		t.Errorf("GetState after own write = %q, want committed %q", v, "old")
	}
	if v, _ := s.GetState("cc", "fresh"); v != nil {
		t.Errorf("GetState of own new key = %q, want nil", v)
	}
	it, err := s.GetStateRange("cc", "", "")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for {
		kv, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if kv == nil {
			break
		}
		keys = append(keys, kv.Key+"="+string(kv.Value))
	}
	if len(keys) != 1 || keys[0] != "k=old" {
		t.Errorf("range saw %v, want only committed k=old", keys)
	}
}

func TestWrites(t *testing.T) {
	db := openDB(t)
	s := New(db, "tx1")
	steps := []func() error{
		func() error { return s.PutState("cc", "z", []byte("1")) },
		func() error { return s.PutState("cc", "z", []byte("2")) }, // last write wins
		func() error { return s.PutState("cc", "gone", []byte("x")) },
		func() error { return s.DelState("cc", "gone") },
		func() error { return s.PutState("cc", "empty", []byte{}) }, // empty value = delete
		func() error {
			return s.SetStateMetadata("cc", "z", map[string][]byte{"b": []byte("2"), "a": []byte("1")})
		},
		func() error { return s.SetStateMetadata("cc", "m", nil) }, // metadata delete
	}
	for i, f := range steps {
		if err := f(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	want := &kvrwset.KVRWSet{
		Writes: []*kvrwset.KVWrite{
			{Key: "empty", IsDelete: true},
			{Key: "gone", IsDelete: true},
			{Key: "z", Value: []byte("2")},
		},
		MetadataWrites: []*kvrwset.KVMetadataWrite{
			{Key: "m"},
			{Key: "z", Entries: []*kvrwset.KVMetadataEntry{{Name: "a", Value: []byte("1")}, {Name: "b", Value: []byte("2")}}},
		},
	}
	if got := nsSet(t, s, "cc"); !proto.Equal(got, want) {
		t.Errorf("write set = %v\nwant %v", got, want)
	}
}

func TestStateMetadata(t *testing.T) {
	db := openDB(t, put{"cc", "k", []byte("v"), map[string][]byte{"VALIDATION_PARAMETER": []byte("p")}},
		put{"cc", "plain", []byte("v"), nil})
	s := New(db, "tx1")
	for _, tc := range []struct {
		key  string
		want map[string][]byte
	}{
		{"k", map[string][]byte{"VALIDATION_PARAMETER": []byte("p")}},
		{"plain", nil},
		{"missing", nil},
	} {
		got, err := s.GetStateMetadata("cc", tc.key)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(tc.want) || !bytes.Equal(got["VALIDATION_PARAMETER"], tc.want["VALIDATION_PARAMETER"]) {
			t.Errorf("GetStateMetadata(%q) = %v, want %v", tc.key, got, tc.want)
		}
	}
	want := &kvrwset.KVRWSet{Reads: []*kvrwset.KVRead{{Key: "k", Version: ver(1, 0)}, {Key: "missing"}, {Key: "plain", Version: ver(1, 1)}}}
	if got := nsSet(t, s, "cc"); !proto.Equal(got, want) {
		t.Errorf("metadata reads = %v, want %v", got, want)
	}
}

func TestUnmarshalMetadataRejectsGarbage(t *testing.T) {
	if _, err := UnmarshalMetadata([]byte{0xff, 0xff}); err == nil {
		t.Fatal("garbage metadata decoded without error")
	}
	if m, err := UnmarshalMetadata(nil); err != nil || m != nil {
		t.Fatalf("nil metadata = %v, %v", m, err)
	}
	if raw, err := MarshalMetadata(map[string][]byte{}); err != nil || raw != nil {
		t.Fatalf("empty metadata = %x, %v; want nil", raw, err)
	}
}

func TestInputErrors(t *testing.T) {
	db := openDB(t)
	s := New(db, "tx1")
	for name, f := range map[string]func() error{
		"empty ns get":       func() error { _, err := s.GetState("", "k"); return err },
		"empty ns put":       func() error { return s.PutState("", "k", []byte("v")) },
		"empty key put":      func() error { return s.PutState("cc", "", []byte("v")) },
		"empty key del":      func() error { return s.DelState("cc", "") },
		"bad utf8 key":       func() error { return s.PutState("cc", "\xff", []byte("v")) },
		"bad utf8 meta key":  func() error { return s.SetStateMetadata("cc", "\xff", nil) },
		"bad utf8 meta name": func() error { return s.SetStateMetadata("cc", "k", map[string][]byte{"\xff": nil}) },
		"empty ns range":     func() error { _, err := s.GetStateRange("", "a", "b"); return err },
		"no history source":  func() error { _, err := s.GetHistoryForKey("cc", "k"); return err },
	} {
		if f() == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := New(nil, "tx").GetState("cc", "k"); err == nil {
		t.Error("simulator without database: no error")
	}
}

func TestHistory(t *testing.T) {
	db := openDB(t)
	want := []*queryresult.KeyModification{{TxId: "t1", Value: []byte("v")}}
	var asked string
	s := New(db, "tx1", WithHistory(func(ns, key string) ([]*queryresult.KeyModification, error) {
		asked = ns + "/" + key
		return want, nil
	}))
	got, err := s.GetHistoryForKey("cc", "k")
	if err != nil || len(got) != 1 || got[0] != want[0] || asked != "cc/k" {
		t.Fatalf("GetHistoryForKey = %v, %v (asked %q)", got, err, asked)
	}
	failing := New(db, "tx2", WithHistory(func(string, string) ([]*queryresult.KeyModification, error) {
		return nil, errors.New("boom")
	}))
	if _, err := failing.GetHistoryForKey("cc", "k"); err == nil {
		t.Fatal("history source error not returned")
	}
	if rws, _ := s.Results(); len(rws.GetNsRwset()) != 0 {
		t.Errorf("history query recorded something: %v", rws)
	}
}

func TestDone(t *testing.T) {
	db := openDB(t, put{"cc", "a", []byte("A"), nil}, put{"cc", "b", []byte("B"), nil})
	s := New(db, "tx1")
	it, err := s.GetStateRange("cc", "a", "z")
	if err != nil {
		t.Fatal(err)
	}
	if kv, _ := it.Next(); kv == nil || kv.Key != "a" {
		t.Fatalf("first range result = %v", kv)
	}
	s.Done()
	s.Done()
	if kv, err := it.Next(); kv != nil || err != nil {
		t.Errorf("Next after Done = %v, %v; want nil, nil", kv, err)
	}
	if _, err := s.GetState("cc", "a"); !errors.Is(err, ErrDone) {
		t.Errorf("GetState after Done: %v, want ErrDone", err)
	}
	if err := s.PutState("cc", "a", []byte("x")); !errors.Is(err, ErrDone) {
		t.Errorf("PutState after Done: %v, want ErrDone", err)
	}
	// What was read before Done stays in the results.
	rqi := nsSet(t, s, "cc").GetRangeQueriesInfo()
	if len(rqi) != 1 || rqi[0].GetEndKey() != "a" || rqi[0].GetItrExhausted() {
		t.Errorf("range info after Done = %v", rqi)
	}
}

func TestNamespacesSortedAndEmptyDataModel(t *testing.T) {
	db := openDB(t)
	s := New(db, "tx1")
	for _, ns := range []string{"zeta", "_lifecycle", "alpha"} {
		if _, err := s.GetState(ns, "k"); err != nil {
			t.Fatal(err)
		}
	}
	rws, err := s.Results()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range rws.GetNsRwset() {
		got = append(got, n.GetNamespace())
	}
	if len(got) != 3 || got[0] != "_lifecycle" || got[1] != "alpha" || got[2] != "zeta" {
		t.Errorf("namespaces = %v, want sorted", got)
	}
	if rws.GetDataModel() != rwset.TxReadWriteSet_KV {
		t.Errorf("data model = %v", rws.GetDataModel())
	}
}
