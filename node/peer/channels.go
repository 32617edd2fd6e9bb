package peer

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/ledger/blockstore"
	"weft/ledger/statedb"
	"weft/peer/channel"
	"weft/peer/endorser"
	"weft/peer/gateway"
	"weft/peer/lifecycle"
	"weft/peer/validator"
	"weft/wire/common"
	"weft/wire/ledger/queryresult"
	"weft/wire/ledger/rwset/kvrwset"
)

// channels is the set of channels the peer joined; it implements the
// views the system chaincodes, endorser, gateway and deliver need.
type channels struct {
	dir  string
	deps channel.Deps
	log  *slog.Logger

	mu   sync.Mutex
	byID map[string]*channel.Channel
}

func newChannels(dir string, deps channel.Deps, log *slog.Logger) (*channels, error) {
	deps.PolicyChecker = func(db *statedb.DB, b *channelconfig.Bundle) validator.PolicyChecker {
		return lifecycle.NewPolicyChecker(stateGetter(db), b)
	}
	c := &channels{dir: dir, deps: deps, log: log, byID: map[string]*channel.Channel{}}
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("list ledgers: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() || channelconfig.ValidateChannelID(e.Name()) != nil {
			continue
		}
		ch, err := channel.Open(filepath.Join(dir, e.Name()), e.Name(), deps)
		if err != nil {
			c.close()
			return nil, fmt.Errorf("channel %q: %w", e.Name(), err)
		}
		if err := ch.Start(); err != nil {
			ch.Close()
			c.close()
			return nil, fmt.Errorf("channel %q: start: %w", e.Name(), err)
		}
		c.byID[e.Name()] = ch
		log.Info("channel restored", "channel", e.Name(), "height", ch.Height())
	}
	return c, nil
}

func stateGetter(db *statedb.DB) func(ns, key string) ([]byte, error) {
	return func(ns, key string) ([]byte, error) {
		v, err := db.Get(ns, key)
		if err != nil || v == nil {
			return nil, err
		}
		return v.Value, nil
	}
}

// Join implements scc.Channels (cscc JoinChain).
func (c *channels) Join(block *common.Block) error {
	env, id, err := channelconfig.ConfigFromBlock(block)
	if err != nil {
		return err
	}
	_ = env
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byID[id]; ok {
		return fmt.Errorf("channel %q is already joined", id)
	}
	dir := filepath.Join(c.dir, id)
	ch, err := channel.Join(dir, block, c.deps)
	if err != nil {
		os.RemoveAll(dir)
		return err
	}
	if err := ch.Start(); err != nil {
		ch.Close()
		return err
	}
	c.byID[id] = ch
	c.log.Info("channel joined", "channel", id)
	return nil
}

// List implements scc.Channels.
func (c *channels) List() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := make([]string, 0, len(c.byID))
	for id := range c.byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// ConfigBlock implements scc.Channels.
func (c *channels) ConfigBlock(id string) (*common.Block, error) {
	ch, ok := c.get(id)
	if !ok {
		return nil, fmt.Errorf("channel %q is not joined", id)
	}
	h := ch.Height()
	if h == 0 {
		return nil, fmt.Errorf("channel %q has no blocks", id)
	}
	last, err := ch.Store().Block(h - 1)
	if err != nil {
		return nil, err
	}
	idx, err := channelconfig.LastConfigIndex(last)
	if err != nil {
		return nil, err
	}
	return ch.Store().Block(idx)
}

// BlockStore implements scc.Ledgers (qscc).
func (c *channels) BlockStore(id string) *blockstore.Store {
	ch, ok := c.get(id)
	if !ok {
		return nil
	}
	return ch.Store()
}

func (c *channels) get(id string) (*channel.Channel, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch, ok := c.byID[id]
	return ch, ok
}

// states lists the committed states (for installed-package references).
func (c *channels) states() map[string]lifecycle.StateReader {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]lifecycle.StateReader, len(c.byID))
	for id, ch := range c.byID {
		out[id] = ch.State()
	}
	return out
}

func (c *channels) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, ch := range c.byID {
		ch.Stop()
		if err := ch.Close(); err != nil {
			c.log.Warn("close channel", "channel", id, "err", err)
		}
	}
	c.byID = map[string]*channel.Channel{}
}

// endorserChannels adapts the set to endorser.ChannelSource.
type endorserChannels struct{ c *channels }

func (e endorserChannels) Channel(id string) (endorser.Channel, bool) {
	ch, ok := e.c.get(id)
	if !ok {
		return nil, false
	}
	return &endorser.LedgerChannel{Config: ch.Bundle, State: ch.State(), Blocks: ch.Store(), History: history(ch)}, true
}

// gatewayChannels adapts the set to gateway.ChannelSource.
type gatewayChannels struct{ c *channels }

func (g gatewayChannels) Channel(id string) (gateway.Channel, bool) {
	ch, ok := g.c.get(id)
	if !ok {
		return nil, false
	}
	return gateway.WithLifecyclePolicies(ch), true
}

// history answers GetHistoryForKey: the state database indexes which
// transactions wrote a key; the values, delete flags, tx ids and times come
// from those transactions in the block store.
func history(ch *channel.Channel) func(ns, key string) ([]*queryresult.KeyModification, error) {
	return func(ns, key string) ([]*queryresult.KeyModification, error) {
		versions, err := ch.State().History(ns, key)
		if err != nil {
			return nil, err
		}
		var out []*queryresult.KeyModification
		for _, v := range versions {
			b, err := ch.Store().Block(v.BlockNum)
			if err != nil {
				return nil, fmt.Errorf("history of %s/%s: block %d: %w", ns, key, v.BlockNum, err)
			}
			data := b.GetData().GetData()
			if int(v.TxNum) >= len(data) {
				return nil, fmt.Errorf("history of %s/%s: block %d has no tx %d", ns, key, v.BlockNum, v.TxNum)
			}
			tx, err := channel.DecodeTx(data[v.TxNum])
			if err != nil {
				return nil, err
			}
			km := &queryresult.KeyModification{TxId: tx.Header.GetTxId(), Timestamp: tx.Header.GetTimestamp()}
			found := false
			for _, a := range tx.Actions {
				w, ok := findWrite(a.GetResults(), ns, key)
				if ok {
					km.Value, km.IsDelete, found = w.GetValue(), w.GetIsDelete(), true
				}
			}
			if !found {
				continue // a metadata-only write: not a value change
			}
			out = append(out, km)
		}
		return out, nil
	}
}

func findWrite(results []byte, ns, key string) (*kvrwset.KVWrite, bool) {
	txrw, err := decodeRWSet(results)
	if err != nil {
		return nil, false
	}
	for _, nsrw := range txrw.GetNsRwset() {
		if nsrw.GetNamespace() != ns {
			continue
		}
		var kv kvrwset.KVRWSet
		if err := proto.Unmarshal(nsrw.GetRwset(), &kv); err != nil {
			return nil, false
		}
		for _, w := range kv.GetWrites() {
			if w.GetKey() == key {
				return w, true
			}
		}
	}
	return nil, false
}
