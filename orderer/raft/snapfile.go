package raft

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// snapDir stores raft snapshots (metadata plus application data) as
// "<term>-<index>.snap" files holding [crc32c uint32 LE][proto Snapshot].
// A snapshot file only counts once the WAL holds a record for it; files the
// WAL does not know about are leftovers of a crash and are removed.
type snapDir struct {
	dir string
}

func snapName(term, index uint64) string { return fmt.Sprintf("%016x-%016x.snap", term, index) }

func openSnapDir(dir string) (*snapDir, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("snapshot dir %s: %w", dir, err)
	}
	return &snapDir{dir: dir}, nil
}

// save writes snap atomically: temp file, fsync, rename, fsync of the
// directory, so a crash leaves either no file or a complete one.
func (s *snapDir) save(snap *raftpb.Snapshot) error {
	md := snap.GetMetadata()
	body, err := proto.MarshalOptions{Deterministic: true}.Marshal(snap)
	if err != nil {
		return fmt.Errorf("snapshot %d: marshal: %w", md.GetIndex(), err)
	}
	buf := binary.LittleEndian.AppendUint32(nil, crc32.Checksum(body, castagnoli))
	buf = append(buf, body...)
	final := filepath.Join(s.dir, snapName(md.GetTerm(), md.GetIndex()))
	tmp, err := os.CreateTemp(s.dir, "snap-*.tmp")
	if err != nil {
		return fmt.Errorf("snapshot %d: %w", md.GetIndex(), err)
	}
	_, werr := tmp.Write(buf)
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), final)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("snapshot %d: write %s: %w", md.GetIndex(), final, werr)
	}
	return syncDir(s.dir)
}

// load reads the snapshot the WAL names and checks it is that snapshot.
func (s *snapDir) load(md *raftpb.SnapshotMetadata) (*raftpb.Snapshot, error) {
	path := filepath.Join(s.dir, snapName(md.GetTerm(), md.GetIndex()))
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("snapshot at index %d named by the wal: %w", md.GetIndex(), err)
	}
	if len(b) < 4 || binary.LittleEndian.Uint32(b) != crc32.Checksum(b[4:], castagnoli) {
		return nil, fmt.Errorf("snapshot %s: checksum mismatch", path)
	}
	snap := &raftpb.Snapshot{}
	if err := proto.Unmarshal(b[4:], snap); err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", path, err)
	}
	got := snap.GetMetadata()
	if got.GetIndex() != md.GetIndex() || got.GetTerm() != md.GetTerm() {
		return nil, fmt.Errorf("snapshot %s: holds index %d term %d", path, got.GetIndex(), got.GetTerm())
	}
	return snap, nil
}

// purgeExcept removes every snapshot and temp file except the one for md
// (md nil: remove all).
func (s *snapDir) purgeExcept(md *raftpb.SnapshotMetadata) error {
	keep := ""
	if md != nil {
		keep = snapName(md.GetTerm(), md.GetIndex())
	}
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("snapshot dir %s: %w", s.dir, err)
	}
	var errs []error
	for _, de := range des {
		name := de.Name()
		if name == keep || !(strings.HasSuffix(name, ".snap") || strings.HasSuffix(name, ".tmp")) {
			continue
		}
		if err := os.Remove(filepath.Join(s.dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("snapshot dir %s: purge: %w", s.dir, err)
	}
	return nil
}
