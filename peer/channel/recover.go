package channel

import (
	"fmt"

	"weft/channelconfig"
	"weft/ledger/statedb"
	"weft/peer/validator"
	"weft/wire/common"
	"weft/wire/peer"
)

// restore loads the current config and brings the state up to the block
// store.
func (c *Channel) restore() error {
	height := c.store.Height()
	if height == 0 {
		return fmt.Errorf("dir %s: block store is empty", c.dir)
	}
	bundle, err := c.loadBundle(height - 1)
	if err != nil {
		return err
	}
	c.bundle.Store(bundle)
	if err := c.catchUpState(); err != nil {
		return err
	}
	c.committed = height
	return nil
}

// loadBundle builds the config in force after block last: that of the newest
// config block the committer accepted. A config block the orderer recorded
// but this peer marked invalid is skipped by following the LAST_CONFIG
// pointer of the block before it.
func (c *Channel) loadBundle(last uint64) (*channelconfig.Bundle, error) {
	n := last
	for {
		b, err := c.store.Block(n)
		if err != nil {
			return nil, fmt.Errorf("block %d: %w", n, err)
		}
		idx, err := channelconfig.LastConfigIndex(b)
		if err != nil {
			return nil, fmt.Errorf("block %d: last config index: %w", n, err)
		}
		if idx > n {
			return nil, fmt.Errorf("block %d: last config index %d points ahead", n, idx)
		}
		cb := b
		if idx != n {
			if cb, err = c.store.Block(idx); err != nil {
				return nil, fmt.Errorf("config block %d: %w", idx, err)
			}
		}
		if txCode(cb, 0) != peer.TxValidationCode_VALID && idx > 0 {
			n = idx - 1
			continue
		}
		cfgEnv, chID, err := channelconfig.ConfigFromBlock(cb)
		if err != nil {
			return nil, fmt.Errorf("config block %d: %w", idx, err)
		}
		if chID != c.id {
			return nil, fmt.Errorf("config block %d: belongs to channel %q", idx, chID)
		}
		bundle, err := channelconfig.NewBundle(chID, cfgEnv.GetConfig())
		if err != nil {
			return nil, fmt.Errorf("config block %d: %w", idx, err)
		}
		return bundle, nil
	}
}

// catchUpState replays the valid transactions of the blocks the state has
// not seen, one state commit per block, trusting each block's
// TRANSACTIONS_FILTER: these blocks were validated before they were stored.
func (c *Channel) catchUpState() error {
	height := c.store.Height()
	from := uint64(0)
	if sp, ok := c.state.Savepoint(); ok {
		if sp >= height {
			return fmt.Errorf("state savepoint %d is ahead of the block store (height %d)", sp, height)
		}
		from = sp + 1
	}
	if from < height {
		c.log.Info("rebuilding state from stored blocks", "from", from, "to", height-1)
	}
	for n := from; n < height; n++ {
		b, err := c.store.Block(n)
		if err != nil {
			return fmt.Errorf("replay block %d: %w", n, err)
		}
		batch, err := replayBatch(c.state, b)
		if err != nil {
			return fmt.Errorf("replay block %d: %w", n, err)
		}
		if err := c.state.Commit(batch, n); err != nil {
			return fmt.Errorf("replay block %d: state commit: %w", n, err)
		}
	}
	return nil
}

// replayBatch collects the writes of b's valid endorser transactions.
func replayBatch(state *statedb.DB, b *common.Block) (*statedb.UpdateBatch, error) {
	batch := statedb.NewUpdateBatch()
	num := b.GetHeader().GetNumber()
	for i, raw := range b.GetData().GetData() {
		if txCode(b, i) != peer.TxValidationCode_VALID {
			continue
		}
		sets, err := writeSets(raw)
		if err != nil {
			return nil, fmt.Errorf("tx %d: %w", i, err)
		}
		if err := validator.ApplyWrites(state, batch, sets, statedb.Version{BlockNum: num, TxNum: uint64(i)}, nil); err != nil {
			return nil, fmt.Errorf("tx %d: %w", i, err)
		}
	}
	return batch, nil
}
