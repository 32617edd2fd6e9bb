package blockstore

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"os"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/wire/common"
)

func TestHeaderHashDER(t *testing.T) {
	dh := bytes.Repeat([]byte{0xab}, 32)
	cases := []struct {
		name string
		hdr  *common.BlockHeader
		der  []byte
	}{
		{"block 0, empty previous hash", &common.BlockHeader{Number: 0, DataHash: dh},
			append([]byte{0x30, 0x27, 0x02, 0x01, 0x00, 0x04, 0x00, 0x04, 0x20}, dh...)},
		{"number 128 needs a leading zero", &common.BlockHeader{Number: 128, PreviousHash: []byte{1}, DataHash: nil},
			[]byte{0x30, 0x09, 0x02, 0x02, 0x00, 0x80, 0x04, 0x01, 0x01, 0x04, 0x00}},
		{"number 127", &common.BlockHeader{Number: 127},
			[]byte{0x30, 0x07, 0x02, 0x01, 0x7f, 0x04, 0x00, 0x04, 0x00}},
	}
	for _, c := range cases {
		want := sha256.Sum256(c.der)
		if got := HeaderHash(c.hdr); !bytes.Equal(got, want[:]) {
			t.Errorf("%s: HeaderHash = %x, want SHA-256 of %x", c.name, got, c.der)
		}
	}
	want := sha256.Sum256([]byte("abcdef"))
	if got := DataHash(&common.BlockData{Data: [][]byte{[]byte("ab"), nil, []byte("cdef")}}); !bytes.Equal(got, want[:]) {
		t.Errorf("DataHash is not the hash of the concatenation")
	}
}

func TestAppendAndRead(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	if s.Height() != 0 || s.LastHeaderHash() != nil {
		t.Fatalf("new store: height %d, last hash %x", s.Height(), s.LastHeaderHash())
	}
	blocks := genChain(5)
	// Block 5 stores what it was given: garbage, an envelope without a tx
	// id, and a duplicate of block 1's first tx id.
	garbage := []byte{0xff, 0x01, 0x02}
	dup := testEnv("tx-1-0", 3)
	blocks = append(blocks, newBlock(5, HeaderHash(blocks[4].Header), garbage, testEnv("", 1), dup, testEnv("tx-5-3", 1)))
	appendAll(t, s, blocks)
	checkBlocks(t, s, blocks)

	for i, b := range blocks {
		got, err := s.BlockByHash(HeaderHash(b.Header))
		if err != nil || got.Header.Number != uint64(i) {
			t.Fatalf("BlockByHash(block %d) = %v, %v", i, got.GetHeader().GetNumber(), err)
		}
	}
	txCases := []struct {
		id    string
		block uint64
		index int
	}{{"tx-0-0", 0, 0}, {"tx-2-2", 2, 2}, {"tx-1-0", 1, 0}, {"tx-5-3", 5, 3}}
	for _, c := range txCases {
		n, i, err := s.TxLocation(c.id)
		if err != nil || n != c.block || i != c.index {
			t.Errorf("TxLocation(%q) = %d,%d,%v; want %d,%d", c.id, n, i, err, c.block, c.index)
		}
	}
	for _, id := range []string{"", "tx-0-1", "nope"} {
		if _, _, err := s.TxLocation(id); !errors.Is(err, ErrNotFound) {
			t.Errorf("TxLocation(%q) err = %v, want ErrNotFound", id, err)
		}
	}
	if _, err := s.Block(6); !errors.Is(err, ErrNotFound) {
		t.Errorf("Block(6) err = %v, want ErrNotFound", err)
	}
	if _, err := s.BlockByHash(make([]byte, 32)); !errors.Is(err, ErrNotFound) {
		t.Errorf("BlockByHash(zeros) err = %v, want ErrNotFound", err)
	}
	// Callers get their own copy.
	b0, _ := s.Block(0)
	b0.Header.Number = 99
	if b, _ := s.Block(0); b.Header.Number != 0 {
		t.Error("mutating a returned block changed the store")
	}
}

