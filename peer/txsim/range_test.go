package txsim

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/wire/ledger/rwset/kvrwset"
)

func rawReads(reads ...*kvrwset.KVRead) *kvrwset.RangeQueryInfo_RawReads {
	return &kvrwset.RangeQueryInfo_RawReads{RawReads: &kvrwset.QueryReads{KvReads: reads}}
}

func TestRangeQueryInfo(t *testing.T) {
	puts := []put{
		{"cc", "a", []byte("1"), nil}, {"cc", "b", []byte("2"), nil},
		{"cc", "c", []byte("3"), nil}, {"other", "b", []byte("x"), nil},
	}
	tests := []struct {
		name       string
		start, end string
		reads      int // Next calls; -1 = until exhausted
		want       *kvrwset.RangeQueryInfo
	}{
		{
			name: "exhausted records requested end", start: "a", end: "c", reads: -1,
			want: &kvrwset.RangeQueryInfo{StartKey: "a", EndKey: "c", ItrExhausted: true,
				ReadsInfo: rawReads(&kvrwset.KVRead{Key: "a", Version: ver(1, 0)}, &kvrwset.KVRead{Key: "b", Version: ver(1, 1)})},
		},
		{
			name: "open end", start: "b", end: "", reads: -1,
			want: &kvrwset.RangeQueryInfo{StartKey: "b", ItrExhausted: true,
				ReadsInfo: rawReads(&kvrwset.KVRead{Key: "b", Version: ver(1, 1)}, &kvrwset.KVRead{Key: "c", Version: ver(1, 2)})},
		},
		{
			name: "partial read records last key", start: "a", end: "z", reads: 2,
			want: &kvrwset.RangeQueryInfo{StartKey: "a", EndKey: "b",
				ReadsInfo: rawReads(&kvrwset.KVRead{Key: "a", Version: ver(1, 0)}, &kvrwset.KVRead{Key: "b", Version: ver(1, 1)})},
		},
		{
			name: "empty and exhausted has no reads", start: "d", end: "z", reads: -1,
			want: &kvrwset.RangeQueryInfo{StartKey: "d", EndKey: "z", ItrExhausted: true},
		},
		{
			name: "opened but never read", start: "a", end: "z", reads: 0,
			want: &kvrwset.RangeQueryInfo{StartKey: "a"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := openDB(t, puts...)
			s := New(db, "tx")
			it, err := s.GetStateRange("cc", tc.start, tc.end)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; tc.reads < 0 || i < tc.reads; i++ {
				kv, err := it.Next()
				if err != nil {
					t.Fatal(err)
				}
				if kv == nil {
					break
				}
				if kv.Namespace != "cc" && kv.Namespace != "" {
					t.Fatalf("result from namespace %q", kv.Namespace)
				}
			}
			it.Close()
			got := nsSet(t, s, "cc")
			if len(got.GetRangeQueriesInfo()) != 1 || !proto.Equal(got.GetRangeQueriesInfo()[0], tc.want) {
				t.Errorf("range info = %v\nwant %v", got.GetRangeQueriesInfo(), tc.want)
			}
			if len(got.GetReads()) != 0 {
				t.Errorf("range results leaked into the read set: %v", got.GetReads())
			}
		})
	}
}

func TestRangeQueriesKeepOpenOrderAndDropDuplicates(t *testing.T) {
	db := openDB(t, put{"cc", "a", []byte("1"), nil})
	s := New(db, "tx")
	for _, r := range [][2]string{{"m", "n"}, {"a", "b"}, {"m", "n"}} {
		it, err := s.GetStateRange("cc", r[0], r[1])
		if err != nil {
			t.Fatal(err)
		}
		for kv, _ := it.Next(); kv != nil; kv, _ = it.Next() {
		}
	}
	got := nsSet(t, s, "cc").GetRangeQueriesInfo()
	if len(got) != 2 || got[0].GetStartKey() != "m" || got[1].GetStartKey() != "a" {
		t.Errorf("range infos = %v, want [m..n, a..b] in open order", got)
	}
}

// play runs the same logical transaction with operations issued in the
// given order.
func play(t *testing.T, s *Simulator, order []int) {
	t.Helper()
	ops := []func() error{
		func() error { _, err := s.GetState("zz", "k2"); return err },
		func() error { _, err := s.GetState("aa", "k9"); return err },
		func() error { _, err := s.GetState("aa", "k1"); return err },
		func() error { return s.PutState("zz", "w2", []byte("two")) },
		func() error { return s.PutState("aa", "w9", []byte("nine")) },
		func() error { return s.PutState("aa", "w1", []byte("one")) },
		func() error { return s.DelState("mm", "d") },
		func() error {
			return s.SetStateMetadata("aa", "w1", map[string][]byte{"y": []byte("1"), "x": []byte("2"), "z": nil})
		},
		func() error {
			it, err := s.GetStateRange("mm", "a", "z")
			if err != nil {
				return err
			}
			for kv, err := it.Next(); kv != nil || err != nil; kv, err = it.Next() {
				if err != nil {
					return err
				}
			}
			return nil
		},
	}
	for _, i := range order {
		if err := ops[i](); err != nil {
			t.Fatal(err)
		}
	}
}

func TestResultsDeterministic(t *testing.T) {
	puts := []put{{"aa", "k1", []byte("v"), nil}, {"zz", "k2", []byte("v"), nil}, {"mm", "b", []byte("v"), nil}}
	db := openDB(t, puts...)
	s1, s2 := New(db, "tx"), New(db, "tx")
	play(t, s1, []int{0, 1, 2, 3, 4, 5, 6, 7, 8})
	play(t, s2, []int{8, 7, 6, 5, 4, 3, 2, 1, 0})
	b1, err := s1.ResultsBytes()
	if err != nil {
		t.Fatal(err)
	}
	b2, err := s2.ResultsBytes()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b1, b2) {
		t.Fatalf("same simulation, different bytes:\n%x\n%x", b1, b2)
	}
	// Repeated calls give the same bytes too.
	if b3, _ := s1.ResultsBytes(); !bytes.Equal(b1, b3) {
		t.Fatal("second ResultsBytes call differs")
	}
	// A different simulation must not collide.
	s3 := New(db, "tx")
	play(t, s3, []int{0, 1, 2, 3, 4, 6, 7, 8})
	if b3, _ := s3.ResultsBytes(); bytes.Equal(b1, b3) {
		t.Fatal("different simulations produced identical bytes")
	}
}
