package chain

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/fabcrypto"
	"weft/ledger/blockstore"
	"weft/msp"
	"weft/msp/msptest"
	"weft/wire/common"
	"weft/wire/orderer"
	"weft/wire/orderer/etcdraft"
)

const testChannel = "testchannel"

// pki is the orderer organisation of the test channel: one signer and one
// TLS certificate per orderer, plus an admin for config updates.
type pki struct {
	org     *msptest.Org
	mspCfg  *msp.MSP
	admin   *msp.SigningIdentity
	signers []*msp.SigningIdentity
	tls     [][]byte // PEM, used as both client and server TLS cert
}

func newPKI(t testing.TB, n int) *pki {
	t.Helper()
	org, err := msptest.NewOrg("OrdererMSP", false)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := org.Config()
	if err != nil {
		t.Fatal(err)
	}
	m, err := msp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := &pki{org: org, mspCfg: m}
	p.admin = p.identity(t, "Admin@example.com", msptest.OUAdmin)
	for i := 0; i < n; i++ {
		p.signers = append(p.signers, p.identity(t, fmt.Sprintf("orderer%d.example.com", i), msptest.OUOrderer))
		tlsMember, err := org.NewMember(msptest.CertOpts{CN: fmt.Sprintf("tls.orderer%d.example.com", i)})
		if err != nil {
			t.Fatal(err)
		}
		p.tls = append(p.tls, tlsMember.PEM)
	}
	return p
}

func (p *pki) identity(t testing.TB, cn, role string) *msp.SigningIdentity {
	t.Helper()
	mem, err := p.org.Role(cn, role)
	if err != nil {
		t.Fatal(err)
	}
	id, err := p.mspCfg.DeserializeIdentity(mem.Serialized)
	if err != nil {
		t.Fatal(err)
	}
	s, err := fabcrypto.NewSigner(mem.Key)
	if err != nil {
		t.Fatal(err)
	}
	return &msp.SigningIdentity{Identity: id, Signer: s}
}

func (p *pki) consenter(i int) channelconfig.Consenter {
	return channelconfig.Consenter{Host: fmt.Sprintf("orderer%d", i), Port: 7050, ClientTLSCert: p.tls[i], ServerTLSCert: p.tls[i]}
}

