package chain

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"weft/channelconfig"
	"weft/orderer/blockcutter"
	"weft/orderer/raft"
	"weft/wire/common"
)

// errRetry marks failures after which a submission may simply be tried
// again, at whichever node leads by then.
var errRetry = errors.New("retry")

// request is one envelope handed to the leader loop.
type request struct {
	env    *common.Envelope
	raw    []byte
	hash   [32]byte
	config bool
	done   chan error // buffered; gets exactly one verdict
}

type cutBlock struct {
	block  *common.Block
	config bool
}

type proposeResult struct {
	epoch uint64
	err   error
}

type markerResult struct {
	epoch, term uint64
	err         error
}

// leader is the state of the loop that, while this node leads, cuts and
// signs blocks and proposes them. Everything here is owned by run's
// goroutine.
//
// Safety rests on three rules. A new leader first gets an entry of its own
// term committed and applied (the marker), so every earlier entry has been
// applied and the store tip is the chain tip before it cuts anything. At
// most one proposal is in flight, and it carries all blocks cut since the
// previous one in order, so raft sees blocks in the order they were
// created (concurrent Propose calls would race into raft's queue). Any
// failure resets the loop: callers are told to retry and the dedupe window
// answers those whose envelopes did get committed.
type leader struct {
	c               *Chain
	n               *raft.Node
	tick            time.Duration
	electionTimeout time.Duration

	term           uint64 // term we lead in; 0 while not leading
	epoch          uint64 // bumped by reset; stale async results are ignored
	markerInFlight bool
	ready          bool
	paused         bool // a config block is on its way; cut nothing until applied
	ccBusy         bool

	bundle      *channelconfig.Bundle
	cutter      *blockcutter.Cutter
	tip         *common.BlockHeader // newest block created
	lastConfig  uint64
	mem         membership
	maxInflight int
	pending     map[[32]byte]bool // in the cutter or in created/proposing blocks
	created     []cutBlock
	proposing   []cutBlock
	backlog     []*request

	timer     *time.Timer
	proposedc chan proposeResult
	markerc   chan markerResult
	ccc       chan error
}

func (l *leader) run() {
	c := l.c
	ticker := time.NewTicker(l.tick)
	defer ticker.Stop()
	l.timer = time.NewTimer(time.Hour)
	l.timer.Stop()
	for {
		select {
		case <-c.ctx.Done():
			l.reset(ErrHalted)
			return
		case r := <-c.reqc:
			l.handle(r)
		case <-ticker.C:
			l.checkRole()
		case res := <-l.markerc:
			l.onMarker(res)
		case res := <-l.proposedc:
			l.onProposed(res)
		case <-l.timer.C:
			l.onTimeout()
		case err := <-l.ccc:
			l.ccBusy = false
			if err != nil {
				c.log.Warn("raft membership change failed; will retry", "err", err)
			}
		}
	}
}

func (l *leader) inflight() int { return len(l.created) + len(l.proposing) }

func (l *leader) handle(r *request) {
	switch {
	case l.term == 0:
		r.done <- fmt.Errorf("%w: this node is not the raft leader", errRetry)
	case !l.ready || l.paused || l.inflight() >= l.maxInflight:
		l.backlog = append(l.backlog, r)
	default:
		l.accept(r)
	}
}

