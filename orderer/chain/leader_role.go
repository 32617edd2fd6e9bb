package chain

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"weft/channelconfig"
	"weft/orderer/blockcutter"
)

// checkRole follows raft's leadership, polled every tick.
func (l *leader) checkRole() {
	st := l.n.Status()
	switch {
	case !st.IsLeader:
		if l.term != 0 || len(l.backlog) > 0 {
			if l.term != 0 {
				l.c.log.Info("no longer the raft leader", "term", l.term)
			}
			l.reset(fmt.Errorf("%w: leadership lost", errRetry))
		}
	case st.Term != l.term:
		if l.term != 0 {
			l.reset(fmt.Errorf("%w: leadership term changed", errRetry))
		}
		l.term = st.Term
		l.sendMarker()
	case !l.ready && !l.markerInFlight:
		l.sendMarker()
	case l.ready:
		l.maybeConfChange()
	}
}

// sendMarker proposes an empty entry; once this node has applied it, it
// has applied everything committed before its term.
func (l *leader) sendMarker() {
	l.markerInFlight = true
	epoch, term, c := l.epoch, l.term, l.c
	go func() {
		ctx, cancel := context.WithTimeout(c.ctx, max(2*time.Second, 4*l.electionTimeout))
		defer cancel()
		err := l.n.Propose(ctx, nil)
		select {
		case l.markerc <- markerResult{epoch: epoch, term: term, err: err}:
		case <-c.ctx.Done():
		}
	}()
}

func (l *leader) onMarker(res markerResult) {
	if res.epoch != l.epoch || res.term != l.term {
		return
	}
	l.markerInFlight = false
	c := l.c
	if res.err != nil {
		c.log.Warn("leader marker failed", "term", res.term, "err", res.err)
		l.term = 0 // start over on the next tick if still leading
		return
	}
	c.mu.Lock()
	tip, logTip, bundle, mem, lc := c.tip, c.logTip, c.bundle, c.mem, c.lastConfig
	c.mu.Unlock()
	if tip == nil || logTip == nil || tip.Number != logTip.Number {
		c.log.Error("store and raft log disagree on the chain tip; not cutting blocks",
			"store_tip", tip.GetNumber(), "log_tip", logTip.GetNumber())
		return
	}
	cutter, err := blockcutter.New(blockcutter.ConfigFromBatchSize(bundle.BatchSize(), bundle.BatchTimeout()))
	if err != nil {
		c.log.Error("channel batch config is unusable; not cutting blocks", "err", err)
		return
	}
	l.bundle, l.cutter, l.tip, l.mem, l.lastConfig = bundle, cutter, headerOf(tip), mem, lc
	l.maxInflight = maxInflight(bundle)
	l.pending = map[[32]byte]bool{}
	l.ready = true
	c.log.Info("leading: cutting blocks", "term", l.term, "raft_id", l.n.Status().ID, "height", tip.Number+1)
	l.drainBacklog()
	l.maybeConfChange()
}

// reset abandons everything in progress; waiting submissions get err and
// retry elsewhere (or here, once the marker has been applied again).
func (l *leader) reset(err error) {
	l.epoch++
	l.term, l.ready, l.paused, l.markerInFlight = 0, false, false, false
	l.cutter, l.created, l.proposing = nil, nil, nil
	l.pending = map[[32]byte]bool{}
	l.timer.Stop()
	for _, r := range l.backlog {
		r.done <- err
	}
	l.backlog = nil
	l.c.failWaiters(err)
}

// maybeConfChange brings raft's voters in line with the consenters of the
// newest block, one change at a time.
func (l *leader) maybeConfChange() {
	if !l.ready || l.ccBusy {
		return
	}
	c := l.c
	st := l.n.Status()
	c.mu.Lock()
	target := slices.Clone(c.mem.ids)
	c.mu.Unlock()
	if sameIDs(st.Voters, target) {
		return
	}
	cc := &raftpb.ConfChange{}
	for _, id := range target {
		if !slices.Contains(st.Voters, id) {
			cc.Type, cc.NodeId = raftpb.ConfChangeAddNode.Enum(), new(id)
			break
		}
	}
	if cc.NodeId == nil {
		for _, id := range st.Voters {
			if !slices.Contains(target, id) {
				cc.Type, cc.NodeId = raftpb.ConfChangeRemoveNode.Enum(), new(id)
				break
			}
		}
	}
	l.ccBusy = true
	c.log.Info("changing raft membership", "type", cc.GetType().String(), "node", cc.GetNodeId(), "voters", st.Voters, "consenters", target)
	go func() {
		ctx, cancel := context.WithTimeout(c.ctx, max(2*time.Second, 4*l.electionTimeout))
		defer cancel()
		err := l.n.ProposeConfChange(ctx, cc)
		select {
		case l.ccc <- err:
		case <-c.ctx.Done():
		}
	}()
}

func maxInflight(b *channelconfig.Bundle) int {
	if n := b.EtcdRaftOptions().GetMaxInflightBlocks(); n > 0 {
		return int(n)
	}
	return channelconfig.DefaultMaxInflightBlocks
}
