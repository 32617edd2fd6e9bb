package channel

import (
	"testing"

	"weft/wire/peer"
)

func TestRecentFilters(t *testing.T) {
	var r recentFilters
	src := []byte{0, 11}
	r.add(5, src)
	src[0] = 99 // the caller's slice is not kept
	tests := []struct {
		name string
		num  uint64
		want []byte
		ok   bool
	}{
		{"stored", 5, []byte{0, 11}, true},
		{"never stored", 6, nil, false},
		{"same slot, other block", 5 + recentBlockCount, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := r.get(tc.num)
			if ok != tc.ok || string(got) != string(tc.want) {
				t.Fatalf("get(%d) = %v, %v; want %v, %v", tc.num, got, ok, tc.want, tc.ok)
			}
		})
	}
	r.add(5+recentBlockCount, []byte{1})
	if _, ok := r.get(5); ok {
		t.Fatal("block evicted by a newer one in its slot is still answered")
	}
	if got, ok := r.get(5 + recentBlockCount); !ok || string(got) != "\x01" {
		t.Fatalf("newer block: %v %v", got, ok)
	}
}

// TestWaitForTxRecentAndStored checks that WaitForTx gives the same answers
// from the in-memory filters as from the store: first occurrence of a
// duplicated tx id, invalid transactions, and blocks no longer in memory.
func TestWaitForTxRecentAndStored(t *testing.T) {
	f := newFixture(t, 0)
	c := must(Join(t.TempDir(), f.genesis, f.deps()))
	defer c.Close()
	txA, idA := f.endorserTx(t, txOpts{writes: []kvWrite{{"a", []byte("1")}}})
	txBad, idBad := f.endorserTx(t, txOpts{writes: []kvWrite{{"b", []byte("2")}}, badSig: true})
	txC, idC := f.endorserTx(t, txOpts{writes: []kvWrite{{"c", []byte("3")}}})
	b1 := newBlock(t, 1, f.genesis, [][]byte{txA, txBad, txA}, f.orderer, 0)
	if err := c.commitBlock(b1); err != nil {
		t.Fatal(err)
	}
	b2 := newBlock(t, 2, b1, [][]byte{txC, txA}, f.orderer, 0)
	if err := c.commitBlock(b2); err != nil {
		t.Fatal(err)
	}
	for _, num := range []uint64{1, 2} {
		if _, ok := c.recent.get(num); !ok {
			t.Fatalf("block %d was not remembered at commit", num)
		}
	}
	tests := []struct {
		name string
		id   string
		code peer.TxValidationCode
		num  uint64
	}{
		{"valid", idA, peer.TxValidationCode_VALID, 1},
		{"bad creator signature", idBad, peer.TxValidationCode_BAD_CREATOR_SIGNATURE, 1},
		{"valid in the next block", idC, peer.TxValidationCode_VALID, 2},
	}
	check := func(t *testing.T, from string) {
		for _, tc := range tests {
			t.Run(from+"/"+tc.name, func(t *testing.T) {
				code, num := waitTx(t, c, tc.id)
				if code != tc.code || num != tc.num {
					t.Fatalf("%s: code %v block %d, want %v block %d", tc.id, code, num, tc.code, tc.num)
				}
			})
		}
	}
	check(t, "memory")
	// Push blocks 1 and 2 out of memory: answers now come from the store.
	c.recent.add(1+recentBlockCount, nil)
	c.recent.add(2+recentBlockCount, nil)
	for _, num := range []uint64{1, 2} {
		if _, ok := c.recent.get(num); ok {
			t.Fatalf("block %d still in memory", num)
		}
	}
	check(t, "store")
}
