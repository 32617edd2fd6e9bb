package raft

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// maxDrain bounds how many queued proposals and messages are fed to raft
// before the next Ready, so that one fsync covers many proposals.
const maxDrain = 512

func (n *Node) run() {
	var err error
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("raft node %d: internal error: %v", n.cfg.ID, r)
		}
		n.shutdown(err)
	}()
	err = n.loop()
}

func (n *Node) loop() error {
	ticker := time.NewTicker(n.cfg.TickInterval)
	defer ticker.Stop()
	for {
		select {
		case <-n.stopc:
			return nil
		case <-ticker.C:
			n.rn.Tick()
		case p := <-n.propc:
			n.propose(p)
		case m := <-n.recvc:
			n.step(m)
		case f := <-n.ctlc:
			f()
		}
		n.drain()
		if n.rn.HasReady() {
			if err := n.handleReady(); err != nil {
				return fmt.Errorf("raft node %d: %w", n.cfg.ID, err)
			}
		}
		n.publishStatus()
	}
}

func (n *Node) drain() {
	for i := 0; i < maxDrain; i++ {
		select {
		case p := <-n.propc:
			n.propose(p)
		case m := <-n.recvc:
			n.step(m)
		default:
			return
		}
	}
}

func (n *Node) propose(p proposal) {
	var err error
	if p.cc != nil {
		err = n.rn.ProposeConfChange(p.cc)
	} else {
		err = n.rn.Propose(p.data)
	}
	if err != nil {
		n.resolve(p.seq, fmt.Errorf("propose: %w", err))
	}
}

func (n *Node) step(m *raftpb.Message) {
	if err := n.rn.Step(m); err != nil {
		// Late responses from removed members and the like; raft
		// recovers by itself.
		n.cfg.Logger.Debug("step dropped", "type", m.GetType().String(), "from", m.GetFrom(), "err", err)
	}
}

// handleReady follows raft's contract: persist HardState, entries and any
// snapshot (fsync when raft says so) before sending messages, then apply.
func (n *Node) handleReady() error {
	rd := n.rn.Ready()
	snap := rd.Snapshot
	hasSnap := !raft.IsEmptySnap(snap)
	if err := n.disk.saveReady(rd.HardState, snap, rd.Entries, rd.MustSync); err != nil {
		return err
	}
	if hasSnap {
		if err := n.ms.ApplySnapshot(snap); err != nil {
			return fmt.Errorf("snapshot %d: %w", snap.GetMetadata().GetIndex(), err)
		}
	}
	if !raft.IsEmptyHardState(rd.HardState) {
		if err := n.ms.SetHardState(rd.HardState); err != nil {
			return fmt.Errorf("hard state: %w", err)
		}
	}
	if err := n.ms.Append(rd.Entries); err != nil {
		return fmt.Errorf("append entries: %w", err)
	}
	if len(rd.Messages) > 0 {
		n.cfg.Transport.Send(rd.Messages)
	}
	n.place(rd.Entries)
	if hasSnap {
		md := snap.GetMetadata()
		if err := n.cfg.Restore(snap.GetData()); err != nil {
			return fmt.Errorf("restore snapshot %d: %w", md.GetIndex(), err)
		}
		n.applied, n.snapIndex, n.confState = md.GetIndex(), md.GetIndex(), md.GetConfState()
		for i := range n.placed {
			if i <= md.GetIndex() {
				delete(n.placed, i)
			}
		}
	}
	for _, e := range rd.CommittedEntries {
		if err := n.applyEntry(e); err != nil {
			return err
		}
	}
	n.rn.Advance(rd)
	return n.maybeSnapshot()
}

// place notes where this node's own proposals landed in its log. An entry
// never moves to another index, so once a different entry commits at that
// index the proposal is lost for good and its caller can be told at once
// instead of waiting for its deadline. (Being overwritten in the local log
// alone proves nothing: another member may still hold it and win.)
func (n *Node) place(ents []*raftpb.Entry) {
	for _, e := range ents {
		if k, ok := n.ownKey(e); ok && !slices.Contains(n.placed[e.GetIndex()], k.seq) {
			n.placed[e.GetIndex()] = append(n.placed[e.GetIndex()], k.seq)
		}
	}
}

// ownKey returns the envelope key of e if this node instance proposed it.
func (n *Node) ownKey(e *raftpb.Entry) (proposalKey, bool) {
	var b []byte
	switch e.GetType() {
	case raftpb.EntryNormal:
		b = e.GetData()
	case raftpb.EntryConfChange:
		c := &raftpb.ConfChange{}
		if proto.Unmarshal(e.GetData(), c) != nil {
			return proposalKey{}, false
		}
		b = c.GetContext()
	default:
		return proposalKey{}, false
	}
	k, _, err := unwrapProposal(b)
	if err != nil || k.proposer != n.cfg.ID || k.nonce != n.nonce {
		return proposalKey{}, false
	}
	return k, true
}

