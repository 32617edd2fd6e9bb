package chain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"weft/channelconfig"
	"weft/ledger/blockstore"
	"weft/msp"
	"weft/orderer/cluster"
	"weft/orderer/raft"
	"weft/wire/common"
)

var (
	// ErrNoLeader: no raft leader is known (election in progress).
	ErrNoLeader = errors.New("no raft leader")
	// ErrNotConsenter: this orderer follows the channel without being
	// one of its consenters, so it cannot order.
	ErrNotConsenter = errors.New("this orderer is not a consenter of the channel")
	// ErrHalted: the chain has stopped (Halt, removal or failure).
	ErrHalted = errors.New("chain halted")
	// ErrStaleConfig: a config update was built against an older config.
	ErrStaleConfig = errors.New("config sequence is stale")
	// ErrBadConfig: a config update the chain cannot apply (e.g. more
	// than one consenter changed).
	ErrBadConfig = errors.New("unacceptable config update")
)

// Consensus relations and chain states as the participation API names
// them.
const (
	RelationConsenter = "consenter"
	RelationFollower  = "follower"

	StatusActive     = "active"
	StatusOnboarding = "onboarding"
	StatusInactive   = "inactive"
	StatusFailed     = "failed"
)

// BlockPuller fetches blocks [from, to] of the channel from other
// orderers, in order, calling fn for each; it returns when fn has seen
// block `to`, fn fails or ctx ends.
type BlockPuller interface {
	Pull(ctx context.Context, from, to uint64, fn func(*common.Block) error) error
}

// Config configures a Chain.
type Config struct {
	Channel string
	WALDir  string
	Store   *blockstore.Store
	// Bundle is the config in force at the newest block of Store (or of
	// JoinBlock when the store is still behind it).
	Bundle *channelconfig.Bundle
	// Signer signs the blocks this node cuts as leader.
	Signer *msp.SigningIdentity
	// SelfClientTLSCert (PEM) identifies this node among the consenters.
	SelfClientTLSCert []byte
	// Comm is the orderer's cluster communication. The chain registers
	// itself as the channel's handler while it runs raft and unregisters
	// the channel when it halts.
	Comm *cluster.Comm
	// Transport overrides Comm for reaching the other consenters (tests);
	// nil means CommTransport(Comm).
	Transport Transport
	// Puller fetches blocks the store lacks: on joining, after a raft
	// snapshot, and continuously for a follower.
	Puller BlockPuller
	// JoinBlock, when set and beyond the store's height, is the block the
	// channel was joined with: blocks up to it are pulled first.
	JoinBlock *common.Block
	Logger    *slog.Logger
	Now       func() time.Time

	// SnapshotEvery is the number of raft entries between snapshots
	// (default 100); snapshots only record a block header, so they are
	// cheap, and they bound how much log a restart replays.
	SnapshotEvery uint64
	// DedupeWindow is how many recently ordered envelopes the leader
	// remembers to answer retried submissions (default 100000).
	DedupeWindow int
}

// Status describes the chain for the participation API and operators.
type Status struct {
	RaftID            uint64
	Leader            uint64
	IsLeader          bool
	Term              uint64
	Height            uint64
	ConsensusRelation string // "consenter" | "follower"
	Status            string // "active" | "onboarding" | "inactive" | "failed"
	Err               error  // why the chain failed, if it did
}

// Chain orders the envelopes of one channel with raft.
type Chain struct {
	cfg       Config
	log       *slog.Logger
	transport Transport
	store     *blockstore.Store

	mu         sync.Mutex
	bundle     *channelconfig.Bundle
	mem        membership // consenters as of the store's newest block
	lastConfig uint64     // index of the newest config block in the store
	tip        *common.BlockHeader
	recent     *recentHashes // header hashes of the newest blocks
	seen       *window       // envelope hashes of the newest blocks
	waiters    map[[32]byte][]chan error
	selfID     uint64
	relation   string
	state      string
	err        error
	node       *raft.Node
	registered bool // with cfg.Comm

	// vtip is the newest block according to the raft log; only the raft
	// goroutine (Apply, Restore, Snapshot) touches it.
	vtip *common.BlockHeader

	logTip *common.BlockHeader // copy of vtip for other goroutines, under mu

	reqc chan *request

	ctx      context.Context
	cancel   context.CancelFunc
	haltOnce sync.Once
	done     chan struct{}
	wg       sync.WaitGroup
}

