package chain

import (
	"errors"
	"fmt"

	"weft/channelconfig"
	"weft/wire/common"
)

// loadState derives membership, last config and dedupe window from the
// newest block (the join block while the store is behind it).
func (c *Chain) loadState() error {
	var last *common.Block
	var err error
	if h := c.store.Height(); h > 0 && (c.cfg.JoinBlock == nil || h > c.cfg.JoinBlock.GetHeader().GetNumber()) {
		if last, err = c.store.Block(h - 1); err != nil {
			return fmt.Errorf("read block %d: %w", h-1, err)
		}
		if err := c.loadWindow(h); err != nil {
			return err
		}
	} else {
		last = c.cfg.JoinBlock
		if last.GetHeader() == nil {
			return errors.New("JoinBlock has no header")
		}
	}
	md, err := raftMetadata(last)
	if err != nil {
		return err
	}
	mem, err := membershipFrom(c.bundle.EtcdRaftConsenters(), md)
	if err != nil {
		return fmt.Errorf("block %d: %w", last.Header.Number, err)
	}
	lc, err := channelconfig.LastConfigIndex(last)
	if err != nil {
		return fmt.Errorf("block %d: %w", last.Header.Number, err)
	}
	c.mem, c.lastConfig = mem, lc
	c.selfID = mem.idOf(c.cfg.SelfClientTLSCert)
	c.relation = RelationFollower
	if c.selfID != 0 {
		c.relation = RelationConsenter
	}
	c.state = StatusActive
	if c.store.Height() > 0 {
		c.tip = headerOf(c.lastStoredHeader())
	}
	return nil
}

func (c *Chain) loadWindow(height uint64) error {
	// Walk back far enough to fill the dedupe window, then replay forward
	// so the oldest entries are evicted first.
	from, count := height, 0
	for from > 0 && count < c.cfg.DedupeWindow && height-from < 10000 {
		b, err := c.store.Block(from - 1)
		if err != nil {
			return fmt.Errorf("read block %d: %w", from-1, err)
		}
		count += len(b.GetData().GetData())
		from--
	}
	for n := from; n < height; n++ {
		b, err := c.store.Block(n)
		if err != nil {
			return fmt.Errorf("read block %d: %w", n, err)
		}
		c.recent.add(n, channelconfig.BlockHeaderHash(b.Header))
		for _, d := range b.GetData().GetData() {
			c.seen.add(envHash(d))
		}
	}
	return nil
}

func (c *Chain) lastStoredHeader() *common.BlockHeader {
	h := c.store.Height()
	if h == 0 {
		return nil
	}
	b, err := c.store.Block(h - 1)
	if err != nil {
		return nil
	}
	return b.Header
}
