package raft

import (
	"fmt"
	"path/filepath"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// diskStorage is the durable side of a node: the WAL plus snapshot files.
// raft itself reads from a raft.MemoryStorage that mirrors it.
type diskStorage struct {
	wal   *wal
	snaps *snapDir
}

// recovered is the raft state found on disk.
type recovered struct {
	hs   *raftpb.HardState
	snap *raftpb.Snapshot // nil when no snapshot was ever taken
	ents []*raftpb.Entry  // all after snap
}

func (r *recovered) empty() bool {
	return raft.IsEmptyHardState(r.hs) && r.snap == nil && len(r.ents) == 0
}

// lastIndex is the index of the newest entry, or of the snapshot.
func (r *recovered) lastIndex() uint64 {
	if len(r.ents) > 0 {
		return r.ents[len(r.ents)-1].GetIndex()
	}
	return r.snap.GetMetadata().GetIndex()
}

func openDiskStorage(dir string, segSize int64) (*diskStorage, *recovered, error) {
	w, st, err := openWAL(filepath.Join(dir, "wal"), segSize)
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (*diskStorage, *recovered, error) {
		w.close()
		return nil, nil, err
	}
	sd, err := openSnapDir(filepath.Join(dir, "snap"))
	if err != nil {
		return fail(err)
	}
	rec := &recovered{hs: st.hs, ents: st.ents}
	if st.snap != nil {
		if rec.snap, err = sd.load(st.snap); err != nil {
			return fail(err)
		}
	}
	if err := sd.purgeExcept(st.snap); err != nil {
		return fail(err)
	}
	if err := rec.check(); err != nil {
		return fail(fmt.Errorf("wal %s: %w", dir, err))
	}
	return &diskStorage{wal: w, snaps: sd}, rec, nil
}

// check verifies that the recovered pieces fit together, and repairs the
// one gap a crash can legitimately leave: a snapshot record that reached
// the disk without the HardState written after it in the same batch.
func (r *recovered) check() error {
	si, st := r.snap.GetMetadata().GetIndex(), r.snap.GetMetadata().GetTerm()
	if len(r.ents) > 0 && r.ents[0].GetIndex() != si+1 {
		return fmt.Errorf("log starts at index %d, expected %d after the snapshot", r.ents[0].GetIndex(), si+1)
	}
	if r.hs == nil {
		r.hs = &raftpb.HardState{}
	}
	if r.hs.GetTerm() < st {
		// The newer HardState was in the unfinished write, so its
		// messages (votes included) never left this node; starting the
		// snapshot's term without a vote is therefore safe.
		r.hs = &raftpb.HardState{Term: new(st), Vote: new(uint64(0)), Commit: new(si)}
	}
	if r.hs.GetCommit() < si {
		r.hs.Commit = new(si)
	}
	if c, l := r.hs.GetCommit(), r.lastIndex(); c > l {
		return fmt.Errorf("hard state commit %d is beyond the last log index %d", c, l)
	}
	return nil
}

// load fills a fresh MemoryStorage with the recovered state.
func (r *recovered) load() (*raft.MemoryStorage, error) {
	ms := raft.NewMemoryStorage()
	if r.snap != nil {
		if err := ms.ApplySnapshot(r.snap); err != nil {
			return nil, fmt.Errorf("restore snapshot %d: %w", r.snap.GetMetadata().GetIndex(), err)
		}
	}
	if err := ms.SetHardState(r.hs); err != nil {
		return nil, fmt.Errorf("restore hard state: %w", err)
	}
	if err := ms.Append(r.ents); err != nil {
		return nil, fmt.Errorf("restore entries: %w", err)
	}
	return ms, nil
}

// saveReady makes one Ready durable. A received snapshot is written to its
// file first so that the WAL never names a snapshot that is not on disk.
func (d *diskStorage) saveReady(hs *raftpb.HardState, snap *raftpb.Snapshot, ents []*raftpb.Entry, sync bool) error {
	var md *raftpb.SnapshotMetadata
	if !raft.IsEmptySnap(snap) {
		if err := d.snaps.save(snap); err != nil {
			return err
		}
		md, sync = snap.GetMetadata(), true
	}
	if raft.IsEmptyHardState(hs) {
		hs = nil
	}
	if err := d.wal.save(hs, md, ents, sync); err != nil {
		return err
	}
	if md != nil {
		return d.compact(md)
	}
	return nil
}

// saveSnapshot records a locally taken snapshot and drops what it covers.
func (d *diskStorage) saveSnapshot(snap *raftpb.Snapshot) error {
	if err := d.snaps.save(snap); err != nil {
		return err
	}
	if err := d.wal.save(nil, snap.GetMetadata(), nil, true); err != nil {
		return err
	}
	return d.compact(snap.GetMetadata())
}

func (d *diskStorage) compact(md *raftpb.SnapshotMetadata) error {
	if err := d.wal.releaseTo(md.GetIndex()); err != nil {
		return err
	}
	return d.snaps.purgeExcept(md)
}

func (d *diskStorage) close() error { return d.wal.close() }
