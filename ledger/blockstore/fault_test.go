package blockstore

import (
	"errors"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// faultFile wraps a segment handle and fails on demand like a full disk:
// a write stores half its bytes and returns ENOSPC; a failing sync fails
// once (a transient I/O error), then works again.
type faultFile struct {
	File
	mu           sync.Mutex
	failWrite    bool
	failSync     bool
	failTruncate bool
}

func (f *faultFile) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failWrite {
		n, _ := f.File.Write(p[:len(p)/2])
		return n, syscall.ENOSPC
	}
	return f.File.Write(p)
}

func (f *faultFile) Sync() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failSync {
		f.failSync = false
		return syscall.EIO
	}
	return f.File.Sync()
}

func (f *faultFile) Truncate(n int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failTruncate {
		return syscall.EIO
	}
	return f.File.Truncate(n)
}

func (f *faultFile) set(write, sync, trunc bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failWrite, f.failSync, f.failTruncate = write, sync, trunc
}

func faultOpts(ff *faultFile, policy SyncPolicy) Options {
	return Options{Sync: policy, WrapFile: func(_ string, f File) File {
		ff.File = f
		return ff
	}}
}

func TestDiskFullLeavesStoreConsistent(t *testing.T) {
	cases := []struct {
		name    string
		write   bool
		sync    bool
		wantErr error
	}{
		{"write fails with ENOSPC", true, false, syscall.ENOSPC},
		{"sync fails once", false, true, syscall.EIO},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			blocks := genChain(5)
			ff := &faultFile{}
			s := openT(t, dir, faultOpts(ff, SyncEveryAppend))
			appendAll(t, s, blocks[:3])
			size := fileSize(t, segPath(dir, 0))

			for try := 0; try < 2; try++ {
				ff.set(c.write, c.sync, false)
				err := s.Append(blocks[3])
				if !errors.Is(err, c.wantErr) || !strings.Contains(err.Error(), "append block 3") {
					t.Fatalf("Append under fault: err = %v, want %v", err, c.wantErr)
				}
			}
			checkBlocks(t, s, blocks[:3])
			if got := fileSize(t, segPath(dir, 0)); got != size {
				t.Fatalf("file is %d bytes after failed append, want %d", got, size)
			}

			ff.set(false, false, false) // space freed
			appendAll(t, s, blocks[3:])
			checkBlocks(t, s, blocks)
			s.Close()
			checkBlocks(t, openT(t, dir, Options{}), blocks)
		})
	}
}

// When the partial write cannot be cut back, the store refuses further
// appends; reopening repairs it via torn-tail recovery.
func TestUndoFailureMakesStoreUnusable(t *testing.T) {
	dir := t.TempDir()
	blocks := genChain(4)
	ff := &faultFile{}
	s := openT(t, dir, faultOpts(ff, SyncEveryAppend))
	appendAll(t, s, blocks[:2])
	ff.set(true, false, true)
	if err := s.Append(blocks[2]); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("err = %v", err)
	}
	ff.set(false, false, false)
	if err := s.Append(blocks[2]); err == nil || !strings.Contains(err.Error(), "reopen") {
		t.Fatalf("append after failed undo: err = %v, want refusal", err)
	}
	if b, err := s.Block(1); err != nil || b.Header.Number != 1 {
		t.Fatalf("reads must still work: %v", err)
	}
	s.Close()
	s = openT(t, dir, Options{})
	checkBlocks(t, s, blocks[:2])
	appendAll(t, s, blocks[2:])
	checkBlocks(t, s, blocks)
}

// Without per-append fsync a failed write may have cost earlier unsynced
// blocks, so the store must not carry on as if nothing happened.
func TestWriteFailureWithoutSyncIsFatal(t *testing.T) {
	dir := t.TempDir()
	ff := &faultFile{}
	s := openT(t, dir, faultOpts(ff, SyncNever))
	blocks := genChain(3)
	appendAll(t, s, blocks[:2])
	ff.set(true, false, false)
	if err := s.Append(blocks[2]); err == nil || !strings.Contains(err.Error(), "unsynced") {
		t.Fatalf("err = %v", err)
	}
	ff.set(false, false, false)
	if err := s.Append(blocks[2]); err == nil {
		t.Fatal("append after fatal failure succeeded")
	}
	s.Close()
	checkBlocks(t, openT(t, dir, Options{}), blocks[:2])
}

func TestSegmentRollOver(t *testing.T) {
	dir := t.TempDir()
	blocks := genChain(30)
	s := openT(t, dir, Options{MaxSegmentBytes: 1500})
	appendAll(t, s, blocks)
	checkBlocks(t, s, blocks)
	segs := 0
	for i := 0; ; i++ {
		fi, err := os.Stat(segPath(dir, i))
		if err != nil {
			break
		}
		segs++
		if fi.Size() > 1500 {
			// Only a record bigger than the limit may exceed it, alone.
			t.Errorf("segment %d is %d bytes > 1500", i, fi.Size())
		}
	}
	if segs < 3 {
		t.Fatalf("only %d segments", segs)
	}
	s.Close()
	checkBlocks(t, openT(t, dir, Options{MaxSegmentBytes: 1500}), blocks)
}