func (l *leader) accept(r *request) {
	c := l.c
	c.mu.Lock()
	seen := c.seen.has(r.hash)
	if !seen && l.pending[r.hash] {
		c.addWaiter(r.hash, r.done)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	if seen {
		r.done <- nil // already in a committed block
		return
	}
	var next membership
	if r.config {
		var err error
		if next, _, err = checkConfigEnvelope(l.bundle, l.mem, r.env); err != nil {
			r.done <- err
			return
		}
	}
	c.mu.Lock()
	if c.seen.has(r.hash) {
		c.mu.Unlock()
		r.done <- nil
		return
	}
	c.addWaiter(r.hash, r.done)
	c.mu.Unlock()
	l.pending[r.hash] = true

	if r.config {
		batches := l.cutter.Isolated(r.raw)
		for i, b := range batches {
			if !l.create(b, i == len(batches)-1, next) {
				return
			}
		}
		l.paused = true
		c.log.Info("config transaction cut", "block", l.tip.Number)
	} else {
		batches, _ := l.cutter.Ordered(r.raw, c.cfg.Now())
		for _, b := range batches {
			if !l.create(b, false, membership{}) {
				return
			}
		}
	}
	l.armTimer()
	l.maybePropose()
}

// create cuts the next block on top of the last one created.
func (l *leader) create(batch [][]byte, config bool, next membership) bool {
	number := l.tip.Number + 1
	lc, mem := l.lastConfig, l.mem
	if config {
		lc, mem = number, next
	}
	b, err := newSignedBlock(l.tip, batch, lc, mem, l.c.cfg.Signer)
	if err != nil {
		l.c.log.Error("cannot create block", "block", number, "err", err)
		l.reset(fmt.Errorf("%w: create block %d: %v", errRetry, number, err))
		return false
	}
	l.tip, l.lastConfig, l.mem = headerOf(b.Header), lc, mem
	l.created = append(l.created, cutBlock{block: b, config: config})
	return true
}

func (l *leader) maybePropose() {
	if len(l.proposing) > 0 || len(l.created) == 0 {
		return
	}
	l.proposing, l.created = l.created, nil
	raws := make([][]byte, len(l.proposing))
	for i, cb := range l.proposing {
		raw, err := marshal(cb.block)
		if err != nil {
			l.reset(fmt.Errorf("%w: %v", errRetry, err))
			return
		}
		raws[i] = raw
	}
	data, epoch, c := encodeEntry(raws), l.epoch, l.c
	c.log.Debug("proposing blocks", "first", l.proposing[0].block.Header.Number, "count", len(raws))
	go func() {
		err := l.n.Propose(c.ctx, data)
		select {
		case l.proposedc <- proposeResult{epoch: epoch, err: err}:
		case <-c.ctx.Done():
		}
	}()
}

func (l *leader) onProposed(res proposeResult) {
	if res.epoch != l.epoch {
		return
	}
	c := l.c
	blocks := l.proposing
	l.proposing = nil
	if res.err != nil {
		c.log.Warn("block proposal failed", "first", blocks[0].block.Header.Number, "err", res.err)
		l.reset(fmt.Errorf("%w: block proposal failed: %v", errRetry, res.err))
		return
	}
	// Propose returned after applying; check that our blocks are the ones
	// that got stored (a forwarded entry from a deposed leader can win).
	config := false
	c.mu.Lock()
	for _, cb := range blocks {
		if !c.recent.matches(cb.block.Header.Number, channelconfig.BlockHeaderHash(cb.block.Header)) {
			c.mu.Unlock()
			c.log.Warn("proposed block was superseded", "block", cb.block.Header.Number)
			l.reset(fmt.Errorf("%w: block %d was superseded", errRetry, cb.block.Header.Number))
			return
		}
		config = config || cb.config
	}
	c.mu.Unlock()
	// Committed envelopes are in the dedupe window now.
	for _, cb := range blocks {
		for _, d := range cb.block.Data.Data {
			delete(l.pending, envHash(d))
		}
	}
	if config {
		l.afterConfig()
	}
	l.drainBacklog()
	l.maybePropose()
	l.maybeConfChange()
}

// afterConfig switches the cutter to the config just applied.
func (l *leader) afterConfig() {
	c := l.c
	c.mu.Lock()
	bundle, mem := c.bundle, c.mem
	c.mu.Unlock()
	if !slices.Equal(mem.ids, l.mem.ids) || mem.next != l.mem.next {
		l.reset(fmt.Errorf("%w: membership after config differs from the one proposed", errRetry))
		return
	}
	bc := blockcutter.ConfigFromBatchSize(bundle.BatchSize(), bundle.BatchTimeout())
	if _, err := l.cutter.Reconfigure(bc); err != nil {
		c.log.Error("config block carries a batch config the cutter refuses", "err", err)
		l.reset(fmt.Errorf("%w: %v", errRetry, err))
		return
	}
	l.bundle, l.paused = bundle, false
	l.maxInflight = maxInflight(bundle)
}

func (l *leader) drainBacklog() {
	for len(l.backlog) > 0 && l.ready && !l.paused && l.inflight() < l.maxInflight {
		r := l.backlog[0]
		l.backlog[0] = nil
		l.backlog = l.backlog[1:]
		l.accept(r)
	}
}

func (l *leader) onTimeout() {
	if !l.ready || l.paused {
		return
	}
	if batch := l.cutter.Timeout(l.c.cfg.Now()); batch != nil {
		if !l.create(batch, false, membership{}) {
			return
		}
		l.maybePropose()
	}
	l.armTimer()
}

func (l *leader) armTimer() {
	l.timer.Stop()
	if l.cutter == nil {
		return
	}
	if d, ok := l.cutter.Deadline(); ok {
		l.timer.Reset(max(d.Sub(l.c.cfg.Now()), time.Millisecond))
	}
}

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
