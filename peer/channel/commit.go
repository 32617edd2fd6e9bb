package channel

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/ledger/blockstore"
	"weft/ledger/statedb"
	"weft/peer/validator"
	"weft/wire/common"
	"weft/wire/peer"
)

// commitBlock verifies, validates and commits b, the block the channel
// expects next. A verification failure wraps ErrBadBlock and leaves the
// ledger unchanged.
func (c *Channel) commitBlock(b *common.Block) error {
	c.commitMu.Lock()
	defer c.commitMu.Unlock()
	if c.isClosed() {
		return blockstore.ErrClosed
	}
	// A failed state commit earlier leaves the state behind the blocks;
	// repair that before building on it.
	if err := c.catchUpState(); err != nil {
		return err
	}
	bundle := c.Bundle()
	height := c.store.Height()
	if err := verifyBlock(bundle, b, height, c.store.LastHeaderHash()); err != nil {
		return err
	}
	b = proto.Clone(b).(*common.Block)

	codes, batch, newBundle, err := c.validate(bundle, b)
	if err != nil {
		return fmt.Errorf("validate block %d: %w", height, err)
	}
	setFilter(b, codes)
	if err := c.store.Append(b); err != nil {
		return fmt.Errorf("append block %d: %w", height, err)
	}
	c.recent.add(height, b.Metadata.Metadata[common.BlockMetadataIndex_TRANSACTIONS_FILTER])
	if err := c.state.Commit(batch, height); err != nil {
		// The block is stored; catchUpState replays it before the next one.
		return fmt.Errorf("commit state of block %d: %w", height, err)
	}
	if newBundle != nil {
		c.bundle.Store(newBundle)
		c.log.Info("applied config block", "block", height, "sequence", newBundle.Sequence())
	}
	c.markCommitted(height + 1)
	c.log.Debug("committed block", "block", height, "txs", len(codes))
	return nil
}

func (c *Channel) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// validate returns the codes of b's transactions, the state updates of the
// valid ones and, for a valid config block, the new config.
func (c *Channel) validate(bundle *channelconfig.Bundle, b *common.Block) ([]peer.TxValidationCode, *statedb.UpdateBatch, *channelconfig.Bundle, error) {
	if isConfigBlock(b) {
		code, nb := c.validateConfig(bundle, b)
		return []peer.TxValidationCode{code}, statedb.NewUpdateBatch(), nb, nil
	}
	var pc validator.PolicyChecker
	if c.deps.PolicyChecker != nil {
		pc = c.deps.PolicyChecker(c.state, bundle)
	}
	res, err := validator.Validate(validator.Input{
		Block:    b,
		Bundle:   bundle,
		State:    c.state,
		TxExists: c.txExists,
		Policies: pc,
		Own:      c.deps.OwnSignatures,
	})
	if err != nil {
		return nil, nil, nil, err
	}
	n := len(b.GetData().GetData())
	if len(res.Codes) != n {
		return nil, nil, nil, fmt.Errorf("validator returned %d codes for %d transactions", len(res.Codes), n)
	}
	codes := append([]peer.TxValidationCode(nil), res.Codes...)
	// A config transaction is only valid alone in its block, where
	// validateConfig handles it; the validator leaves config txs to us.
	for i, code := range codes {
		if code == peer.TxValidationCode_VALID && txType(b.Data.Data[i]) == common.HeaderType_CONFIG {
			codes[i] = peer.TxValidationCode_INVALID_CONFIG_TRANSACTION
		}
	}
	batch := res.Batch
	if batch == nil {
		batch = statedb.NewUpdateBatch()
	}
	return codes, batch, nil, nil
}

// validateConfig checks a config block against the current config.
func (c *Channel) validateConfig(bundle *channelconfig.Bundle, b *common.Block) (peer.TxValidationCode, *channelconfig.Bundle) {
	num := b.GetHeader().GetNumber()
	cfgEnv, chID, err := channelconfig.ConfigFromBlock(b)
	if err == nil && chID != c.id {
		err = fmt.Errorf("config for channel %q", chID)
	}
	var nb *channelconfig.Bundle
	if err == nil {
		nb, err = bundle.ApplyConfigEnvelope(cfgEnv)
	}
	if err != nil {
		c.log.Warn("invalid config transaction", "block", num, "err", err)
		return peer.TxValidationCode_INVALID_CONFIG_TRANSACTION, nil
	}
	return peer.TxValidationCode_VALID, nb
}

// isConfigBlock reports whether b holds exactly one CONFIG transaction.
func isConfigBlock(b *common.Block) bool {
	d := b.GetData().GetData()
	return len(d) == 1 && txType(d[0]) == common.HeaderType_CONFIG
}

// txType is the header type of an envelope, -1 when it cannot be decoded.
func txType(raw []byte) common.HeaderType {
	d, err := DecodeTxHeader(raw)
	if err != nil {
		return -1
	}
	return common.HeaderType(d.GetType())
}

func (c *Channel) txExists(txID string) (bool, error) {
	_, _, err := c.store.TxLocation(txID)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, blockstore.ErrNotFound):
		return false, nil
	default:
		return false, err
	}
}
