// Package registrar keeps the channels an orderer serves: it joins and
// removes them (channel participation), restores them at start, and gives
// the broadcast, deliver and cluster services their per-channel view.
package registrar

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/deliver"
	"weft/internal/atomicfile"
	"weft/ledger/blockstore"
	"weft/msp"
	"weft/orderer/broadcast"
	"weft/orderer/chain"
	"weft/orderer/cluster"
	"weft/orderer/participation"
	"weft/wire/common"
)

// Config configures a Registrar.
type Config struct {
	// LedgerDir holds one block store per channel (chains/<channel>).
	LedgerDir string
	// WALDir holds one Raft WAL per channel (<WALDir>/<channel>).
	WALDir string
	Signer *msp.SigningIdentity
	// ClusterCertPEM/ClusterKeyPEM are this node's cluster client TLS
	// identity: it names the node among consenters and authenticates
	// block pulls from other orderers.
	ClusterCertPEM, ClusterKeyPEM []byte
	Comm                          *cluster.Comm
	SnapshotEvery                 uint64
	Logger                        *slog.Logger
}

// Registrar is the set of channels of one orderer.
type Registrar struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	channels map[string]*channel
	removing map[string]bool
}

type channel struct {
	id    string
	store *blockstore.Store
	chain *chain.Chain
}

const joinBlockFile = "join.block"

// New opens every channel found under LedgerDir and starts its chain.
func New(cfg Config) (*Registrar, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Registrar{cfg: cfg, log: cfg.Logger, channels: map[string]*channel{}, removing: map[string]bool{}}
	entries, err := os.ReadDir(r.chainsDir())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("list channels: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		id := e.Name()
		if err := channelconfig.ValidateChannelID(id); err != nil {
			r.log.Warn("ignoring folder that is not a channel", "dir", filepath.Join(r.chainsDir(), id))
			continue
		}
		ch, err := r.open(id, nil)
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("channel %q: %w", id, err)
		}
		r.channels[id] = ch
		r.log.Info("channel restored", "channel", id, "height", ch.store.Height())
	}
	return r, nil
}

func (r *Registrar) chainsDir() string         { return filepath.Join(r.cfg.LedgerDir, "chains") }
func (r *Registrar) storeDir(id string) string { return filepath.Join(r.chainsDir(), id) }
func (r *Registrar) walDir(id string) string   { return filepath.Join(r.cfg.WALDir, id) }
func (r *Registrar) joinBlockPath(id string) string {
	return filepath.Join(r.storeDir(id), joinBlockFile)
}

// open opens the store of channel id and starts its chain. join is the
// block the channel is being joined with (nil when restoring).
func (r *Registrar) open(id string, join *common.Block) (*channel, error) {
	if join == nil {
		// A join that had not caught up before a restart left its block.
		if raw, err := os.ReadFile(r.joinBlockPath(id)); err == nil {
			join = &common.Block{}
			if err := proto.Unmarshal(raw, join); err != nil {
				return nil, fmt.Errorf("read %s: %w", joinBlockFile, err)
			}
		}
	}
	store, err := blockstore.Open(r.storeDir(id), blockstore.Options{Logger: r.log.With("channel", id)})
	if err != nil {
		return nil, err
	}
	if join != nil && join.GetHeader().GetNumber() == 0 && store.Height() == 0 {
		if err := store.Append(join); err != nil {
			store.Close()
			return nil, fmt.Errorf("append genesis block: %w", err)
		}
	}
	bundle, err := currentBundle(id, store, join)
	if err != nil {
		store.Close()
		return nil, err
	}
	ch := &channel{id: id, store: store}
	c, err := chain.New(chain.Config{
		Channel:           id,
		WALDir:            r.walDir(id),
		Store:             store,
		Bundle:            bundle,
		Signer:            r.cfg.Signer,
		SelfClientTLSCert: r.cfg.ClusterCertPEM,
		Comm:              r.cfg.Comm,
		Puller:            &puller{r: r, channel: id, bundle: func() *channelconfig.Bundle { return ch.chain.Bundle() }},
		JoinBlock:         join,
		Logger:            r.log,
		SnapshotEvery:     r.cfg.SnapshotEvery,
	})
	if err != nil {
		store.Close()
		return nil, err
	}
	ch.chain = c
	// The chain registers itself with the cluster Comm while it runs.
	if err := c.Start(); err != nil {
		store.Close()
		return nil, err
	}
	return ch, nil
}

// currentBundle is the config at the newest block of the store, or of the
// join block when the store has not reached it yet.
func currentBundle(id string, store *blockstore.Store, join *common.Block) (*channelconfig.Bundle, error) {
	var cfgBlock *common.Block
	h := store.Height()
	if join != nil && h <= join.GetHeader().GetNumber() {
		cfgBlock = join
	} else {
		last, err := store.Block(h - 1)
		if err != nil {
			return nil, fmt.Errorf("read block %d: %w", h-1, err)
		}
		idx, err := channelconfig.LastConfigIndex(last)
		if err != nil {
			return nil, fmt.Errorf("block %d: %w", h-1, err)
		}
		if cfgBlock, err = store.Block(idx); err != nil {
			return nil, fmt.Errorf("read config block %d: %w", idx, err)
		}
	}
	env, chID, err := channelconfig.ConfigFromBlock(cfgBlock)
	if err != nil {
		return nil, err
	}
	if chID != id {
		return nil, fmt.Errorf("config block is for channel %q", chID)
	}
	return channelconfig.NewBundle(id, env.GetConfig())
}

