package raft

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
)

func mkEnts(from, to, term uint64) []*raftpb.Entry {
	var out []*raftpb.Entry
	for i := from; i <= to; i++ {
		out = append(out, &raftpb.Entry{Index: new(i), Term: new(term), Type: raftpb.EntryNormal.Enum(),
			Data: []byte(fmt.Sprintf("e%d-t%d", i, term))})
	}
	return out
}

func hs(term, vote, commit uint64) *raftpb.HardState {
	return &raftpb.HardState{Term: new(term), Vote: new(vote), Commit: new(commit)}
}

// describe renders a replayed state compactly for comparisons.
func describe(st *walState) string {
	s := fmt.Sprintf("hs=%d/%d/%d snap=%d/%d ents=", st.hs.GetTerm(), st.hs.GetVote(), st.hs.GetCommit(),
		st.snap.GetIndex(), st.snap.GetTerm())
	for _, e := range st.ents {
		s += fmt.Sprintf("%d:%d:%s,", e.GetIndex(), e.GetTerm(), e.GetData())
	}
	return s
}

func mustOpenWAL(t *testing.T, dir string, seg int64) (*wal, *walState) {
	t.Helper()
	w, st, err := openWAL(dir, seg)
	if err != nil {
		t.Fatalf("openWAL: %v", err)
	}
	return w, st
}

func mustSave(t *testing.T, w *wal, h *raftpb.HardState, ents []*raftpb.Entry) {
	t.Helper()
	if err := w.save(h, nil, ents, true); err != nil {
		t.Fatalf("save: %v", err)
	}
}

func TestWALReplayOverwrite(t *testing.T) {
	dir := t.TempDir()
	w, _ := mustOpenWAL(t, dir, 0)
	mustSave(t, w, hs(1, 1, 0), mkEnts(1, 5, 1))
	mustSave(t, w, hs(2, 2, 3), mkEnts(4, 6, 2)) // a new leader overwrote 4,5
	mustSave(t, w, hs(2, 2, 6), nil)
	w.close()
	_, st := mustOpenWAL(t, dir, 0)
	want := "hs=2/2/6 snap=0/0 ents=1:1:e1-t1,2:1:e2-t1,3:1:e3-t1,4:2:e4-t2,5:2:e5-t2,6:2:e6-t2,"
	if got := describe(st); got != want {
		t.Fatalf("replay:\n got %s\nwant %s", got, want)
	}
}

func TestWALTornTailEveryOffset(t *testing.T) {
	src := t.TempDir()
	w, _ := mustOpenWAL(t, src, 0)
	mustSave(t, w, hs(1, 1, 2), mkEnts(1, 3, 1))
	good := w.size
	w.close()
	w, stGood := mustOpenWAL(t, src, 0)
	mustSave(t, w, hs(1, 1, 5), mkEnts(4, 5, 1))
	full := w.size
	w.close()
	seg := filepath.Join(src, segName(0))
	b, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	// The last save wrote an entries record then a HardState record;
	// find where the second one starts.
	recs, _, err := scanRecords(b, false)
	if err != nil || len(recs) != 4 {
		t.Fatalf("expected 4 records, got %d (%v)", len(recs), err)
	}
	hsStart := int64(recs[3].off)
	withEnts := "hs=1/1/2 snap=0/0 ents=1:1:e1-t1,2:1:e2-t1,3:1:e3-t1,4:1:e4-t1,5:1:e5-t1,"
	for off := good; off < full; off++ {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, segName(0)), b[:off], 0o640); err != nil {
			t.Fatal(err)
		}
		w, st, err := openWAL(dir, 0)
		if err != nil {
			t.Fatalf("offset %d: open: %v", off, err)
		}
		want := describe(stGood)
		if off >= hsStart {
			want = withEnts
		}
		if got := describe(st); got != want {
			t.Fatalf("offset %d:\n got %s\nwant %s", off, got, want)
		}
		// The tail is gone from disk and appending continues cleanly.
		mustSave(t, w, hs(3, 3, 3), nil)
		w.close()
		_, st2 := mustOpenWAL(t, dir, 0)
		if st2.hs.GetTerm() != 3 || len(st2.ents) != len(st.ents) {
			t.Fatalf("offset %d: after append: %s", off, describe(st2))
		}
	}
}