// genesis builds block 0 of an orderer-only channel with consenters 0..n-1.
func (p *pki) genesis(t testing.TB, n int, batch uint32, timeout time.Duration) *common.Block {
	t.Helper()
	cfg, err := p.org.Config()
	if err != nil {
		t.Fatal(err)
	}
	var cons []channelconfig.Consenter
	for i := 0; i < n; i++ {
		cons = append(cons, p.consenter(i))
	}
	prof := &channelconfig.Profile{
		Policies:     channelconfig.DefaultChannelPolicies(),
		Capabilities: channelconfig.DefaultChannelCapabilities(),
		Orderer: &channelconfig.OrdererSpec{
			OrdererType:  channelconfig.OrdererTypeEtcdRaft,
			BatchTimeout: timeout,
			BatchSize:    channelconfig.BatchSizeSpec{MaxMessageCount: batch, AbsoluteMaxBytes: 1 << 20, PreferredMaxBytes: 512 << 10},
			EtcdRaft: &channelconfig.EtcdRaftSpec{
				Consenters: cons,
				Options: channelconfig.EtcdRaftOptions{
					TickInterval: "20ms", ElectionTick: 10, HeartbeatTick: 1, MaxInflightBlocks: 5, SnapshotIntervalSize: 1 << 20,
				},
			},
			Organizations: []channelconfig.Org{{
				Name: "OrdererOrg", ID: "OrdererMSP", MSP: cfg,
				Policies: channelconfig.DefaultOrdererOrgPolicies("OrdererMSP"), OrdererEndpoints: []string{"orderer0:7050"},
			}},
			Policies:     channelconfig.DefaultOrdererPolicies(),
			Capabilities: channelconfig.DefaultOrdererCapabilities(),
		},
	}
	g, err := channelconfig.NewChannelGroup(prof)
	if err != nil {
		t.Fatal(err)
	}
	b, err := channelconfig.GenesisBlock(testChannel, g)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// configEnvelope turns a modified copy of the bundle's config into the
// CONFIG transaction a broadcast handler would hand to Configure.
func (p *pki) configEnvelope(t testing.TB, b *channelconfig.Bundle, mutate func(*common.Config)) *common.Envelope {
	t.Helper()
	upd := b.Config()
	mutate(upd)
	cu, err := channelconfig.ComputeUpdate(testChannel, b.Config(), upd)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := proto.Marshal(cu)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := channelconfig.SignConfigUpdate(raw, p.admin)
	if err != nil {
		t.Fatal(err)
	}
	cue, err := channelconfig.NewConfigUpdateEnvelope(raw, sig)
	if err != nil {
		t.Fatal(err)
	}
	utx, err := channelconfig.ConfigUpdateTx(testChannel, cue, p.admin)
	if err != nil {
		t.Fatal(err)
	}
	ce, err := b.ProposeConfigUpdate(utx)
	if err != nil {
		t.Fatal(err)
	}
	data, err := proto.Marshal(ce)
	if err != nil {
		t.Fatal(err)
	}
	return signedEnvelope(t, p.signers[0], common.HeaderType_CONFIG, data)
}

func signedEnvelope(t testing.TB, s *msp.SigningIdentity, typ common.HeaderType, data []byte) *common.Envelope {
	t.Helper()
	nonce := channelconfig.NewNonce()
	ch, err := proto.Marshal(&common.ChannelHeader{
		Type: int32(typ), ChannelId: testChannel, TxId: channelconfig.ComputeTxID(nonce, s.Serialize()),
	})
	if err != nil {
		t.Fatal(err)
	}
	sh, err := proto.Marshal(&common.SignatureHeader{Creator: s.Serialize(), Nonce: nonce})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := proto.Marshal(&common.Payload{Header: &common.Header{ChannelHeader: ch, SignatureHeader: sh}, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	return &common.Envelope{Payload: payload, Signature: sig}
}

// txEnvelope is a cheap unique normal transaction (no real signature; the
// chain does not check them).
func txEnvelope(t testing.TB, tag string) *common.Envelope {
	t.Helper()
	var r [8]byte
	_, _ = rand.Read(r[:])
	ch, _ := proto.Marshal(&common.ChannelHeader{Type: int32(common.HeaderType_ENDORSER_TRANSACTION), ChannelId: testChannel, TxId: tag + "-" + hex.EncodeToString(r[:])})
	payload, _ := proto.Marshal(&common.Payload{Header: &common.Header{ChannelHeader: ch}, Data: []byte(tag)})
	return &common.Envelope{Payload: payload, Signature: []byte("sig")}
}

func setConsenters(t testing.TB, cons []*etcdraft.Consenter) func(*common.Config) {
	return func(c *common.Config) {
		v := c.ChannelGroup.Groups[channelconfig.OrdererGroupKey].Values["ConsensusType"]
		ct := &orderer.ConsensusType{}
		if err := proto.Unmarshal(v.Value, ct); err != nil {
			t.Fatal(err)
		}
		md := &etcdraft.ConfigMetadata{}
		if err := proto.Unmarshal(ct.Metadata, md); err != nil {
			t.Fatal(err)
		}
		md.Consenters = cons
		var err error
		if ct.Metadata, err = proto.Marshal(md); err != nil {
			t.Fatal(err)
		}
		if v.Value, err = proto.Marshal(ct); err != nil {
			t.Fatal(err)
		}
	}
}

func toRaftConsenter(c channelconfig.Consenter) *etcdraft.Consenter {
	return &etcdraft.Consenter{Host: c.Host, Port: uint32(c.Port), ClientTlsCert: c.ClientTLSCert, ServerTlsCert: c.ServerTLSCert}
}

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

// memNet connects chains in one process: per-link queues, partitions by
// TLS certificate, direct Submit calls.
type memNet struct {
	mu       sync.Mutex
	chains   map[string]*Chain
	isolated map[string]bool
	queues   map[[2]string]chan func()
	closed   bool
	wg       sync.WaitGroup
	sent     atomic.Int64
}

func newMemNet() *memNet {
	return &memNet{chains: map[string]*Chain{}, isolated: map[string]bool{}, queues: map[[2]string]chan func(){}}
}

func (n *memNet) register(cert []byte, c *Chain) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if c == nil {
		delete(n.chains, string(certDER(cert)))
	} else {
		n.chains[string(certDER(cert))] = c
	}
}

func (n *memNet) isolate(cert []byte, on bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.isolated[string(certDER(cert))] = on
}

func (n *memNet) close() {
	n.mu.Lock()
	n.closed = true
	for _, q := range n.queues {
		close(q)
	}
	n.queues = map[[2]string]chan func(){}
	n.mu.Unlock()
	n.wg.Wait()
}

// target resolves a destination, nil when unreachable.
func (n *memNet) target(from, to string) *Chain {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.isolated[from] || n.isolated[to] {
		return nil
	}
	return n.chains[to]
}

func (n *memNet) enqueue(from, to string, f func()) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return
	}
	k := [2]string{from, to}
	q, ok := n.queues[k]
	if !ok {
		q = make(chan func(), 4096)
		n.queues[k] = q
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			for f := range q {
				f()
			}
		}()
	}
	select {
	case q <- f:
	default: // full: drop, raft retransmits
	}
}

