package raft

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

var (
	// ErrStopped is returned by calls on a node that has been stopped.
	ErrStopped = errors.New("raft node stopped")
	// ErrProposalDropped means raft refused the proposal, typically
	// because no leader is known right now; retrying later may succeed.
	ErrProposalDropped = raft.ErrProposalDropped
)

// Status is a snapshot of a node's view of the group.
type Status struct {
	ID       uint64
	Leader   uint64 // 0 when unknown
	Term     uint64
	Commit   uint64
	Applied  uint64 // last log index processed by this node
	IsLeader bool
	Voters   []uint64
}

// Node runs one raft group member: a single goroutine owns the
// raft.RawNode and does all disk I/O, message sending and applying, in the
// order raft requires. Its methods are safe for concurrent use.
type Node struct {
	cfg   Config
	rn    *raft.RawNode
	ms    *raft.MemoryStorage
	disk  *diskStorage
	nonce uint64
	seq   atomic.Uint64

	propc chan proposal
	recvc chan *raftpb.Message
	ctlc  chan func()
	stopc chan struct{}
	done  chan struct{}

	stopOnce sync.Once
	mu       sync.Mutex
	waiters  map[uint64]chan error
	closed   bool
	err      error // why the run loop ended abnormally; set before done closes

	status atomic.Pointer[Status]

	// Owned by the run goroutine.
	applied     uint64
	snapIndex   uint64
	skipThrough uint64
	confState   *raftpb.ConfState
	placed      map[uint64][]uint64 // log index -> seqs of own proposals seen there
}

type proposal struct {
	seq  uint64
	data []byte             // wrapped normal entry
	cc   *raftpb.ConfChange // or a conf change with a wrapped Context
}

// Start opens (or creates) the member's storage under cfg.Dir, restores
// its state and starts the run goroutine.
func Start(cfg Config) (*Node, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	disk, rec, err := openDiskStorage(c.Dir, c.WALSegmentSize)
	if err != nil {
		return nil, fmt.Errorf("raft node %d: %w", c.ID, err)
	}
	n, err := newNode(c, disk, rec)
	if err != nil {
		disk.close()
		return nil, fmt.Errorf("raft node %d: %w", c.ID, err)
	}
	go n.run()
	return n, nil
}

func newNode(c Config, disk *diskStorage, rec *recovered) (n *Node, err error) {
	if last := rec.lastIndex(); c.AppliedIndex > last {
		return nil, fmt.Errorf("AppliedIndex %d is beyond the last log index %d on disk: the wal is behind the application", c.AppliedIndex, last)
	}
	ms, err := rec.load()
	if err != nil {
		return nil, err
	}
	var nb [8]byte
	if _, err := rand.Read(nb[:]); err != nil {
		return nil, fmt.Errorf("proposal nonce: %w", err)
	}
	n = &Node{
		cfg: c, ms: ms, disk: disk, nonce: binary.BigEndian.Uint64(nb[:]),
		propc: make(chan proposal, 1024), recvc: make(chan *raftpb.Message, 4096),
		ctlc: make(chan func()), stopc: make(chan struct{}), done: make(chan struct{}),
		waiters:     map[uint64]chan error{},
		skipThrough: c.AppliedIndex,
		confState:   raftpb.EnsureConfState(nil),
		placed:      map[uint64][]uint64{},
	}
	if rec.snap != nil {
		md := rec.snap.GetMetadata()
		n.applied, n.snapIndex, n.confState = md.GetIndex(), md.GetIndex(), md.GetConfState()
		if md.GetIndex() > c.AppliedIndex {
			if err := c.Restore(rec.snap.GetData()); err != nil {
				return nil, fmt.Errorf("restore snapshot %d: %w", md.GetIndex(), err)
			}
		}
	}
	// raft panics on configurations and states it cannot work with;
	// report those as errors instead.
	defer func() {
		if r := recover(); r != nil {
			n, err = nil, fmt.Errorf("raft init: %v", r)
		}
	}()
	rn, err := raft.NewRawNode(&raft.Config{
		ID:                c.ID,
		ElectionTick:      c.ElectionTick,
		HeartbeatTick:     c.HeartbeatTick,
		Storage:           ms,
		MaxSizePerMsg:     c.MaxSizePerMsg,
		MaxInflightMsgs:   c.MaxInflightMsgs,
		CheckQuorum:       true, // a partitioned leader steps down
		PreVote:           true, // a rejoining member does not disrupt the leader
		StepDownOnRemoval: true,
		Logger:            slogRaft{c.Logger},
	})
	if err != nil {
		return nil, err
	}
	if rec.empty() && len(c.Peers) > 0 {
		peers := make([]raft.Peer, len(c.Peers))
		for i, id := range c.Peers {
			peers[i] = raft.Peer{ID: id}
		}
		if err := rn.Bootstrap(peers); err != nil {
			return nil, fmt.Errorf("bootstrap: %w", err)
		}
	}
	n.rn = rn
	n.publishStatus()
	return n, nil
}

