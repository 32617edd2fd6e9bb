package chain

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"weft/channelconfig"
	"weft/orderer/blockcutter"
	"weft/orderer/raft"
	"weft/wire/common"
)

// maxEntryBytes bounds the blocks carried by one raft entry.
const maxEntryBytes = 32 << 20

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
	// Leadership is polled; a short period lets a new leader start
	// cutting soon after its election even with long raft ticks.
	ticker := time.NewTicker(min(l.tick, 50*time.Millisecond))
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
	// Take blocks in order up to maxEntryBytes (at least one), so a raft
	// entry stays well below the transport's message limit.
	var raws [][]byte
	size, take := 0, 0
	for _, cb := range l.created {
		raw, err := marshal(cb.block)
		if err != nil {
			l.reset(fmt.Errorf("%w: %v", errRetry, err))
			return
		}
		if take > 0 && size+len(raw) > maxEntryBytes {
			break
		}
		raws, size, take = append(raws, raw), size+len(raw), take+1
	}
	l.proposing = l.created[:take:take]
	l.created = slices.Clone(l.created[take:])
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
