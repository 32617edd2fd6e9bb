package blockstore

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// writeStore builds a one-segment store holding the first n blocks of
// genChain and returns the segment's bytes and each record's start offset.
func writeStore(t *testing.T, n int) (seg []byte, starts []int64) {
	t.Helper()
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	for _, b := range genChain(n) {
		starts = append(starts, fileSize(t, segPath(dir, 0)))
		if err := s.Append(b); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	seg, err := os.ReadFile(segPath(dir, 0))
	if err != nil {
		t.Fatal(err)
	}
	return seg, starts
}

// storeWith returns a directory whose only segment holds data.
func storeWith(t *testing.T, data []byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(segPath(dir, 0), data, 0o640); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestTornFinalRecord cuts the file at every byte inside the last record:
// reopening must yield exactly the earlier blocks, log the repair, cut the
// file back, and accept the lost block again.
func TestTornFinalRecord(t *testing.T) {
	const n = 3
	blocks := genChain(n)
	seg, starts := writeStore(t, n)
	last := starts[n-1]
	for cut := last + 1; cut < int64(len(seg)); cut++ {
		dir := storeWith(t, seg[:cut])
		var log logBuf
		s, err := Open(dir, Options{Logger: log.logger()})
		if err != nil {
			t.Fatalf("cut at %d: Open: %v", cut, err)
		}
		checkBlocks(t, s, blocks[:n-1])
		if got := fileSize(t, segPath(dir, 0)); got != last {
			t.Fatalf("cut at %d: file is %d bytes after recovery, want %d", cut, got, last)
		}
		if !strings.Contains(log.String(), "torn final record") {
			t.Fatalf("cut at %d: repair not logged; log: %q", cut, log.String())
		}
		if err := s.Append(blocks[n-1]); err != nil {
			t.Fatalf("cut at %d: re-append: %v", cut, err)
		}
		s.Close()
		s = openT(t, dir, Options{})
		checkBlocks(t, s, blocks)
		s.Close()
	}
	// A cut exactly at the record boundary is a clean store: nothing logged.
	var log logBuf
	s := openT(t, storeWith(t, seg[:last]), Options{Logger: log.logger()})
	checkBlocks(t, s, blocks[:n-1])
	if log.String() != "" {
		t.Errorf("clean store logged: %q", log.String())
	}
}

// TestJunkTail covers tails a crash can leave besides a prefix of the
// record: zeros from a size-extended file, or garbage.
func TestJunkTail(t *testing.T) {
	blocks := genChain(3)
	seg, _ := writeStore(t, 3)
	tails := map[string][]byte{
		"zeros":         make([]byte, 4096),
		"one zero byte": {0},
		"garbage":       bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 100),
		"bad checksum": func() []byte {
			r := encodeRecord(mustMarshal(genChain(4)[3]))
			r[len(r)-1] ^= 1
			return r
		}(),
	}
	for name, tail := range tails {
		dir := storeWith(t, append(append([]byte(nil), seg...), tail...))
		s, err := Open(dir, Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checkBlocks(t, s, blocks)
		if got := fileSize(t, segPath(dir, 0)); got != int64(len(seg)) {
			t.Errorf("%s: file is %d bytes, want %d", name, got, len(seg))
		}
		s.Close()
	}
}

// TestCorruptMiddleRecord flips every byte of the middle record in turn:
// each must make Open fail instead of silently dropping blocks.
func TestCorruptMiddleRecord(t *testing.T) {
	seg, starts := writeStore(t, 3)
	for pos := starts[1]; pos < starts[2]; pos++ {
		bad := append([]byte(nil), seg...)
		bad[pos] ^= 0x5a
		dir := storeWith(t, bad)
		s, err := Open(dir, Options{})
		if err == nil {
			s.Close()
			t.Fatalf("flipped byte at %d (record %d..%d): Open succeeded with height %d", pos, starts[1], starts[2], s.Height())
		}
		if !strings.Contains(err.Error(), "corrupt") {
			t.Fatalf("flipped byte at %d: error does not say corrupt: %v", pos, err)
		}
		if got := fileSize(t, segPath(dir, 0)); got != int64(len(seg)) {
			t.Fatalf("flipped byte at %d: file was modified to %d bytes", pos, got)
		}
	}
}

func TestCorruptEarlierSegment(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{MaxSegmentBytes: 1024})
	appendAll(t, s, genChain(20))
	s.Close()
	// A torn-looking end on a segment that is not the last is corruption:
	// segments are complete before the next one starts.
	size := fileSize(t, segPath(dir, 0))
	if err := os.Truncate(segPath(dir, 0), size-3); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), "not the last") {
		t.Fatalf("truncated first segment: err = %v", err)
	}
}

// TestValidButMislinkedRecord: a record with a good checksum whose block
// does not continue the chain is refused, not indexed.
func TestValidButMislinkedRecord(t *testing.T) {
	seg, _ := writeStore(t, 2)
	other := encodeRecord(mustMarshal(genBlock(2, []byte("not the previous hash"))))
	dir := storeWith(t, append(append([]byte(nil), seg...), other...))
	if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), "previous_hash") {
		t.Fatalf("mislinked record: err = %v", err)
	}
}
