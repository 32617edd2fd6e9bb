package raft

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// defaultSegmentSize is the size after which the WAL moves on to a new
// segment file. Only whole segments are ever deleted, so it is also the
// granularity of log compaction on disk.
const defaultSegmentSize = 64 << 20

// segment is one WAL file. maxIndex is the highest entry index it holds,
// which decides when a snapshot makes it redundant.
type segment struct {
	seq      uint64
	maxIndex uint64
}

func segName(seq uint64) string { return fmt.Sprintf("%016x.wal", seq) }

// walState is what replaying the WAL yields.
type walState struct {
	hs   *raftpb.HardState        // nil if none was ever written
	snap *raftpb.SnapshotMetadata // newest snapshot record, nil if none
	ents []*raftpb.Entry
}

// wal is an append-only log of raft state split over numbered segment
// files. Every segment after the first starts with the newest HardState and
// snapshot record, so any prefix of segments whose entries are all covered by
// a snapshot can be deleted without losing state.
type wal struct {
	dir     string
	segSize int64
	segs    []segment // oldest first; the last one is open for appending
	f       *os.File
	size    int64
	hs      *raftpb.HardState
	snap    *raftpb.SnapshotMetadata
	broken  error // set after a failed write: the file tail is unknown
}

// openWAL replays the WAL in dir, creating it if absent. A torn record at
// the end of the newest segment is cut off; any other damage is an error.
func openWAL(dir string, segSize int64) (*wal, *walState, error) {
	if segSize <= 0 {
		segSize = defaultSegmentSize
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, nil, fmt.Errorf("wal dir %s: %w", dir, err)
	}
	seqs, err := listSegments(dir)
	if err != nil {
		return nil, nil, err
	}
	w := &wal{dir: dir, segSize: segSize}
	st := &walState{}
	for i, seq := range seqs {
		last := i == len(seqs)-1
		seg, err := w.replaySegment(seq, last, st)
		if err != nil {
			return nil, nil, fmt.Errorf("wal segment %s: %w", segName(seq), err)
		}
		w.segs = append(w.segs, seg)
	}
	w.hs, w.snap = st.hs, st.snap
	if len(seqs) == 0 {
		if err := w.createSegment(0); err != nil {
			return nil, nil, err
		}
		return w, st, nil
	}
	path := filepath.Join(dir, segName(seqs[len(seqs)-1]))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, nil, fmt.Errorf("wal segment %s: open for append: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("wal segment %s: %w", path, err)
	}
	w.f, w.size = f, fi.Size()
	return w, st, nil
}

func listSegments(dir string) ([]uint64, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("wal dir %s: %w", dir, err)
	}
	var seqs []uint64
	for _, de := range des {
		name, ok := strings.CutSuffix(de.Name(), ".wal")
		if !ok {
			continue
		}
		seq, err := strconv.ParseUint(name, 16, 64)
		if err != nil || len(name) != 16 {
			return nil, fmt.Errorf("wal dir %s: unexpected file %q", dir, de.Name())
		}
		seqs = append(seqs, seq)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			return nil, fmt.Errorf("wal dir %s: segment %s missing", dir, segName(seqs[i-1]+1))
		}
	}
	return seqs, nil
}

func (w *wal) replaySegment(seq uint64, last bool, st *walState) (segment, error) {
	seg := segment{seq: seq}
	path := filepath.Join(w.dir, segName(seq))
	b, err := os.ReadFile(path)
	if err != nil {
		return seg, err
	}
	recs, valid, err := scanRecords(b, last)
	if err != nil {
		return seg, err
	}
	if valid < len(b) {
		// Drop the torn tail so new records follow the last good one.
		if err := truncateSync(path, int64(valid)); err != nil {
			return seg, err
		}
	}
	for _, r := range recs {
		switch r.typ {
		case recHardState:
			hs := &raftpb.HardState{}
			if err := proto.Unmarshal(r.data, hs); err != nil {
				return seg, fmt.Errorf("offset %d: hard state: %w", r.off, err)
			}
			st.hs = hs
		case recSnapshot:
			m := &raftpb.SnapshotMetadata{}
			if err := proto.Unmarshal(r.data, m); err != nil {
				return seg, fmt.Errorf("offset %d: snapshot record: %w", r.off, err)
			}
			st.snap = m
			// Entries up to the snapshot are compacted; later batches
			// start right after it.
			st.ents = dropThrough(st.ents, m.GetIndex())
		case recEntries:
			batch, err := decodeEntryBatch(r.data)
			if err != nil {
				return seg, fmt.Errorf("offset %d: %w", r.off, err)
			}
			if st.ents, err = appendLog(st.ents, batch); err != nil {
				return seg, fmt.Errorf("offset %d: %w", r.off, err)
			}
			seg.maxIndex = max(seg.maxIndex, batch[len(batch)-1].GetIndex())
		}
	}
	return seg, nil
}