func (n *memNet) transport(cert []byte) *memTransport {
	return &memTransport{net: n, self: string(certDER(cert)), members: map[uint64]string{}}
}

type memTransport struct {
	net     *memNet
	self    string
	mu      sync.Mutex
	selfID  uint64
	members map[uint64]string
}

func (m *memTransport) Configure(channel string, self uint64, members []Member) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.selfID = self
	m.members = map[uint64]string{}
	for _, mb := range members {
		m.members[mb.ID] = string(certDER(mb.ClientTLSCert))
	}
}

func (m *memTransport) Send(channel string, msgs []*raftpb.Message) {
	m.mu.Lock()
	self := m.selfID
	dests := make([]string, len(msgs))
	for i, msg := range msgs {
		dests[i] = m.members[msg.GetTo()]
	}
	m.mu.Unlock()
	for i, msg := range msgs {
		to := dests[i]
		if to == "" {
			continue
		}
		cp := proto.Clone(msg).(*raftpb.Message)
		m.net.sent.Add(1)
		m.net.enqueue(m.self, to, func() {
			if c := m.net.target(m.self, to); c != nil {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				_ = c.Step(ctx, self, cp)
				cancel()
			}
		})
	}
}

func (m *memTransport) Submit(ctx context.Context, channel string, to uint64, env *common.Envelope) error {
	m.mu.Lock()
	dest, self := m.members[to], m.selfID
	m.mu.Unlock()
	c := m.net.target(m.self, dest)
	if c == nil {
		return fmt.Errorf("consenter %d unreachable", to)
	}
	return c.Submit(ctx, self, proto.Clone(env).(*common.Envelope))
}

// memPuller reads blocks from the store of another running chain.
type memPuller struct {
	net    *memNet
	self   []byte
	pulled atomic.Int64
}

func (p *memPuller) Pull(ctx context.Context, from, to uint64, fn func(*common.Block) error) error {
	self := string(certDER(p.self))
	p.net.mu.Lock()
	var src *Chain
	for k, c := range p.net.chains {
		if k == self || p.net.isolated[k] || p.net.isolated[self] {
			continue
		}
		if src == nil || c.store.Height() > src.store.Height() {
			src = c
		}
	}
	p.net.mu.Unlock()
	if src == nil {
		return fmt.Errorf("no orderer to pull from")
	}
	it := src.store.Iterator(from)
	for n := from; n <= to; n++ {
		b, err := it.Next(ctx)
		if err != nil {
			return err
		}
		p.pulled.Add(1)
		if err := fn(b); err != nil {
			return err
		}
		if n == to {
			break
		}
	}
	return nil
}
