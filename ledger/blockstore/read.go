package blockstore

import (
	"fmt"

	"weft/wire/common"
)

// Block returns block n, read from disk and checksum-verified.
func (s *Store) Block(n uint64) (*common.Block, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	if n >= uint64(len(s.blocks)) {
		return nil, fmt.Errorf("block %d: %w (height %d)", n, ErrNotFound, len(s.blocks))
	}
	return s.readLocked(n)
}

// BlockByHash returns the block whose header hash is h.
func (s *Store) BlockByHash(h []byte) (*common.Block, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	n, ok := s.byHash[string(h)]
	if !ok {
		return nil, fmt.Errorf("block with header hash %x: %w", h, ErrNotFound)
	}
	return s.readLocked(n)
}

// TxLocation says which block holds transaction txID and at which index
// in its data. For a tx id that occurs more than once, the first wins.
func (s *Store) TxLocation(txID string) (blockNum uint64, txIndex int, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, 0, ErrClosed
	}
	loc, ok := s.txs[txID]
	if !ok {
		return 0, 0, fmt.Errorf("transaction %q: %w", txID, ErrNotFound)
	}
	return loc.block, loc.index, nil
}

func (s *Store) readLocked(n uint64) (*common.Block, error) {
	loc := s.blocks[n]
	buf := make([]byte, recordHeaderLen+int(loc.len))
	start := loc.off - recordHeaderLen
	if _, err := s.readers[loc.seg].ReadAt(buf, start); err != nil {
		return nil, fmt.Errorf("block %d: read %s offset %d: %w", n, segmentName(loc.seg), start, err)
	}
	body, _, why := parseRecord(buf, 0)
	if why != "" {
		return nil, fmt.Errorf("block %d: %s offset %d: %s (data changed on disk since open)", n, segmentName(loc.seg), start, why)
	}
	b, err := decodeBlock(body)
	if err != nil {
		return nil, fmt.Errorf("block %d: %s offset %d: %w", n, segmentName(loc.seg), start, err)
	}
	return b, nil
}