func (n *Node) applyEntry(e *raftpb.Entry) error {
	idx := e.GetIndex()
	if seqs, ok := n.placed[idx]; ok {
		delete(n.placed, idx)
		k, own := n.ownKey(e)
		for _, seq := range seqs {
			if !own || k.seq != seq {
				n.resolve(seq, ErrProposalDropped)
			}
		}
	}
	switch e.GetType() {
	case raftpb.EntryNormal:
		// Empty entries are raft's own (a new leader's first entry, or
		// a conf change the leader refused).
		if len(e.GetData()) == 0 {
			break
		}
		k, payload, err := unwrapProposal(e.GetData())
		if err != nil {
			return fmt.Errorf("entry %d: %w", idx, err)
		}
		if idx > n.skipThrough {
			if err := n.cfg.Apply(Committed{Index: idx, Term: e.GetTerm(), Data: payload}); err != nil {
				return fmt.Errorf("apply entry %d: %w", idx, err)
			}
		}
		n.resolveOwn(k, nil)
	case raftpb.EntryConfChange, raftpb.EntryConfChangeV2:
		var cc raftpb.ConfChangeI
		var ctx []byte
		if e.GetType() == raftpb.EntryConfChange {
			c := &raftpb.ConfChange{}
			if err := proto.Unmarshal(e.GetData(), c); err != nil {
				return fmt.Errorf("entry %d: conf change: %w", idx, err)
			}
			cc, ctx = c, c.GetContext()
		} else {
			c := &raftpb.ConfChangeV2{}
			if err := proto.Unmarshal(e.GetData(), c); err != nil {
				return fmt.Errorf("entry %d: conf change v2: %w", idx, err)
			}
			cc, ctx = c, c.GetContext()
		}
		n.confState = n.rn.ApplyConfChange(cc)
		n.cfg.Logger.Info("membership changed", "index", idx, "voters", n.confState.GetVoters())
		// Bootstrap entries carry no envelope and wake nobody.
		if k, _, err := unwrapProposal(ctx); err == nil {
			n.resolveOwn(k, nil)
		}
	default:
		return fmt.Errorf("entry %d: unknown type %v", idx, e.GetType())
	}
	n.applied = idx
	return nil
}

func (n *Node) resolveOwn(k proposalKey, err error) {
	if k.proposer == n.cfg.ID && k.nonce == n.nonce {
		n.resolve(k.seq, err)
	}
}

// maybeSnapshot snapshots the application after SnapshotEvery entries and
// compacts the in-memory log and the WAL up to it. Members that fall
// behind the compaction point are caught up with the snapshot.
func (n *Node) maybeSnapshot() error {
	every := n.cfg.SnapshotEvery
	if every == 0 || n.applied-n.snapIndex < every {
		return nil
	}
	data, err := n.cfg.Snapshot()
	if err != nil {
		return fmt.Errorf("snapshot at %d: %w", n.applied, err)
	}
	snap, err := n.ms.CreateSnapshot(n.applied, n.confState, data)
	if err != nil {
		return fmt.Errorf("snapshot at %d: %w", n.applied, err)
	}
	if err := n.disk.saveSnapshot(snap); err != nil {
		return err
	}
	if err := n.ms.Compact(n.applied); err != nil && !errors.Is(err, raft.ErrCompacted) {
		return fmt.Errorf("compact to %d: %w", n.applied, err)
	}
	n.snapIndex = n.applied
	return nil
}

func (n *Node) publishStatus() {
	bs := n.rn.BasicStatus()
	s := &Status{
		ID:       n.cfg.ID,
		Leader:   bs.Lead,
		Term:     bs.HardState.GetTerm(),
		Commit:   bs.HardState.GetCommit(),
		Applied:  n.applied,
		IsLeader: bs.RaftState == raft.StateLeader,
		Voters:   slices.Sorted(slices.Values(n.confState.GetVoters())),
	}
	if old := n.status.Load(); old != nil && old.Leader == s.Leader && old.Term == s.Term &&
		old.Commit == s.Commit && old.Applied == s.Applied && old.IsLeader == s.IsLeader &&
		slices.Equal(old.Voters, s.Voters) {
		return
	}
	n.status.Store(s)
}

func (n *Node) shutdown(err error) {
	if cerr := n.disk.close(); cerr != nil && err == nil {
		err = fmt.Errorf("raft node %d: close wal: %w", n.cfg.ID, cerr)
	}
	n.mu.Lock()
	n.err = err
	n.closed = true
	waiters := n.waiters
	n.waiters = nil
	n.mu.Unlock()
	fail := ErrStopped
	if err != nil {
		n.cfg.Logger.Error("raft node failed", "err", err)
		fail = fmt.Errorf("%w: %w", ErrStopped, err)
	}
	for _, ch := range waiters {
		ch <- fail
	}
	close(n.done)
}