func TestWALTornTailZeroFill(t *testing.T) {
	dir := t.TempDir()
	w, _ := mustOpenWAL(t, dir, 0)
	mustSave(t, w, hs(1, 1, 1), mkEnts(1, 2, 1))
	w.close()
	f, err := os.OpenFile(filepath.Join(dir, segName(0)), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(make([]byte, 100))
	f.Close()
	_, st := mustOpenWAL(t, dir, 0)
	if len(st.ents) != 2 || st.hs.GetCommit() != 1 {
		t.Fatalf("zero tail not dropped: %s", describe(st))
	}
}

func TestWALCorruptionInMiddle(t *testing.T) {
	src := t.TempDir()
	w, _ := mustOpenWAL(t, src, 0)
	mustSave(t, w, nil, mkEnts(1, 3, 1))
	first := int(w.size)
	mustSave(t, w, hs(1, 1, 3), mkEnts(4, 6, 1))
	mustSave(t, w, hs(1, 1, 6), nil)
	w.close()
	b, err := os.ReadFile(filepath.Join(src, segName(0)))
	if err != nil {
		t.Fatal(err)
	}
	// Flipping any byte of the first record, length field included, must
	// be reported rather than silently cutting the log short.
	for off := 0; off < first; off++ {
		for _, mask := range []byte{0x01, 0x80} {
			dir := t.TempDir()
			c := append([]byte(nil), b...)
			c[off] ^= mask
			if err := os.WriteFile(filepath.Join(dir, segName(0)), c, 0o640); err != nil {
				t.Fatal(err)
			}
			if _, st, err := openWAL(dir, 0); err == nil {
				t.Fatalf("byte %d ^%#x: no error, replayed %s", off, mask, describe(st))
			}
		}
	}
}

func TestWALSegmentsCompaction(t *testing.T) {
	dir := t.TempDir()
	ds, rec, err := openDiskStorage(dir, 400)
	if err != nil || !rec.empty() {
		t.Fatalf("open: %v empty=%v", err, rec.empty())
	}
	for i := uint64(1); i <= 60; i++ {
		if err := ds.saveReady(hs(1, 1, i), nil, mkEnts(i, i, 1), true); err != nil {
			t.Fatal(err)
		}
	}
	segs := len(ds.wal.segs)
	if segs < 4 {
		t.Fatalf("expected several segments, got %d", segs)
	}
	snap := &raftpb.Snapshot{Data: []byte("app@40"), Metadata: &raftpb.SnapshotMetadata{
		Index: new(uint64(40)), Term: new(uint64(1)), ConfState: &raftpb.ConfState{Voters: []uint64{1, 2, 3}}}}
	if err := ds.saveSnapshot(snap); err != nil {
		t.Fatal(err)
	}
	if len(ds.wal.segs) >= segs {
		t.Fatalf("no segment deleted: %d -> %d", segs, len(ds.wal.segs))
	}
	for _, s := range ds.wal.segs[:len(ds.wal.segs)-1] {
		if s.maxIndex <= 40 {
			t.Fatalf("segment %d with max index %d survived a snapshot at 40", s.seq, s.maxIndex)
		}
	}
	onDisk, _ := filepath.Glob(filepath.Join(dir, "wal", "*.wal"))
	if len(onDisk) != len(ds.wal.segs) {
		t.Fatalf("%d segment files on disk, %d tracked", len(onDisk), len(ds.wal.segs))
	}
	ds.close()
	ds, rec, err = openDiskStorage(dir, 400)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.close()
	if string(rec.snap.GetData()) != "app@40" || rec.hs.GetCommit() != 60 {
		t.Fatalf("snapshot %q commit %d", rec.snap.GetData(), rec.hs.GetCommit())
	}
	if len(rec.ents) != 20 || rec.ents[0].GetIndex() != 41 || rec.ents[19].GetIndex() != 60 {
		t.Fatalf("entries after snapshot: %d from %d", len(rec.ents), rec.ents[0].GetIndex())
	}
}

func TestDiskStorageDamage(t *testing.T) {
	setup := func(t *testing.T) string {
		dir := t.TempDir()
		ds, _, err := openDiskStorage(dir, 300)
		if err != nil {
			t.Fatal(err)
		}
		for i := uint64(1); i <= 30; i++ {
			if err := ds.saveReady(hs(1, 1, i), nil, mkEnts(i, i, 1), true); err != nil {
				t.Fatal(err)
			}
		}
		snap := &raftpb.Snapshot{Data: []byte("x"), Metadata: &raftpb.SnapshotMetadata{
			Index: new(uint64(10)), Term: new(uint64(1)), ConfState: &raftpb.ConfState{Voters: []uint64{1}}}}
		if err := ds.saveSnapshot(snap); err != nil {
			t.Fatal(err)
		}
		ds.close()
		return dir
	}
	snapFile := filepath.Join("snap", snapName(1, 10))
	cases := []struct {
		name    string
		damage  func(t *testing.T, dir string)
		wantErr bool
	}{
		{"intact", func(*testing.T, string) {}, false},
		{"snapshot file missing", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, snapFile)) }, true},
		{"snapshot file corrupt", func(t *testing.T, dir string) {
			p := filepath.Join(dir, snapFile)
			b, _ := os.ReadFile(p)
			b[len(b)-1] ^= 1
			os.WriteFile(p, b, 0o640)
		}, true},
		{"stray newer snapshot ignored", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "snap", snapName(1, 20)), []byte("junk"), 0o640)
		}, false},
		{"middle segment missing", func(t *testing.T, dir string) {
			segs, _ := filepath.Glob(filepath.Join(dir, "wal", "*.wal"))
			if len(segs) < 3 {
				t.Fatalf("need 3 segments, have %d", len(segs))
			}
			os.Remove(segs[1])
		}, true},
		{"oldest segments missing", func(t *testing.T, dir string) {
			segs, _ := filepath.Glob(filepath.Join(dir, "wal", "*.wal"))
			for _, s := range segs[:len(segs)-1] {
				os.Remove(s)
			}
		}, true},
		{"foreign file in wal dir", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "wal", "zz.wal"), nil, 0o640)
		}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := setup(t)
			c.damage(t, dir)
			ds, rec, err := openDiskStorage(dir, 300)
			if c.wantErr {
				if err == nil {
					ds.close()
					t.Fatal("expected an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer ds.close()
			if rec.snap.GetMetadata().GetIndex() != 10 || rec.lastIndex() != 30 {
				t.Fatalf("snap %d last %d", rec.snap.GetMetadata().GetIndex(), rec.lastIndex())
			}
			if strays, _ := filepath.Glob(filepath.Join(dir, "snap", snapName(1, 20))); len(strays) != 0 {
				t.Fatal("stray snapshot file not removed")
			}
		})
	}
}

