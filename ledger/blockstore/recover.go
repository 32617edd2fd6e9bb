package blockstore

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"weft/wire/common"
)

// load scans every segment, verifying checksums and the hash chain, and
// builds the indexes. A bad record is only tolerated (and cut off) at the
// very end of the last segment with nothing valid after it: that is what an
// interrupted append leaves behind. Anything else is corruption, reported.
func (s *Store) load() error {
	names, err := s.segments()
	if err != nil {
		return err
	}
	if len(names) == 0 {
		f, err := os.OpenFile(filepath.Join(s.dir, segmentName(0)), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
		if err != nil {
			return fmt.Errorf("create first segment: %w", err)
		}
		f.Close()
		if err := syncDir(s.dir); err != nil {
			return fmt.Errorf("sync directory: %w", err)
		}
		names = []string{segmentName(0)}
	}
	for i, name := range names {
		path := filepath.Join(s.dir, name)
		r, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("segment %s: %w", name, err)
		}
		s.readers = append(s.readers, r)
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("segment %s: %w", name, err)
		}
		end, err := s.scan(i, name, data, i == len(names)-1)
		if err != nil {
			return err
		}
		if i == len(names)-1 {
			if err := s.openWriter(i, name, int64(end), len(data)); err != nil {
				return err
			}
		}
	}
	return nil
}

// segments lists the segment files in order and checks none is missing.
func (s *Store) segments() ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(s.dir, "seg-*.blk"))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, m := range matches {
		names = append(names, filepath.Base(m))
	}
	sort.Strings(names)
	for i, n := range names {
		if n != segmentName(i) {
			return nil, fmt.Errorf("segment files: expected %s, found %s (missing or stray segment)", segmentName(i), n)
		}
	}
	return names, nil
}

// scan indexes the blocks of segment seg and returns the offset where valid
// data ends.
func (s *Store) scan(seg int, name string, data []byte, last bool) (int, error) {
	off := 0
	for off < len(data) {
		body, next, why := parseRecord(data, off)
		if why != "" {
			if !last {
				return 0, fmt.Errorf("segment %s offset %d: %s in a segment that is not the last: corrupt", name, off, why)
			}
			if p, ok := validRecordAfter(data, off); ok {
				return 0, fmt.Errorf("segment %s offset %d: %s, followed by a valid record at offset %d: corrupt, refusing to truncate", name, off, why, p)
			}
			s.log.Warn("block store: dropping torn final record",
				"dir", s.dir, "segment", name, "offset", off, "bytes", len(data)-off, "reason", why)
			return off, nil
		}
		b, err := decodeBlock(body)
		if err != nil {
			return 0, fmt.Errorf("segment %s offset %d: undecodable block: %w", name, off, err)
		}
		if err := checkLink(b, uint64(len(s.blocks)), s.lastHash); err != nil {
			return 0, fmt.Errorf("segment %s offset %d: %w", name, off, err)
		}
		s.index(b, location{seg: seg, off: int64(off + recordHeaderLen), len: uint32(len(body))})
		off = next
	}
	return off, nil
}

// openWriter opens the last segment for appending, cutting off a torn tail
// (end < size) durably first.
func (s *Store) openWriter(seg int, name string, end int64, size int) error {
	f, err := os.OpenFile(filepath.Join(s.dir, name), os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("segment %s: %w", name, err)
	}
	if end < int64(size) {
		if err := f.Truncate(end); err != nil {
			f.Close()
			return fmt.Errorf("segment %s: truncate torn tail: %w", name, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return fmt.Errorf("segment %s: sync after truncate: %w", name, err)
		}
	}
	s.setWriter(f, name, end)
	return nil
}

func (s *Store) setWriter(f *os.File, name string, size int64) {
	s.wf, s.w, s.wSize = f, File(f), size
	if s.opts.WrapFile != nil {
		s.w = s.opts.WrapFile(name, f)
	}
}

// index records block b, which must be the next in the chain.
func (s *Store) index(b *common.Block, loc location) {
	n := uint64(len(s.blocks))
	s.blocks = append(s.blocks, loc)
	h := HeaderHash(b.GetHeader())
	s.byHash[string(h)] = n
	for i, env := range b.GetData().GetData() {
		id := txID(env)
		if id == "" {
			continue
		}
		// The first occurrence wins: a later duplicate is invalid by
		// Fabric's rules and must not shadow the original.
		if _, dup := s.txs[id]; !dup {
			s.txs[id] = txLocation{block: n, index: i}
		}
	}
	s.lastHash = h
}
