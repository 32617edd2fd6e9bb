package chain

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/ledger/blockstore"
	"weft/wire/common"
)

const testChannel = "testchannel"

// harness runs orderers of one channel over an in-memory network.
type harness struct {
	mu        sync.Mutex // guards nodes
	t         testing.TB
	pki       *pki
	net       *memNet
	genesis   *common.Block
	dir       string
	nodes     []*tnode
	snapEvery uint64
	sync      blockstore.SyncPolicy
}

type tnode struct {
	i      int
	store  *blockstore.Store
	chain  *Chain
	puller *memPuller
}

func newHarness(t testing.TB, orderers, consenters int, batch uint32, timeout time.Duration) *harness {
	t.Helper()
	p := newPKI(t, orderers)
	h := &harness{t: t, pki: p, net: newMemNet(), dir: t.TempDir(), snapEvery: 10, sync: blockstore.SyncNever}
	h.genesis = p.genesis(t, consenters, batch, timeout)
	h.nodes = make([]*tnode, orderers)
	t.Cleanup(func() {
		for i := range h.nodes {
			h.stop(i)
		}
		h.net.close()
	})
	return h
}

func testLogger(t testing.TB, i int) *slog.Logger {
	if os.Getenv("CHAIN_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", i)
}

// start runs orderer i; join is the block it joins with (nil: genesis, or
// whatever its store already holds after a restart).
func (h *harness) start(i int, join *common.Block) *Chain {
	h.t.Helper()
	t := h.t
	store, err := blockstore.Open(filepath.Join(h.dir, fmt.Sprint(i), "chain"), blockstore.Options{Sync: h.sync})
	if err != nil {
		t.Fatal(err)
	}
	if store.Height() == 0 && join == nil {
		join = h.genesis
	}
	cfgBlock := join
	if cfgBlock == nil {
		last, err := store.Block(store.Height() - 1)
		if err != nil {
			t.Fatal(err)
		}
		lc, err := channelconfig.LastConfigIndex(last)
		if err != nil {
			t.Fatal(err)
		}
		if cfgBlock, err = store.Block(lc); err != nil {
			t.Fatal(err)
		}
	}
	ce, _, err := channelconfig.ConfigFromBlock(cfgBlock)
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := channelconfig.NewBundle(testChannel, ce.Config)
	if err != nil {
		t.Fatal(err)
	}
	puller := &memPuller{net: h.net, self: h.pki.tls[i]}
	c, err := New(Config{
		Channel: testChannel, WALDir: filepath.Join(h.dir, fmt.Sprint(i), "wal"), Store: store, Bundle: bundle,
		Signer: h.pki.signers[i], SelfClientTLSCert: h.pki.tls[i], Transport: h.net.transport(h.pki.tls[i]),
		Puller: puller, JoinBlock: join, Logger: testLogger(t, i), SnapshotEvery: h.snapEvery,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.net.register(h.pki.tls[i], c)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	h.nodes[i] = &tnode{i: i, store: store, chain: c, puller: puller}
	h.mu.Unlock()
	return c
}

func (h *harness) stop(i int) {
	h.mu.Lock()
	n := h.nodes[i]
	h.nodes[i] = nil
	h.mu.Unlock()
	if n == nil {
		return
	}
	h.net.register(h.pki.tls[i], nil)
	n.chain.Halt()
	_ = n.store.Close()
}

// node returns orderer i, nil while it is stopped.
func (h *harness) node(i int) *tnode {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.nodes[i]
}

func (h *harness) running() []*tnode {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*tnode
	for _, n := range h.nodes {
		if n != nil {
			out = append(out, n)
		}
	}
	return out
}

// leader waits until the running nodes agree on an active leader and
// returns its index.
func (h *harness) leader() int {
	h.t.Helper()
	var idx int
	h.eventually(10*time.Second, "a leader", func() bool {
		for _, n := range h.running() {
			if st := n.chain.Status(); st.IsLeader && st.Status == StatusActive {
				idx = n.i
				return true
			}
		}
		return false
	})
	return idx
}

func (h *harness) eventually(d time.Duration, what string, f func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			for _, n := range h.running() {
				h.t.Logf("node %d: %+v", n.i, n.chain.Status())
			}
			h.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// converge waits until the given nodes have the same height, at least min.
func (h *harness) converge(min uint64, nodes ...*tnode) uint64 {
	h.t.Helper()
	var height uint64
	h.eventually(20*time.Second, "heights to converge", func() bool {
		height = nodes[0].store.Height()
		for _, n := range nodes {
			if n.store.Height() != height {
				return false
			}
		}
		return height >= min
	})
	return height
}

// checkIdentical compares the stores byte for byte and checks the hash
// chain; it returns how often each envelope was ordered.
func (h *harness) checkIdentical(nodes ...*tnode) map[string]int {
	h.t.Helper()
	t := h.t
	height := nodes[0].store.Height()
	counts := map[string]int{}
	var prev *common.BlockHeader
	for n := uint64(0); n < height; n++ {
		var ref []byte
		for _, nd := range nodes {
			b, err := nd.store.Block(n)
			if err != nil {
				t.Fatalf("node %d block %d: %v", nd.i, n, err)
			}
			raw, err := proto.Marshal(b)
			if err != nil {
				t.Fatal(err)
			}
			if ref == nil {
				ref = raw
				if prev != nil && string(b.Header.PreviousHash) != string(channelconfig.BlockHeaderHash(prev)) {
					t.Fatalf("block %d does not chain to block %d", n, n-1)
				}
				prev = b.Header
				for _, d := range b.Data.Data {
					counts[string(d)]++
				}
			} else if string(raw) != string(ref) {
				t.Fatalf("block %d differs between node %d and node %d", n, nodes[0].i, nd.i)
			}
		}
	}
	return counts
}
