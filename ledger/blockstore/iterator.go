package blockstore

import (
	"context"

	"weft/wire/common"
)

// Iterator reads blocks in order from a starting number, waiting for blocks
// not yet appended. Each Iterator belongs to one goroutine; any number of
// iterators may run at once.
type Iterator struct {
	s    *Store
	next uint64
}

// Iterator returns an iterator whose first Next yields block from.
func (s *Store) Iterator(from uint64) *Iterator {
	return &Iterator{s: s, next: from}
}

// Next returns the next block, blocking until it has been appended, ctx
// ends (ctx.Err() is returned) or the store is closed (ErrClosed).
func (it *Iterator) Next(ctx context.Context) (*common.Block, error) {
	s := it.s
	for {
		s.mu.RLock()
		if s.closed {
			s.mu.RUnlock()
			return nil, ErrClosed
		}
		if it.next < uint64(len(s.blocks)) {
			b, err := s.readLocked(it.next)
			s.mu.RUnlock()
			if err != nil {
				return nil, err
			}
			it.next++
			return b, nil
		}
		wait := s.appended
		s.mu.RUnlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-wait:
		}
	}
}

// Position is the number of the block the next call to Next returns.
func (it *Iterator) Position() uint64 { return it.next }