// New checks cfg and loads the chain's state from its store; Start makes
// it run.
func New(cfg Config) (*Chain, error) {
	switch {
	case cfg.Channel == "":
		return nil, errors.New("chain: Channel is empty")
	case cfg.Store == nil:
		return nil, fmt.Errorf("chain %s: Store is nil", cfg.Channel)
	case cfg.Bundle == nil:
		return nil, fmt.Errorf("chain %s: Bundle is nil", cfg.Channel)
	case cfg.Bundle.ChannelID() != cfg.Channel:
		return nil, fmt.Errorf("chain %s: Bundle is for channel %q", cfg.Channel, cfg.Bundle.ChannelID())
	case cfg.Signer == nil:
		return nil, fmt.Errorf("chain %s: Signer is nil", cfg.Channel)
	case cfg.Transport == nil && cfg.Comm == nil:
		return nil, fmt.Errorf("chain %s: Comm and Transport are nil", cfg.Channel)
	case len(cfg.SelfClientTLSCert) == 0:
		return nil, fmt.Errorf("chain %s: SelfClientTLSCert is empty", cfg.Channel)
	}
	if cfg.Store.Height() == 0 && cfg.JoinBlock == nil {
		return nil, fmt.Errorf("chain %s: the store is empty and there is no JoinBlock", cfg.Channel)
	}
	if jn := cfg.JoinBlock.GetHeader().GetNumber(); cfg.Puller == nil && cfg.JoinBlock != nil && jn > 0 && cfg.Store.Height() <= jn {
		return nil, fmt.Errorf("chain %s: Puller is nil but blocks up to join block %d must be fetched", cfg.Channel, jn)
	}
	if cfg.Transport == nil {
		cfg.Transport = CommTransport(cfg.Comm)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SnapshotEvery == 0 {
		cfg.SnapshotEvery = 100
	}
	if cfg.DedupeWindow <= 0 {
		cfg.DedupeWindow = 100000
	}
	if cfg.Bundle.ConsensusType() != channelconfig.OrdererTypeEtcdRaft {
		return nil, fmt.Errorf("chain %s: consensus type %q, only %q is supported", cfg.Channel, cfg.Bundle.ConsensusType(), channelconfig.OrdererTypeEtcdRaft)
	}
	c := &Chain{
		cfg:       cfg,
		log:       cfg.Logger.With("channel", cfg.Channel),
		transport: cfg.Transport,
		store:     cfg.Store,
		bundle:    cfg.Bundle,
		recent:    newRecentHashes(4096),
		seen:      newWindow(cfg.DedupeWindow),
		waiters:   map[[32]byte][]chan error{},
		reqc:      make(chan *request, 1024),
		done:      make(chan struct{}),
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	if err := c.loadState(); err != nil {
		return nil, fmt.Errorf("chain %s: %w", cfg.Channel, err)
	}
	if c.selfID != 0 {
		c.log = c.log.With("raft_id", c.selfID)
	}
	return c, nil
}

// Start runs the chain: onboarding first when the store is behind the
// join block, then raft (consenter) or block pulling (follower).
func (c *Chain) Start() error {
	if c.cfg.JoinBlock != nil && c.store.Height() <= c.cfg.JoinBlock.GetHeader().GetNumber() {
		c.setState(StatusOnboarding)
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			if err := c.onboard(); err != nil {
				if c.ctx.Err() == nil {
					c.fail(fmt.Errorf("onboarding: %w", err))
				}
				return
			}
			c.setState(StatusActive)
			if err := c.activate(); err != nil {
				c.fail(err)
			}
		}()
		return nil
	}
	return c.activate()
}

// activate starts the role the chain has at its newest block.
func (c *Chain) activate() error {
	c.mu.Lock()
	self, mem := c.selfID, c.mem
	c.mu.Unlock()
	if self == 0 {
		c.log.Info("following the channel: not a consenter")
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.follow()
		}()
		return nil
	}
	c.transport.Configure(c.cfg.Channel, self, mem.members())
	if c.cfg.Comm != nil {
		c.mu.Lock()
		c.registered = true
		c.mu.Unlock()
		c.cfg.Comm.Register(c.cfg.Channel, c)
	}
	return c.startRaft()
}

// Halt stops the chain and waits for its goroutines. The store stays
// open; it belongs to the caller.
func (c *Chain) Halt() {
	c.halt(StatusInactive, nil)
	c.wg.Wait()
}

// Errored is closed once the chain has halted, for whatever reason.
func (c *Chain) Errored() <-chan struct{} { return c.done }

func (c *Chain) fail(err error) {
	c.log.Error("chain failed", "err", err)
	c.halt(StatusFailed, err)
}

// halt may be called from any goroutine except raft's (Stop waits for
// it); it does not wait for the chain's own goroutines.
func (c *Chain) halt(state string, err error) {
	c.haltOnce.Do(func() {
		c.mu.Lock()
		c.state, c.err = state, err
		n, registered := c.node, c.registered
		c.mu.Unlock()
		c.cancel()
		if registered {
			c.cfg.Comm.Unregister(c.cfg.Channel)
		}
		if n != nil {
			n.Stop()
		}
		c.failWaiters(ErrHalted)
		close(c.done)
	})
}

func (c *Chain) halted() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func (c *Chain) setState(s string) {
	c.mu.Lock()
	c.state = s
	c.mu.Unlock()
}

func (c *Chain) raftNode() *raft.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.node
}

// Bundle returns the config in force at the newest block.
func (c *Chain) Bundle() *channelconfig.Bundle {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bundle
}

// Status reports the chain's role and progress.
func (c *Chain) Status() Status {
	c.mu.Lock()
	s := Status{RaftID: c.selfID, ConsensusRelation: c.relation, Status: c.state, Err: c.err}
	n := c.node
	c.mu.Unlock()
	s.Height = c.store.Height()
	if n != nil && s.Status == StatusActive {
		rs := n.Status()
		s.Leader, s.IsLeader, s.Term = rs.Leader, rs.IsLeader, rs.Term
	}
	return s
}

func headerOf(h *common.BlockHeader) *common.BlockHeader {
	if h == nil {
		return nil
	}
	return &common.BlockHeader{Number: h.Number, PreviousHash: h.PreviousHash, DataHash: h.DataHash}
}
