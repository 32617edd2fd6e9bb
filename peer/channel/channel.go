package channel

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/ledger/blockstore"
	"weft/ledger/statedb"
	"weft/msp"
	"weft/peer/validator"
	"weft/wire/common"
	"weft/wire/peer"
)

// Names of the ledger parts inside a channel directory.
const (
	BlocksDir   = "blocks"
	StateDBFile = "state.db"
)

// Deps are what a channel needs from the peer around it.
type Deps struct {
	// Signer is the peer's identity; it signs the deliver requests sent to
	// the orderers, so it must satisfy the orderers' /Channel/Readers.
	Signer *msp.SigningIdentity
	// TLSCertPEM and TLSKeyPEM are the peer's TLS client identity,
	// presented to the orderers.
	TLSCertPEM, TLSKeyPEM []byte
	Logger                *slog.Logger
	// PolicyChecker returns the endorsement policy checker for validating a
	// block against state and bundle.
	PolicyChecker func(state *statedb.DB, bundle *channelconfig.Bundle) validator.PolicyChecker
	// OwnSignatures, if set, are the peer's own endorsement signatures,
	// which validation then need not verify.
	OwnSignatures *validator.OwnSignatures

	// PlaintextOrderers dials the orderers without TLS (TLS-disabled
	// networks and tests only).
	PlaintextOrderers bool
	// RetryMin and RetryMax bound the pause before the committer tries the
	// next orderer after a failure (defaults 200ms and 10s).
	RetryMin, RetryMax time.Duration
	// DialTimeout bounds connecting to one orderer (default 5s).
	DialTimeout time.Duration
	// StoreOptions tunes the block store (zero value: fsync every append).
	StoreOptions blockstore.Options
}

// Channel is one joined channel of the peer.
type Channel struct {
	id     string
	dir    string
	deps   Deps
	log    *slog.Logger
	store  *blockstore.Store
	state  *statedb.DB
	bundle atomic.Pointer[channelconfig.Bundle]

	// commitMu serialises block commits (the committer and tests).
	commitMu sync.Mutex

	// mu guards committed and commitCh. committed is the number of blocks
	// whose state is committed too; commitCh is closed and replaced at every
	// commit so that waiters wake up.
	mu        sync.Mutex
	committed uint64
	commitCh  chan struct{}
	closed    bool

	// recent holds the transaction filters of the latest committed blocks
	// for WaitForTx.
	recent recentFilters

	runMu   sync.Mutex
	stop    func()
	stopped chan struct{}
}

