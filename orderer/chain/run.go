package chain

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"time"

	"weft/channelconfig"
	"weft/orderer/raft"
	"weft/wire/common"
)

type timing struct {
	tick                    time.Duration
	electionTick, heartbeat int
}

// raftTiming reads the raft timing options of a config.
func raftTiming(b *channelconfig.Bundle) (timing, error) {
	o := b.EtcdRaftOptions()
	t := timing{tick: 500 * time.Millisecond, electionTick: int(o.GetElectionTick()), heartbeat: int(o.GetHeartbeatTick())}
	if s := o.GetTickInterval(); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return t, fmt.Errorf("etcdraft options: tick_interval %q is not a positive duration", s)
		}
		t.tick = d
	}
	if t.heartbeat == 0 {
		t.heartbeat = channelconfig.DefaultHeartbeatTick
	}
	if t.electionTick == 0 {
		t.electionTick = channelconfig.DefaultElectionTick
	}
	if t.electionTick <= t.heartbeat {
		return t, fmt.Errorf("etcdraft options: election_tick %d must exceed heartbeat_tick %d", t.electionTick, t.heartbeat)
	}
	return t, nil
}

// startRaft starts this consenter's raft member and the leader loop.
//
// AppliedIndex is always 0: raft replays its whole log (since the last
// snapshot) on start, and apply recognises blocks the store already holds.
// This keeps the store the only record of progress, at the cost of
// re-reading at most SnapshotEvery entries per restart.
func (c *Chain) startRaft() error {
	c.mu.Lock()
	bundle, mem, self := c.bundle, c.mem, c.selfID
	c.mu.Unlock()
	t, err := raftTiming(bundle)
	if err != nil {
		return fmt.Errorf("chain %s: %w", c.cfg.Channel, err)
	}
	genesis, err := c.store.Block(0)
	if err != nil {
		return fmt.Errorf("chain %s: read block 0: %w", c.cfg.Channel, err)
	}
	c.setVtip(genesis.Header)
	// Founders bootstrap the group from the genesis block; a consenter
	// added later joins with no peers and waits for the leader.
	var peers []uint64
	if c.store.Height() == 1 {
		peers = mem.ids
	}
	n, err := raft.Start(raft.Config{
		ID:            self,
		Peers:         peers,
		Dir:           c.cfg.WALDir,
		TickInterval:  t.tick,
		ElectionTick:  t.electionTick,
		HeartbeatTick: t.heartbeat,
		SnapshotEvery: c.cfg.SnapshotEvery,
		Transport:     raftTransport{c},
		Apply:         c.apply,
		Snapshot:      c.snapshot,
		Restore:       c.restore,
		Logger:        c.cfg.Logger.With("channel", c.cfg.Channel),
	})
	if err != nil {
		return fmt.Errorf("chain %s: start raft: %w", c.cfg.Channel, err)
	}
	c.mu.Lock()
	c.node = n
	c.mu.Unlock()
	if c.halted() {
		n.Stop()
		return ErrHalted
	}
	l := &leader{
		c: c, n: n, tick: t.tick, electionTimeout: time.Duration(t.electionTick) * t.tick,
		pending:   map[[32]byte]bool{},
		proposedc: make(chan proposeResult, 1), markerc: make(chan markerResult, 1), ccc: make(chan error, 1),
	}
	c.wg.Add(2)
	go func() {
		defer c.wg.Done()
		l.run()
	}()
	go func() {
		defer c.wg.Done()
		select {
		case <-n.Done():
			if err := n.Err(); err != nil {
				c.fail(fmt.Errorf("raft: %w", err))
			}
		case <-c.ctx.Done():
		}
	}()
	c.log.Info("raft started", "peers", peers, "height", c.store.Height())
	return nil
}

// onboard fills the store up to the join block.
func (c *Chain) onboard() error {
	jb := c.cfg.JoinBlock
	jn := jb.Header.Number
	if err := c.syncBundleToStore(); err != nil {
		return err
	}
	if c.store.Height() == 0 && jn == 0 {
		if err := c.appendBlock(jb); err != nil {
			return err
		}
	} else {
		c.log.Info("onboarding: pulling blocks", "from", c.store.Height(), "to", jn)
		if err := c.pullRange(c.store.Height(), jn); err != nil {
			return err
		}
	}
	got, err := c.storedHash(jn)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, channelconfig.BlockHeaderHash(jb.Header)) {
		return fmt.Errorf("pulled block %d differs from the join block", jn)
	}
	c.mu.Lock()
	c.relation = RelationFollower
	if c.selfID != 0 {
		c.relation = RelationConsenter
	}
	c.mu.Unlock()
	c.log.Info("onboarding done", "height", c.store.Height())
	return nil
}

var errBecameConsenter = errors.New("became a consenter")

// follow pulls blocks for a non-consenter until a config block makes it
// a consenter, then starts raft.
func (c *Chain) follow() {
	if c.cfg.Puller == nil {
		c.fail(errors.New("following the channel needs a Puller"))
		return
	}
	backoff := 50 * time.Millisecond
	for c.ctx.Err() == nil {
		err := c.cfg.Puller.Pull(c.ctx, c.store.Height(), math.MaxUint64, func(b *common.Block) error {
			if b.GetHeader() == nil || b.Header.Number < c.store.Height() {
				return nil
			}
			if err := c.appendBlock(b); err != nil {
				return err
			}
			c.mu.Lock()
			self := c.selfID
			c.mu.Unlock()
			if self != 0 {
				return errBecameConsenter
			}
			return nil
		})
		if errors.Is(err, errBecameConsenter) {
			c.mu.Lock()
			c.relation = RelationConsenter
			c.mu.Unlock()
			c.log.Info("this orderer became a consenter", "height", c.store.Height())
			if err := c.activate(); err != nil {
				c.fail(err)
			}
			return
		}
		if c.ctx.Err() != nil {
			return
		}
		c.log.Warn("follower pull failed, retrying", "err", err)
		select {
		case <-time.After(backoff):
		case <-c.ctx.Done():
			return
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}
