package raft

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.etcd.io/raft/v3/raftpb"
)

// Transport carries raft messages to other members. Send is called from the
// node's single run goroutine, so it must not block: queue, and drop when a
// peer is slow or down (raft retransmits). Messages must be treated as
// read-only; their entries are shared with the node's log. After a MsgSnap
// has been delivered or has failed, call Node.ReportSnapshot; when a peer
// is unreachable, Node.ReportUnreachable.
type Transport interface {
	Send(msgs []*raftpb.Message)
}

// Committed is one committed proposal handed to Config.Apply.
type Committed struct {
	Index uint64 // raft log index; increases, but with gaps
	Term  uint64
	Data  []byte // exactly what was passed to Propose
}

// Config configures a Node. Zero durations and sizes take the defaults
// noted on each field.
type Config struct {
	ID uint64 // this member's raft id; non-zero
	// Peers are the initial voters of a new group, including ID. They are
	// used only when Dir holds no state yet; a member that joins an
	// existing group (after a ConfChange added it) starts with no Peers.
	Peers []uint64
	Dir   string // holds wal/ and snap/

	TickInterval    time.Duration // default 100ms
	ElectionTick    int           // ticks; default 10, must exceed HeartbeatTick
	HeartbeatTick   int           // ticks; default 1
	MaxInflightMsgs int           // default 256
	MaxSizePerMsg   uint64        // bytes of entries per append message; default 1 MiB
	// SnapshotEvery takes a snapshot (and compacts the log) after this
	// many applied entries; 0 never snapshots locally.
	SnapshotEvery  uint64
	WALSegmentSize int64 // default 64 MiB

	// AppliedIndex is the index of the last entry the application has
	// already applied, as recorded by the application itself (for the
	// orderer: the raft index stored with the newest block). On start,
	// committed normal entries with index <= AppliedIndex are not passed to
	// Apply again. If the newest snapshot is above it, Restore is called
	// with that snapshot first.
	AppliedIndex uint64

	Transport Transport
	// Apply is called for every committed proposal, in log order, from the
	// run goroutine; Propose returns only after Apply for its entry has
	// returned. An error stops the node (Err reports it).
	Apply func(Committed) error
	// Snapshot returns the application's state as of the last Apply; it
	// is stored in the raft snapshot and handed to lagging members'
	// Restore. Required when SnapshotEvery > 0.
	Snapshot func() ([]byte, error)
	// Restore replaces the application's state with a snapshot from
	// Snapshot (possibly taken on another member). Required.
	Restore func([]byte) error
	Logger  *slog.Logger // default: discard
}

func (c *Config) withDefaults() (Config, error) {
	o := *c
	if o.ID == 0 {
		return o, errors.New("config: ID must be non-zero")
	}
	if o.Dir == "" {
		return o, errors.New("config: Dir is empty")
	}
	if o.Transport == nil {
		return o, errors.New("config: Transport is nil")
	}
	if o.Apply == nil || o.Restore == nil {
		return o, errors.New("config: Apply and Restore are required")
	}
	if o.Snapshot == nil && o.SnapshotEvery > 0 {
		return o, errors.New("config: Snapshot is required when SnapshotEvery > 0")
	}
	seen := map[uint64]bool{}
	for _, p := range o.Peers {
		if p == 0 || seen[p] {
			return o, fmt.Errorf("config: Peers: id %d is zero or repeated", p)
		}
		seen[p] = true
	}
	if len(o.Peers) > 0 && !seen[o.ID] {
		return o, fmt.Errorf("config: Peers %v do not include ID %d", o.Peers, o.ID)
	}
	if o.TickInterval < 0 || o.ElectionTick < 0 || o.HeartbeatTick < 0 || o.MaxInflightMsgs < 0 || o.WALSegmentSize < 0 {
		return o, errors.New("config: TickInterval, ElectionTick, HeartbeatTick, MaxInflightMsgs and WALSegmentSize must not be negative")
	}
	if o.TickInterval == 0 {
		o.TickInterval = 100 * time.Millisecond
	}
	if o.HeartbeatTick == 0 {
		o.HeartbeatTick = 1
	}
	if o.ElectionTick == 0 {
		o.ElectionTick = 10
	}
	if o.ElectionTick <= o.HeartbeatTick {
		return o, fmt.Errorf("config: ElectionTick %d must exceed HeartbeatTick %d", o.ElectionTick, o.HeartbeatTick)
	}
	if o.MaxInflightMsgs == 0 {
		o.MaxInflightMsgs = 256
	}
	if o.MaxSizePerMsg == 0 {
		o.MaxSizePerMsg = 1 << 20
	}
	if o.WALSegmentSize == 0 {
		o.WALSegmentSize = defaultSegmentSize
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Logger = o.Logger.With("raft_id", o.ID)
	return o, nil
}
