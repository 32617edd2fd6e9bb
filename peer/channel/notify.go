package channel

import (
	"context"
	"errors"
	"fmt"

	"weft/deliver"
	"weft/ledger/blockstore"
	"weft/wire/common"
	"weft/wire/peer"
)

// ErrClosed is returned to waiters when the channel is closed.
var ErrClosed = errors.New("channel closed")

// WaitForTx returns the validation code of transaction txID and the number
// of its block once that block is fully committed, at once if it already is.
// A tx id that occurs more than once reports its first occurrence. The
// code of a recently committed block comes from memory, older ones from the
// store.
func (c *Channel) WaitForTx(ctx context.Context, txID string) (peer.TxValidationCode, uint64, error) {
	if txID == "" {
		return 0, 0, errors.New("wait for tx: tx id: empty")
	}
	for {
		// Take the signal before looking, so a commit in between wakes us.
		height, signal, closed := c.committedSignal()
		if closed {
			return 0, 0, fmt.Errorf("wait for tx %s: %w", txID, ErrClosed)
		}
		num, idx, err := c.store.TxLocation(txID)
		switch {
		case err == nil && num < height:
			if f, ok := c.recent.get(num); ok {
				return filterCode(f, idx), num, nil
			}
			b, err := c.store.Block(num)
			if err != nil {
				return 0, 0, fmt.Errorf("wait for tx %s: block %d: %w", txID, num, err)
			}
			return txCode(b, idx), num, nil
		case err != nil && !errors.Is(err, blockstore.ErrNotFound):
			return 0, 0, fmt.Errorf("wait for tx %s: %w", txID, err)
		}
		select {
		case <-ctx.Done():
			return 0, 0, fmt.Errorf("wait for tx %s: %w", txID, ctx.Err())
		case <-signal:
		}
	}
}

// Ledger is the channel's block store as the deliver service reads it:
// only fully committed blocks, so that an event listener that reacts to a
// block finds its writes in the state.
func (c *Channel) Ledger() deliver.Ledger { return committedLedger{c} }

type committedLedger struct{ c *Channel }

func (l committedLedger) Height() uint64 { return l.c.Height() }

func (l committedLedger) Block(n uint64) (*common.Block, error) {
	if n >= l.c.Height() {
		return nil, fmt.Errorf("block %d: %w", n, blockstore.ErrNotFound)
	}
	return l.c.store.Block(n)
}

func (l committedLedger) Iterator(from uint64) deliver.BlockIterator {
	return &committedIterator{c: l.c, next: from}
}

type committedIterator struct {
	c    *Channel
	next uint64
}

func (it *committedIterator) Next(ctx context.Context) (*common.Block, error) {
	for {
		height, signal, closed := it.c.committedSignal()
		if closed {
			return nil, blockstore.ErrClosed
		}
		if it.next < height {
			b, err := it.c.store.Block(it.next)
			if err != nil {
				return nil, err
			}
			it.next++
			return b, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-signal:
		}
	}
}

func (it *committedIterator) Close() {}
