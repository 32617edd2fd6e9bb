package chain

import (
	"bytes"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/orderer/raft"
	"weft/wire/common"
)

// apply is raft's Apply callback: it runs on raft's goroutine for every
// committed entry, in log order.
//
// A leader proposes whole blocks, but an entry can commit that no longer
// fits the chain: a deposed leader's proposal that raft forwarded to the
// new leader, or blocks built on one that was lost. Apply therefore keeps
// vtip, the newest block the log has produced, and accepts a block only if
// it extends vtip; anything else is skipped. The rule depends on the log
// alone, so every member skips the same entries and stores the same chain.
func (c *Chain) apply(e raft.Committed) error {
	blocks, err := decodeEntry(e.Data)
	if err != nil {
		// Every member sees these bytes, so every member skips them.
		c.log.Error("skipping undecodable raft entry", "index", e.Index, "err", err)
		return nil
	}
	for _, b := range blocks {
		if err := c.applyBlock(b, e.Index); err != nil {
			return err
		}
	}
	return nil
}

func (c *Chain) applyBlock(b *common.Block, index uint64) error {
	n := b.Header.Number
	if n != c.vtip.Number+1 || !bytes.Equal(b.Header.PreviousHash, channelconfig.BlockHeaderHash(c.vtip)) {
		c.log.Warn("skipping block that does not extend the chain (from a deposed leader)",
			"block", n, "raft_index", index, "chain_tip", c.vtip.Number)
		return nil
	}
	hash := channelconfig.BlockHeaderHash(b.Header)
	height := c.store.Height()
	switch {
	case n < height:
		// Replayed after a restart: the store must already hold it.
		stored, err := c.storedHash(n)
		if err != nil {
			return err
		}
		if !bytes.Equal(stored, hash) {
			return fmt.Errorf("block %d agreed by raft (index %d) differs from the stored block %d: ledger fork, refusing to continue", n, index, n)
		}
	case n > height:
		if err := c.pullRange(height, n-1); err != nil {
			return err
		}
		fallthrough
	default:
		if err := c.appendBlock(b); err != nil {
			return err
		}
	}
	c.setVtip(b.Header)
	return nil
}

// setVtip records the newest block of the log, for raft's goroutine (vtip)
// and, under mu, for the leader loop (logTip).
func (c *Chain) setVtip(h *common.BlockHeader) {
	c.vtip = headerOf(h)
	c.mu.Lock()
	c.logTip = c.vtip
	c.mu.Unlock()
}

func (c *Chain) storedHash(n uint64) ([]byte, error) {
	c.mu.Lock()
	h, ok := c.recent.hashes[n]
	c.mu.Unlock()
	if ok {
		return h, nil
	}
	b, err := c.store.Block(n)
	if err != nil {
		return nil, fmt.Errorf("read stored block %d: %w", n, err)
	}
	return channelconfig.BlockHeaderHash(b.Header), nil
}

// snapshot is raft's Snapshot callback: the state is the chain tip as of
// the last applied entry; the blocks themselves live in the store and are
// pulled by whoever restores the snapshot.
func (c *Chain) snapshot() ([]byte, error) { return marshal(c.vtip) }

// restore is raft's Restore callback: make the store reach the snapshot's
// block, pulling what is missing from the other orderers.
func (c *Chain) restore(data []byte) error {
	h := &common.BlockHeader{}
	if err := proto.Unmarshal(data, h); err != nil {
		return fmt.Errorf("snapshot data: %w", err)
	}
	if height := c.store.Height(); height <= h.Number {
		c.log.Info("raft snapshot is ahead of the ledger, pulling blocks", "from", height, "to", h.Number)
		if err := c.pullRange(height, h.Number); err != nil {
			return fmt.Errorf("catch up to snapshot block %d: %w", h.Number, err)
		}
	}
	stored, err := c.storedHash(h.Number)
	if err != nil {
		return err
	}
	if !bytes.Equal(stored, channelconfig.BlockHeaderHash(h)) {
		return fmt.Errorf("snapshot block %d differs from the stored block: ledger fork, refusing to continue", h.Number)
	}
	c.setVtip(h)
	return nil
}