func TestAppendRejects(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	blocks := genChain(3)
	appendAll(t, s, blocks[:2])
	prev := HeaderHash(blocks[1].Header)
	good := blocks[2]
	cases := []struct {
		name string
		b    *common.Block
		want string
	}{
		{"nil block", nil, "block: nil"},
		{"no header", &common.Block{Data: good.Data}, "header: missing"},
		{"number too high", genBlock(3, prev), "header.number: expected 2"},
		{"number repeated", genBlock(1, prev), "header.number: expected 2"},
		{"wrong previous hash", genBlock(2, HeaderHash(blocks[0].Header)), "header.previous_hash"},
		{"empty previous hash", genBlock(2, nil), "header.previous_hash"},
		{"wrong data hash", func() *common.Block {
			b := proto.Clone(good).(*common.Block)
			b.Data.Data = append(b.Data.Data, []byte("extra"))
			return b
		}(), "header.data_hash"},
		{"missing data hash", func() *common.Block {
			b := proto.Clone(good).(*common.Block)
			b.Header.DataHash = nil
			return b
		}(), "header.data_hash"},
	}
	for _, c := range cases {
		err := s.Append(c.b)
		if !errors.Is(err, ErrInvalidBlock) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want ErrInvalidBlock mentioning %q", c.name, err, c.want)
		}
		if s.Height() != 2 {
			t.Fatalf("%s: rejected block changed height to %d", c.name, s.Height())
		}
	}
	if err := s.Append(good); err != nil {
		t.Fatalf("good block after rejections: %v", err)
	}

	fresh := openT(t, t.TempDir(), Options{})
	if err := fresh.Append(genBlock(0, []byte{1})); !errors.Is(err, ErrInvalidBlock) {
		t.Errorf("block 0 with a previous hash: err = %v", err)
	}
	if err := fresh.Append(genBlock(1, nil)); !errors.Is(err, ErrInvalidBlock) {
		t.Errorf("first block numbered 1: err = %v", err)
	}
}

func TestReopenRebuildsIndex(t *testing.T) {
	dir := t.TempDir()
	blocks := genChain(40)
	opts := Options{MaxSegmentBytes: 2048} // several segments
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	appendAll(t, s, blocks[:30])
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(segPath(dir, 2)); err != nil {
		t.Fatalf("expected several segments: %v", err)
	}
	s = openT(t, dir, opts)
	checkBlocks(t, s, blocks[:30])
	if n, i, err := s.TxLocation("tx-29-2"); err != nil || n != 29 || i != 2 {
		t.Fatalf("TxLocation after reopen = %d,%d,%v", n, i, err)
	}
	if b, err := s.BlockByHash(HeaderHash(blocks[17].Header)); err != nil || b.Header.Number != 17 {
		t.Fatalf("BlockByHash after reopen: %v", err)
	}
	appendAll(t, s, blocks[30:])
	checkBlocks(t, s, blocks)
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), "already open") {
		t.Errorf("second Open of the same dir: err = %v", err)
	}
	s.Close()

	// A missing segment in the sequence.
	dir = t.TempDir()
	s = openT(t, dir, Options{MaxSegmentBytes: 1024})
	appendAll(t, s, genChain(20))
	s.Close()
	if err := os.Remove(segPath(dir, 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), "missing or stray") {
		t.Errorf("missing segment: err = %v", err)
	}

	// Not a directory.
	f := dir + "/file"
	os.WriteFile(f, nil, 0o600)
	if _, err := Open(f, Options{}); err == nil {
		t.Error("Open on a file succeeded")
	}
}

func TestClosed(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	appendAll(t, s, genChain(1))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := s.Append(genChain(2)[1]); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close: %v", err)
	}
	if _, err := s.Block(0); !errors.Is(err, ErrClosed) {
		t.Errorf("Block after Close: %v", err)
	}
	if _, _, err := s.TxLocation("tx-0-0"); !errors.Is(err, ErrClosed) {
		t.Errorf("TxLocation after Close: %v", err)
	}
}
