package blockstore

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/proto"

	"weft/wire/common"
)

// Append adds b as the next block. b.Header.Number must equal Height(),
// PreviousHash must be the last header's hash (empty for block 0) and
// DataHash must match b.Data. With the default sync policy the block is on
// stable storage when Append returns nil. On a write or sync failure (disk
// full) the partial record is cut off again, so the store is unchanged and
// the same block can be appended later.
func (s *Store) Append(b *common.Block) error {
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	s.mu.RLock()
	closed, height, prev := s.closed, uint64(len(s.blocks)), s.lastHash
	s.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	if s.failed != nil {
		return fmt.Errorf("append: store unusable after an earlier failed write could not be undone (reopen to recover): %w", s.failed)
	}
	if err := checkLink(b, height, prev); err != nil {
		return err
	}
	body, err := proto.MarshalOptions{Deterministic: true}.Marshal(b)
	if err != nil {
		return fmt.Errorf("append block %d: marshal: %w", height, err)
	}
	if len(body) > maxRecordLen {
		return invalidf("block %d: %d bytes exceeds the record limit of %d", height, len(body), maxRecordLen)
	}
	rec := encodeRecord(body)
	if s.wSize > 0 && s.wSize+int64(len(rec)) > s.opts.MaxSegmentBytes {
		if err := s.roll(); err != nil {
			return fmt.Errorf("append block %d: start new segment: %w", height, err)
		}
	}
	start := s.wSize
	if err := s.write(rec, start); err != nil {
		return fmt.Errorf("append block %d: %w", height, err)
	}
	s.mu.Lock()
	s.index(b, location{seg: len(s.readers) - 1, off: start + recordHeaderLen, len: uint32(len(body))})
	close(s.appended)
	s.appended = make(chan struct{})
	s.mu.Unlock()
	return nil
}

// write appends one record and syncs it per policy, undoing a partial
// write on failure.
func (s *Store) write(rec []byte, start int64) error {
	n, err := s.w.Write(rec)
	if err == nil && n != len(rec) {
		err = io.ErrShortWrite
	}
	if err == nil && s.opts.Sync == SyncEveryAppend {
		if err = s.w.Sync(); err != nil {
			err = fmt.Errorf("sync: %w", err)
		}
	}
	if err == nil {
		s.wSize += int64(len(rec))
		return nil
	}
	// Cutting the file back to start restores the state before this call:
	// with SyncEveryAppend everything before start was already durable.
	// Without it, unsynced earlier records may have been lost with the
	// failed write, so the store cannot vouch for itself any more.
	uerr := s.w.Truncate(start)
	if uerr == nil {
		uerr = s.w.Sync()
	}
	if uerr == nil && s.opts.Sync != SyncEveryAppend {
		uerr = errors.New("earlier unsynced records may be lost")
	}
	if uerr != nil {
		s.failed = fmt.Errorf("undo partial write at offset %d: %w", start, uerr)
		return errors.Join(err, s.failed)
	}
	return err
}

// roll closes the current segment (complete and synced) and starts the next.
func (s *Store) roll() error {
	if err := s.w.Sync(); err != nil {
		if s.opts.Sync != SyncEveryAppend {
			s.failed = fmt.Errorf("sync segment before roll-over: %w", err)
		}
		return err
	}
	name := segmentName(len(s.readers))
	path := filepath.Join(s.dir, name)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	r, err := os.Open(path)
	if err == nil {
		err = syncDir(s.dir)
		if err != nil {
			r.Close()
		}
	}
	if err != nil {
		f.Close()
		// An empty stray segment would be harmless on reopen, but removing
		// it lets the next Append retry the roll-over.
		os.Remove(path)
		return err
	}
	s.wf.Close()
	s.setWriter(f, name, 0)
	s.mu.Lock()
	s.readers = append(s.readers, r)
	s.mu.Unlock()
	return nil
}