// pullRange appends blocks [from, to] fetched by the Puller, retrying
// until it succeeds or the chain halts. The store checks every block's
// number, hash chain and data hash.
func (c *Chain) pullRange(from, to uint64) error {
	if c.cfg.Puller == nil {
		return fmt.Errorf("blocks %d..%d are missing and no Puller is configured", from, to)
	}
	backoff := 50 * time.Millisecond
	for {
		h := c.store.Height()
		if h > to {
			return nil
		}
		err := c.cfg.Puller.Pull(c.ctx, h, to, func(b *common.Block) error {
			if b.GetHeader() == nil {
				return fmt.Errorf("pulled block without header")
			}
			if b.Header.Number < c.store.Height() {
				return nil // a retry overlapping what we have
			}
			return c.appendBlock(b)
		})
		if err == nil && c.store.Height() > to {
			return nil
		}
		if c.ctx.Err() != nil {
			return fmt.Errorf("pull blocks %d..%d: %w", h, to, ErrHalted)
		}
		c.log.Warn("pulling blocks failed, retrying", "from", h, "to", to, "err", err)
		select {
		case <-time.After(backoff):
		case <-c.ctx.Done():
			return fmt.Errorf("pull blocks %d..%d: %w", h, to, ErrHalted)
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// appendBlock stores b and brings the chain's derived state (config,
// membership, dedupe window, waiters) up to it.
func (c *Chain) appendBlock(b *common.Block) error {
	n := b.Header.Number
	var next *channelconfig.Bundle
	if isConfigBlock(b) {
		ce, _, err := channelconfig.ConfigFromBlock(b)
		if err != nil {
			return fmt.Errorf("config block %d: %w", n, err)
		}
		if next, err = channelconfig.NewBundle(c.cfg.Channel, ce.Config); err != nil {
			return fmt.Errorf("config block %d: %w", n, err)
		}
	}
	c.mu.Lock()
	bundle := c.bundle
	c.mu.Unlock()
	if next != nil {
		bundle = next
	}
	md, err := raftMetadata(b)
	if err != nil {
		return err
	}
	mem, err := membershipFrom(bundle.EtcdRaftConsenters(), md)
	if err != nil {
		return fmt.Errorf("block %d: %w", n, err)
	}
	lc, err := channelconfig.LastConfigIndex(b)
	if err != nil {
		return fmt.Errorf("block %d: %w", n, err)
	}
	if err := c.store.Append(b); err != nil {
		return fmt.Errorf("append block %d: %w", n, err)
	}

	c.mu.Lock()
	c.tip = headerOf(b.Header)
	c.recent.add(n, channelconfig.BlockHeaderHash(b.Header))
	c.resolveLocked(b.Data.Data)
	c.bundle, c.mem, c.lastConfig = bundle, mem, lc
	oldSelf := c.selfID
	c.selfID = mem.idOf(c.cfg.SelfClientTLSCert)
	self, running := c.selfID, c.node != nil
	c.mu.Unlock()

	if next != nil {
		c.log.Info("config block appended", "block", n, "sequence", next.Sequence(), "consenter_ids", mem.ids, "raft_id", self)
		if self != 0 {
			c.transport.Configure(c.cfg.Channel, self, mem.members())
		}
		if running && oldSelf != 0 && self == 0 {
			c.log.Warn("this orderer was removed from the consenters; halting the chain", "block", n)
			// Halt stops raft, which waits for the goroutine we run on.
			go c.halt(StatusInactive, nil)
		}
	} else {
		c.log.Debug("block appended", "block", n, "txs", len(b.Data.Data))
	}
	return nil
}

// syncBundleToStore loads the config of the store's newest block, for a
// chain whose Bundle came from a join block the store has not reached.
func (c *Chain) syncBundleToStore() error {
	h := c.store.Height()
	if h == 0 {
		return nil
	}
	last, err := c.store.Block(h - 1)
	if err != nil {
		return fmt.Errorf("read block %d: %w", h-1, err)
	}
	lc, err := channelconfig.LastConfigIndex(last)
	if err != nil {
		return fmt.Errorf("block %d: %w", h-1, err)
	}
	cb, err := c.store.Block(lc)
	if err != nil {
		return fmt.Errorf("read config block %d: %w", lc, err)
	}
	ce, _, err := channelconfig.ConfigFromBlock(cb)
	if err != nil {
		return fmt.Errorf("config block %d: %w", lc, err)
	}
	bundle, err := channelconfig.NewBundle(c.cfg.Channel, ce.Config)
	if err != nil {
		return fmt.Errorf("config block %d: %w", lc, err)
	}
	md, err := raftMetadata(last)
	if err != nil {
		return err
	}
	mem, err := membershipFrom(bundle.EtcdRaftConsenters(), md)
	if err != nil {
		return fmt.Errorf("block %d: %w", h-1, err)
	}
	c.mu.Lock()
	c.bundle, c.mem, c.lastConfig, c.tip = bundle, mem, lc, headerOf(last.Header)
	c.selfID = mem.idOf(c.cfg.SelfClientTLSCert)
	c.mu.Unlock()
	return nil
}