// Join creates the ledger of a new channel in dir from its genesis (config)
// block and returns the channel, committer not yet started.
func Join(dir string, genesis *common.Block, deps Deps) (*Channel, error) {
	if dir == "" {
		return nil, errors.New("join channel: dir: empty")
	}
	if genesis.GetHeader() == nil || genesis.GetData() == nil {
		return nil, errors.New("join channel: genesis block: missing header or data")
	}
	if n := genesis.GetHeader().GetNumber(); n != 0 {
		return nil, fmt.Errorf("join channel: genesis block: number is %d, only joining from block 0 is supported", n)
	}
	if err := checkDataHash(genesis); err != nil {
		return nil, fmt.Errorf("join channel: genesis block: %w", err)
	}
	cfgEnv, chID, err := channelconfig.ConfigFromBlock(genesis)
	if err != nil {
		return nil, fmt.Errorf("join channel: genesis block: %w", err)
	}
	if err := channelconfig.ValidateChannelID(chID); err != nil {
		return nil, fmt.Errorf("join channel: genesis block: channel id: %w", err)
	}
	bundle, err := channelconfig.NewBundle(chID, cfgEnv.GetConfig())
	if err != nil {
		return nil, fmt.Errorf("join channel %q: genesis config: %w", chID, err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("join channel %q: dir: %w", chID, err)
	}
	if _, err := os.Stat(filepath.Join(dir, StateDBFile)); err == nil {
		return nil, fmt.Errorf("join channel %q: dir %s: already holds a ledger", chID, dir)
	}
	c, err := openParts(dir, chID, deps)
	if err != nil {
		return nil, fmt.Errorf("join channel %q: %w", chID, err)
	}
	if h := c.store.Height(); h != 0 {
		c.closeParts()
		return nil, fmt.Errorf("join channel %q: dir %s: block store already holds %d blocks", chID, dir, h)
	}
	block := proto.Clone(genesis).(*common.Block)
	setFilter(block, []peer.TxValidationCode{peer.TxValidationCode_VALID})
	if err := c.store.Append(block); err != nil {
		c.closeParts()
		return nil, fmt.Errorf("join channel %q: append genesis block: %w", chID, err)
	}
	if err := c.state.Commit(statedb.NewUpdateBatch(), 0); err != nil {
		c.closeParts()
		return nil, fmt.Errorf("join channel %q: state savepoint: %w", chID, err)
	}
	c.bundle.Store(bundle)
	c.committed = 1
	c.log.Info("joined channel", "dir", dir)
	return c, nil
}

// Open restores the channel channelID whose ledger is in dir, replaying
// blocks into the state when it fell behind the block store.
func Open(dir, channelID string, deps Deps) (*Channel, error) {
	if dir == "" {
		return nil, errors.New("open channel: dir: empty")
	}
	if err := channelconfig.ValidateChannelID(channelID); err != nil {
		return nil, fmt.Errorf("open channel: channel id: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, BlocksDir)); err != nil {
		return nil, fmt.Errorf("open channel %q: dir %s: no block store: %w", channelID, dir, err)
	}
	c, err := openParts(dir, channelID, deps)
	if err != nil {
		return nil, fmt.Errorf("open channel %q: %w", channelID, err)
	}
	if err := c.restore(); err != nil {
		c.closeParts()
		return nil, fmt.Errorf("open channel %q: %w", channelID, err)
	}
	return c, nil
}

func openParts(dir, chID string, deps Deps) (*Channel, error) {
	log := deps.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("channel", chID)
	opts := deps.StoreOptions
	if opts.Logger == nil {
		opts.Logger = log
	}
	store, err := blockstore.Open(filepath.Join(dir, BlocksDir), opts)
	if err != nil {
		return nil, fmt.Errorf("block store: %w", err)
	}
	state, err := statedb.Open(filepath.Join(dir, StateDBFile))
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("state database: %w", err)
	}
	return &Channel{id: chID, dir: dir, deps: deps, log: log, store: store, state: state, commitCh: make(chan struct{})}, nil
}

func (c *Channel) closeParts() {
	if err := c.state.Close(); err != nil {
		c.log.Warn("closing state database", "err", err)
	}
	if err := c.store.Close(); err != nil {
		c.log.Warn("closing block store", "err", err)
	}
}

// Close stops the committer and closes the ledger. Waiters get an error.
func (c *Channel) Close() error {
	c.Stop()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	close(c.commitCh)
	c.mu.Unlock()
	c.commitMu.Lock()
	defer c.commitMu.Unlock()
	return errors.Join(c.state.Close(), c.store.Close())
}

// ID is the channel's name.
func (c *Channel) ID() string { return c.id }

// Bundle is the channel's current config.
func (c *Channel) Bundle() *channelconfig.Bundle { return c.bundle.Load() }

// Store is the channel's block store. Blocks in it may be ahead of the state
// for a moment; Height tells how far both are committed.
func (c *Channel) Store() *blockstore.Store { return c.store }

// State is the channel's state database.
func (c *Channel) State() *statedb.DB { return c.state }

// Height is the number of fully committed blocks (block and state).
func (c *Channel) Height() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.committed
}

// committedSignal returns the committed height and a channel closed at the
// next commit (or at Close).
func (c *Channel) committedSignal() (uint64, <-chan struct{}, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.committed, c.commitCh, c.closed
}

// markCommitted records that blocks below height are fully committed and
// wakes the waiters.
func (c *Channel) markCommitted(height uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.committed = height
	close(c.commitCh)
	c.commitCh = make(chan struct{})
}