// Propose submits data and waits until it is committed and applied on this
// node. Proposals made on a follower are forwarded to the leader by raft.
// ErrProposalDropped is returned when raft refuses it (no known leader), or
// as soon as a different entry commits at the index the proposal had been
// given (a leader change replaced it); in both cases it never commits. A
// proposal forwarded by a follower can also vanish with a failing leader
// before reaching any log; then only ctx ends the wait and the outcome is
// unknown, so callers that retry after a deadline must tolerate
// duplicates. Proposing on the leader (Status().IsLeader) avoids that case.
func (n *Node) Propose(ctx context.Context, data []byte) error {
	seq, ch, err := n.register()
	if err != nil {
		return err
	}
	k := proposalKey{proposer: n.cfg.ID, nonce: n.nonce, seq: seq}
	return n.submit(ctx, proposal{seq: seq, data: wrapProposal(k, data)}, ch)
}

// ProposeConfChange proposes a membership change (add or remove a voter)
// and waits until this node has applied it. raft accepts one pending
// change at a time; a change proposed while another is in flight is turned
// into an empty entry by the leader and never applies, so ctx should carry
// a deadline. cc is not modified.
func (n *Node) ProposeConfChange(ctx context.Context, cc *raftpb.ConfChange) error {
	if cc == nil || cc.GetNodeId() == 0 {
		return errors.New("conf change: missing node id")
	}
	seq, ch, err := n.register()
	if err != nil {
		return err
	}
	k := proposalKey{proposer: n.cfg.ID, nonce: n.nonce, seq: seq}
	c := &raftpb.ConfChange{Type: cc.Type, NodeId: cc.NodeId, Context: wrapProposal(k, cc.GetContext())}
	return n.submit(ctx, proposal{seq: seq, cc: c}, ch)
}

func (n *Node) register() (uint64, chan error, error) {
	seq := n.seq.Add(1)
	ch := make(chan error, 1)
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		// n.err was set before closed, under mu.
		if n.err != nil {
			return 0, nil, fmt.Errorf("%w: %w", ErrStopped, n.err)
		}
		return 0, nil, ErrStopped
	}
	n.waiters[seq] = ch
	return seq, ch, nil
}

func (n *Node) submit(ctx context.Context, p proposal, ch chan error) error {
	select {
	case n.propc <- p:
	case <-ctx.Done():
		n.forget(p.seq)
		return fmt.Errorf("propose: %w", ctx.Err())
	case <-n.done:
		return n.stoppedErr()
	}
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		n.forget(p.seq)
		return fmt.Errorf("propose: waiting for commit: %w", ctx.Err())
	case <-n.done:
		select {
		case err := <-ch:
			return err
		default:
			return n.stoppedErr()
		}
	}
}

// resolve hands err to the waiter for seq, if it is still waiting.
func (n *Node) resolve(seq uint64, err error) {
	n.mu.Lock()
	ch, ok := n.waiters[seq]
	delete(n.waiters, seq)
	n.mu.Unlock()
	if ok {
		ch <- err
	}
}

func (n *Node) forget(seq uint64) {
	n.mu.Lock()
	delete(n.waiters, seq)
	n.mu.Unlock()
}

// Step delivers a message received from another member.
func (n *Node) Step(ctx context.Context, m *raftpb.Message) error {
	switch {
	case m == nil:
		return errors.New("step: nil message")
	case m.GetTo() != n.cfg.ID:
		return fmt.Errorf("step: message for %d delivered to %d", m.GetTo(), n.cfg.ID)
	case raft.IsLocalMsg(m.GetType()):
		return fmt.Errorf("step: local message type %v from the network", m.GetType())
	}
	select {
	case n.recvc <- m:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("step: %w", ctx.Err())
	case <-n.done:
		return n.stoppedErr()
	}
}

// ReportUnreachable tells raft that the last messages to id were lost.
func (n *Node) ReportUnreachable(id uint64) { n.control(func() { n.rn.ReportUnreachable(id) }) }

// ReportSnapshot tells raft whether a snapshot sent to id arrived.
func (n *Node) ReportSnapshot(id uint64, ok bool) {
	st := raft.SnapshotFinish
	if !ok {
		st = raft.SnapshotFailure
	}
	n.control(func() { n.rn.ReportSnapshot(id, st) })
}

func (n *Node) control(f func()) {
	select {
	case n.ctlc <- f:
	case <-n.done:
	}
}

// Status returns the node's latest view of the group.
func (n *Node) Status() Status {
	s := *n.status.Load()
	s.Voters = append([]uint64(nil), s.Voters...)
	return s
}

// Stop ends the run goroutine and closes the storage. Pending proposals
// fail with ErrStopped.
func (n *Node) Stop() {
	n.stopOnce.Do(func() { close(n.stopc) })
	<-n.done
}

// Done is closed when the node has stopped, by Stop or by a failure.
func (n *Node) Done() <-chan struct{} { return n.done }

// Err reports why the node stopped on its own (storage, Apply or raft
// failure); nil while running or after a plain Stop.
func (n *Node) Err() error {
	select {
	case <-n.done:
		return n.err
	default:
		return nil
	}
}

func (n *Node) stoppedErr() error {
	if err := n.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrStopped, err)
	}
	return ErrStopped
}
