package deliver

import (
	"context"
	"log/slog"

	"weft/ledger/blockstore"
	"weft/msp"
	"weft/policy"
	"weft/wire/common"
)

// Ledger is the read side of a channel's block store.
type Ledger interface {
	// Height is the number of blocks, i.e. the number of the next block.
	Height() uint64
	Block(n uint64) (*common.Block, error)
	// Iterator yields blocks from number from on, waiting for blocks that
	// have not been appended yet.
	Iterator(from uint64) BlockIterator
}

// BlockIterator reads consecutive blocks. One iterator serves one reader.
type BlockIterator interface {
	// Next blocks until the next block exists or ctx ends.
	Next(ctx context.Context) (*common.Block, error)
	Close()
}

// Channel is what the handler needs of one channel. PolicyManager and
// MSPManager reflect the channel's current config; a change of the returned
// policy manager is taken as a config change and makes running streams
// re-check their reader's authorisation.
type Channel interface {
	Ledger() Ledger
	PolicyManager() *policy.Manager
	MSPManager() *msp.Manager
}

// Source finds channels by name.
type Source interface {
	Channel(id string) (Channel, bool)
}

// Errorer may be implemented by a Channel whose backing consenter can fail;
// once the returned channel is closed, new and running requests get
// SERVICE_UNAVAILABLE unless they asked for BEST_EFFORT.
type Errorer interface {
	Errored() <-chan struct{}
}

// StoreLedger exposes a block store as a Ledger.
func StoreLedger(s *blockstore.Store) Ledger { return storeLedger{s} }

type storeLedger struct{ s *blockstore.Store }

func (l storeLedger) Height() uint64                        { return l.s.Height() }
func (l storeLedger) Block(n uint64) (*common.Block, error) { return l.s.Block(n) }
func (l storeLedger) Iterator(from uint64) BlockIterator {
	return storeIterator{l.s.Iterator(from)}
}

// storeIterator adds the no-op Close: a blockstore iterator holds no
// resources of its own.
type storeIterator struct{ it *blockstore.Iterator }

func (i storeIterator) Next(ctx context.Context) (*common.Block, error) { return i.it.Next(ctx) }
func (i storeIterator) Close()                                          {}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}
