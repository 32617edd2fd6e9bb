package txsim

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/wire/ledger/rwset/kvrwset"
)

func TestQueryRecordsReturnedKeys(t *testing.T) {
	db := openDB(t,
		put{"cc", "a1", []byte(`{"color":"red"}`), nil},
		put{"cc", "a2", []byte(`{"color":"blue"}`), nil},
		put{"cc", "a3", []byte(`{"color":"red"}`), nil},
	)
	s := New(db, "tx")
	it, err := s.GetQueryResult("cc", `{"selector":{"color":"red"}}`)
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
		keys = append(keys, kv.Key)
	}
	it.Close()
	if len(keys) != 2 || keys[0] != "a1" || keys[1] != "a3" {
		t.Fatalf("query returned %v, want [a1 a3]", keys)
	}
	want := &kvrwset.KVRWSet{Reads: []*kvrwset.KVRead{{Key: "a1", Version: ver(1, 0)}, {Key: "a3", Version: ver(1, 2)}}}
	if got := nsSet(t, s, "cc"); !proto.Equal(got, want) {
		t.Errorf("read set = %v, want %v", got, want)
	}
	if _, err := s.GetQueryResult("cc", `{not json`); err == nil {
		t.Error("malformed query accepted")
	}
}