// dropThrough removes entries with index <= idx.
func dropThrough(ents []*raftpb.Entry, idx uint64) []*raftpb.Entry {
	for len(ents) > 0 && ents[0].GetIndex() <= idx {
		ents = ents[1:]
	}
	return ents
}

func truncateSync(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("truncate torn tail: %w", err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("truncate torn tail: %w", err)
	}
	return f.Sync()
}

// save appends snapshot metadata, entries and hard state as one write, in
// that order: replay then sees a snapshot before the entries that follow
// it, and a HardState only once the entries its commit index covers are
// complete. With sync the write is on stable storage when save returns.
func (w *wal) save(hs *raftpb.HardState, snap *raftpb.SnapshotMetadata, ents []*raftpb.Entry, sync bool) error {
	if w.broken != nil {
		return w.broken
	}
	var buf []byte
	var err error
	if snap != nil {
		if buf, err = appendProtoRecord(buf, recSnapshot, snap); err != nil {
			return err
		}
	}
	batches, err := encodeEntryBatches(ents)
	if err != nil {
		return err
	}
	for _, b := range batches {
		if buf, err = appendRecord(buf, recEntries, b); err != nil {
			return err
		}
	}
	if hs != nil {
		if buf, err = appendProtoRecord(buf, recHardState, hs); err != nil {
			return err
		}
	}
	if len(buf) == 0 {
		return nil
	}
	if err := w.write(buf, sync); err != nil {
		return err
	}
	if hs != nil {
		w.hs = hs
	}
	if snap != nil {
		w.snap = snap
	}
	if len(ents) > 0 {
		cur := &w.segs[len(w.segs)-1]
		cur.maxIndex = max(cur.maxIndex, ents[len(ents)-1].GetIndex())
	}
	if w.size >= w.segSize {
		return w.cut()
	}
	return nil
}

func appendProtoRecord(buf []byte, t recType, m proto.Message) ([]byte, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return buf, fmt.Errorf("wal record of type %d: marshal: %w", t, err)
	}
	return appendRecord(buf, t, b)
}

func (w *wal) write(buf []byte, sync bool) error {
	if _, err := w.f.Write(buf); err != nil {
		w.broken = fmt.Errorf("wal write: %w", err)
		return w.broken
	}
	w.size += int64(len(buf))
	if sync {
		if err := w.f.Sync(); err != nil {
			w.broken = fmt.Errorf("wal fsync: %w", err)
			return w.broken
		}
	}
	return nil
}

// cut closes the current segment and starts the next one, seeded with the
// current HardState and snapshot record.
func (w *wal) cut() error {
	if err := w.f.Sync(); err != nil {
		w.broken = fmt.Errorf("wal fsync: %w", err)
		return w.broken
	}
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("wal close segment: %w", err)
	}
	w.f = nil
	return w.createSegment(w.segs[len(w.segs)-1].seq + 1)
}

func (w *wal) createSegment(seq uint64) error {
	var buf []byte
	var err error
	if w.snap != nil {
		if buf, err = appendProtoRecord(buf, recSnapshot, w.snap); err != nil {
			return err
		}
	}
	if w.hs != nil {
		if buf, err = appendProtoRecord(buf, recHardState, w.hs); err != nil {
			return err
		}
	}
	path := filepath.Join(w.dir, segName(seq))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return fmt.Errorf("wal new segment: %w", err)
	}
	w.f, w.size = f, 0
	w.segs = append(w.segs, segment{seq: seq})
	if err := w.write(buf, true); err != nil {
		return err
	}
	return syncDir(w.dir)
}

// releaseTo deletes the oldest segments whose entries all have index <=
// idx. The open segment is always kept.
func (w *wal) releaseTo(idx uint64) error {
	n := 0
	for n < len(w.segs)-1 && w.segs[n].maxIndex <= idx {
		n++
	}
	for i := 0; i < n; i++ {
		path := filepath.Join(w.dir, segName(w.segs[i].seq))
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			// Keep the segments list truthful about what is left.
			w.segs = w.segs[i:]
			return fmt.Errorf("wal release: %w", err)
		}
	}
	w.segs = w.segs[n:]
	if n > 0 {
		return syncDir(w.dir)
	}
	return nil
}

func (w *wal) close() error {
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("fsync dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync dir %s: %w", dir, err)
	}
	return nil
}