func TestRecoveredCheck(t *testing.T) {
	snapAt := func(i, term uint64) *raftpb.Snapshot {
		return &raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{Index: new(i), Term: new(term),
			ConfState: &raftpb.ConfState{}}}
	}
	cases := []struct {
		name    string
		rec     recovered
		wantErr bool
		wantHS  string
	}{
		{"fresh", recovered{}, false, "0/0/0"},
		{"hs older than snapshot", recovered{hs: hs(2, 1, 5), snap: snapAt(20, 3)}, false, "3/0/20"},
		{"commit below snapshot", recovered{hs: hs(3, 1, 5), snap: snapAt(20, 3)}, false, "3/1/20"},
		{"commit beyond log", recovered{hs: hs(1, 1, 9), ents: mkEnts(1, 5, 1)}, true, ""},
		{"gap after snapshot", recovered{hs: hs(1, 1, 5), snap: snapAt(5, 1), ents: mkEnts(7, 8, 1)}, true, ""},
		{"log not from 1", recovered{hs: hs(1, 1, 0), ents: mkEnts(2, 3, 1)}, true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.rec.check()
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, c.wantErr)
			}
			if err != nil {
				return
			}
			h := c.rec.hs
			if got := fmt.Sprintf("%d/%d/%d", h.GetTerm(), h.GetVote(), h.GetCommit()); got != c.wantHS {
				t.Fatalf("hard state %s, want %s", got, c.wantHS)
			}
		})
	}
}