// Join implements participation.Registrar.
func (r *Registrar) Join(block *common.Block) (participation.ChannelInfo, error) {
	id, err := participation.ValidateJoinBlock(block)
	if err != nil {
		return participation.ChannelInfo{}, fmt.Errorf("%w: %v", participation.ErrBadBlock, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.removing[id] {
		return participation.ChannelInfo{}, participation.ErrPendingRemoval
	}
	if _, ok := r.channels[id]; ok {
		return participation.ChannelInfo{}, participation.ErrChannelExists
	}
	if err := os.MkdirAll(r.storeDir(id), 0o755); err != nil {
		return participation.ChannelInfo{}, err
	}
	if block.GetHeader().GetNumber() > 0 {
		raw, err := proto.Marshal(block)
		if err != nil {
			return participation.ChannelInfo{}, err
		}
		if err := atomicfile.Write(r.joinBlockPath(id), raw, 0o644); err != nil {
			return participation.ChannelInfo{}, fmt.Errorf("save join block: %w", err)
		}
	}
	ch, err := r.open(id, block)
	if err != nil {
		os.RemoveAll(r.storeDir(id))
		os.RemoveAll(r.walDir(id))
		return participation.ChannelInfo{}, fmt.Errorf("%w: join channel %q: %v", participation.ErrBadBlock, id, err)
	}
	r.channels[id] = ch
	r.log.Info("channel joined", "channel", id, "join_block", block.GetHeader().GetNumber())
	return info(ch), nil
}

// Remove implements participation.Registrar.
func (r *Registrar) Remove(id string) error {
	r.mu.Lock()
	ch, ok := r.channels[id]
	if !ok {
		r.mu.Unlock()
		return participation.ErrChannelNotExist
	}
	delete(r.channels, id)
	r.removing[id] = true
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.removing, id)
		r.mu.Unlock()
	}()

	ch.chain.Halt()
	ch.store.Close()
	var errs []error
	if err := os.RemoveAll(r.storeDir(id)); err != nil {
		errs = append(errs, err)
	}
	if err := os.RemoveAll(r.walDir(id)); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %v", participation.ErrRemovalFailure, err)
	}
	r.log.Info("channel removed", "channel", id)
	return nil
}

// List implements participation.Registrar.
func (r *Registrar) List() []participation.ChannelInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]participation.ChannelInfo, 0, len(r.channels))
	for _, ch := range r.channels {
		out = append(out, info(ch))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Info implements participation.Registrar.
func (r *Registrar) Info(id string) (participation.ChannelInfo, error) {
	ch, ok := r.get(id)
	if !ok {
		return participation.ChannelInfo{}, participation.ErrChannelNotExist
	}
	return info(ch), nil
}

func info(ch *channel) participation.ChannelInfo {
	st := ch.chain.Status()
	return participation.ChannelInfo{
		Name:              ch.id,
		URL:               participation.URLChannels + "/" + ch.id,
		ConsensusRelation: st.ConsensusRelation,
		Status:            st.Status,
		Height:            ch.store.Height(),
	}
}

func (r *Registrar) get(id string) (*channel, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ch, ok := r.channels[id]
	return ch, ok
}

// Chain returns the chain of a channel (for status and metrics).
func (r *Registrar) Chain(id string) (*chain.Chain, bool) {
	ch, ok := r.get(id)
	if !ok {
		return nil, false
	}
	return ch.chain, true
}

// Channels lists the joined channel IDs.
func (r *Registrar) Channels() []string {
	var ids []string
	for _, in := range r.List() {
		ids = append(ids, in.Name)
	}
	return ids
}

// HealthCheck fails when a channel's chain has failed.
func (r *Registrar) HealthCheck(context.Context) error {
	var errs []error
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, ch := range r.channels {
		if st := ch.chain.Status(); st.Status == chain.StatusFailed {
			errs = append(errs, fmt.Errorf("channel %q failed: %v", id, st.Err))
		}
	}
	return errors.Join(errs...)
}

// Close halts every chain and closes the stores.
func (r *Registrar) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ch := range r.channels {
		ch.chain.Halt()
		ch.store.Close()
	}
	r.channels = map[string]*channel{}
}

// Support implements broadcast.Registrar.
func (r *Registrar) Support(id string) (broadcast.Support, bool) {
	ch, ok := r.get(id)
	if !ok {
		return nil, false
	}
	return support{ch: ch, signer: r.cfg.Signer}, true
}

// Channel implements deliver.Source.
func (r *Registrar) Channel(id string) (deliver.Channel, bool) {
	ch, ok := r.get(id)
	if !ok {
		return nil, false
	}
	return deliverChannel{ch}, true
}
