package chain

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"weft/channelconfig"
	"weft/ledger/blockstore"
	"weft/orderer/raft"
	"weft/wire/common"
	"weft/wire/orderer/etcdraft"
)

func TestMembershipChange(t *testing.T) {
	p := newPKI(t, 4)
	c := func(i int) *etcdraft.Consenter { return toRaftConsenter(p.consenter(i)) }
	base := genesisMembership([]*etcdraft.Consenter{c(0), c(1), c(2)})
	for _, tc := range []struct {
		name     string
		cons     []*etcdraft.Consenter
		wantIDs  []uint64
		wantNext uint64
		err      string
	}{
		{"unchanged", []*etcdraft.Consenter{c(0), c(1), c(2)}, []uint64{1, 2, 3}, 4, ""},
		{"reordered keeps ids by cert", []*etcdraft.Consenter{c(2), c(0), c(1)}, []uint64{3, 1, 2}, 4, ""},
		{"add one", []*etcdraft.Consenter{c(0), c(1), c(2), c(3)}, []uint64{1, 2, 3, 4}, 5, ""},
		{"remove one", []*etcdraft.Consenter{c(0), c(2)}, []uint64{1, 3}, 4, ""},
		{"replace one", []*etcdraft.Consenter{c(0), c(1), c(3)}, nil, 0, "adds 1 and removes 1"},
		{"remove two", []*etcdraft.Consenter{c(0)}, nil, 0, "adds 0 and removes 2"},
		{"remove all", nil, nil, 0, "removes every consenter"},
		{"duplicate cert", []*etcdraft.Consenter{c(0), c(1), c(2), {Host: "x", Port: 1, ClientTlsCert: p.tls[1]}}, nil, 0, "repeats"},
		{"missing cert", []*etcdraft.Consenter{c(0), c(1), c(2), {Host: "x", Port: 1}}, nil, 0, "no client TLS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := base.change(tc.cons)
			if tc.err != "" {
				if err == nil || !errors.Is(err, ErrBadConfig) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want ErrBadConfig containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.ids, tc.wantIDs) || got.next != tc.wantNext {
				t.Fatalf("ids %v next %d, want %v next %d", got.ids, got.next, tc.wantIDs, tc.wantNext)
			}
		})
	}
	if id := base.idOf(p.tls[3]); id != 0 {
		t.Fatalf("idOf an unknown cert = %d", id)
	}
	if id := base.idOf(p.tls[1]); id != 2 {
		t.Fatalf("idOf consenter 1 = %d, want 2", id)
	}
}

func TestMembershipFrom(t *testing.T) {
	p := newPKI(t, 2)
	cons := []*etcdraft.Consenter{toRaftConsenter(p.consenter(0)), toRaftConsenter(p.consenter(1))}
	for _, tc := range []struct {
		name string
		cons []*etcdraft.Consenter
		md   *etcdraft.BlockMetadata
		err  string
	}{
		{"genesis", cons, nil, ""},
		{"recorded", cons, &etcdraft.BlockMetadata{ConsenterIds: []uint64{4, 2}, NextConsenterId: 5}, ""},
		{"no consenters", nil, nil, "no etcdraft consenters"},
		{"count mismatch", cons, &etcdraft.BlockMetadata{ConsenterIds: []uint64{1}, NextConsenterId: 3}, "1 consenter ids for 2"},
		{"zero id", cons, &etcdraft.BlockMetadata{ConsenterIds: []uint64{0, 1}, NextConsenterId: 3}, "outside"},
		{"id beyond next", cons, &etcdraft.BlockMetadata{ConsenterIds: []uint64{1, 3}, NextConsenterId: 3}, "outside"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := membershipFrom(tc.cons, tc.md)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(m.ids) != len(tc.cons) || len(m.members()) != len(tc.cons) || m.members()[1].Endpoint != "orderer1:7050" {
				t.Fatalf("membership %+v", m)
			}
		})
	}
}

func TestEntryCodec(t *testing.T) {
	b1 := channelconfig.NewBlock(1, []byte("prev"))
	b1.Data = &common.BlockData{Data: [][]byte{[]byte("a")}}
	b2 := channelconfig.NewBlock(2, []byte("prev2"))
	b2.Data = &common.BlockData{}
	r1, _ := marshal(b1)
	r2, _ := marshal(b2)
	got, err := decodeEntry(encodeEntry([][]byte{r1, r2}))
	if err != nil || len(got) != 2 || got[0].Header.Number != 1 || got[1].Header.Number != 2 {
		t.Fatalf("round trip: %v %v", got, err)
	}
	if got, err := decodeEntry(nil); err != nil || got != nil {
		t.Fatalf("marker: %v %v", got, err)
	}
	full := encodeEntry([][]byte{r1})
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"bad version", append([]byte{9}, full[1:]...)},
		{"truncated", full[:len(full)-1]},
		{"bad length", []byte{entryVersion, 0xff}},
		{"not a block", encodeEntry([][]byte{{0xff, 0xff}})},
		{"block without header", encodeEntry([][]byte{{}})},
	} {
		if _, err := decodeEntry(tc.data); err == nil {
			t.Errorf("%s: decoded", tc.name)
		}
	}
}

func TestWindow(t *testing.T) {
	w := newWindow(3)
	h := func(b byte) [32]byte { return envHash([]byte{b}) }
	for _, b := range []byte{1, 2, 3, 1} {
		w.add(h(b))
	}
	// 1 was added twice; evicting its first occurrence keeps it.
	if !w.has(h(1)) || !w.has(h(2)) || !w.has(h(3)) {
		t.Fatal("lost a hash still in the window")
	}
	w.add(h(4))
	if w.has(h(2)) || !w.has(h(4)) {
		t.Fatal("eviction order wrong")
	}
	w.add(h(5))
	w.add(h(6))
	if w.has(h(1)) || w.has(h(3)) {
		t.Fatal("old hashes kept")
	}
	r := newRecentHashes(2)
	r.add(1, []byte("a"))
	r.add(2, []byte("b"))
	r.add(3, []byte("c"))
	if r.matches(1, []byte("a")) || !r.matches(3, []byte("c")) || r.matches(3, []byte("x")) {
		t.Fatal("recent hashes wrong")
	}
}

// newUnstarted builds a chain over a store holding the genesis block,
// without starting raft.
func newUnstarted(t *testing.T, p *pki, self int, consenters int) (*Chain, *common.Block) {
	t.Helper()
	g := p.genesis(t, consenters, 10, time.Second)
	store, err := blockstore.Open(filepath.Join(t.TempDir(), "store"), blockstore.Options{Sync: blockstore.SyncNever})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Append(g); err != nil {
		t.Fatal(err)
	}
	ce, _, _ := channelconfig.ConfigFromBlock(g)
	bundle, err := channelconfig.NewBundle(testChannel, ce.Config)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{
		Channel: testChannel, WALDir: t.TempDir(), Store: store, Bundle: bundle, Signer: p.signers[self],
		SelfClientTLSCert: p.tls[self], Transport: newMemNet().transport(p.tls[self]),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, g
}

func TestApplyRules(t *testing.T) {
	p := newPKI(t, 2)
	c, g := newUnstarted(t, p, 0, 1)
	c.setVtip(g.Header)
	mem := genesisMembership(c.Bundle().EtcdRaftConsenters())
	mk := func(prev *common.BlockHeader, tx string) *common.Block {
		b, err := newSignedBlock(prev, [][]byte{[]byte(tx)}, 0, mem, p.signers[0])
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	entry := func(bs ...*common.Block) raft.Committed {
		var raws [][]byte
		for _, b := range bs {
			r, _ := marshal(b)
			raws = append(raws, r)
		}
		return raft.Committed{Index: 9, Data: encodeEntry(raws)}
	}
	b1 := mk(g.Header, "tx1")
	b2 := mk(b1.Header, "tx2")
	if err := c.apply(entry(b1, b2)); err != nil {
		t.Fatal(err)
	}
	if c.store.Height() != 3 || c.vtip.Number != 2 {
		t.Fatalf("height %d vtip %d after two blocks", c.store.Height(), c.vtip.Number)
	}
	// A deposed leader's blocks: wrong parent, or a gap.
	other := mk(g.Header, "other")
	if err := c.apply(entry(other, mk(other.Header, "x"))); err != nil {
		t.Fatal(err)
	}
	if c.store.Height() != 3 || c.vtip.Number != 2 {
		t.Fatal("stale blocks were applied")
	}
	// Markers and unreadable entries change nothing.
	if err := c.apply(raft.Committed{Index: 10}); err != nil {
		t.Fatal(err)
	}
	if err := c.apply(raft.Committed{Index: 11, Data: []byte{7, 7}}); err != nil {
		t.Fatal(err)
	}
	// Replay after a restart: the log starts again from genesis.
	c.setVtip(g.Header)
	if err := c.apply(entry(b1)); err != nil {
		t.Fatalf("replay: %v", err)
	}
	if c.vtip.Number != 1 || c.store.Height() != 3 {
		t.Fatal("replay changed the store")
	}
	// A log that disagrees with the store is a fork: refuse.
	c.setVtip(g.Header)
	if err := c.apply(entry(other)); err == nil || !strings.Contains(err.Error(), "fork") {
		t.Fatalf("fork: %v", err)
	}
	// Snapshots round-trip the tip; a snapshot of a different block 2 is
	// refused too.
	c.setVtip(b2.Header)
	snap, err := c.snapshot()
	if err != nil {
		t.Fatal(err)
	}
	c.setVtip(g.Header)
	if err := c.restore(snap); err != nil || c.vtip.Number != 2 {
		t.Fatalf("restore: %v", err)
	}
	forked, _ := marshal(mk(b1.Header, "forked").Header)
	if err := c.restore(forked); err == nil {
		t.Fatal("restored a forked snapshot")
	}
	if err := c.restore([]byte{0xff}); err == nil {
		t.Fatal("restored garbage")
	}
	// Beyond the store with no Puller: an error, not a hang.
	ahead, _ := marshal(&common.BlockHeader{Number: 9})
	if err := c.restore(ahead); err == nil || !strings.Contains(err.Error(), "no Puller") {
		t.Fatalf("restore ahead without puller: %v", err)
	}
}

func TestNewRejects(t *testing.T) {
	p := newPKI(t, 1)
	c, _ := newUnstarted(t, p, 0, 1)
	good := c.cfg
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		err    string
	}{
		{"no channel", func(c *Config) { c.Channel = "" }, "Channel is empty"},
		{"no store", func(c *Config) { c.Store = nil }, "Store is nil"},
		{"no bundle", func(c *Config) { c.Bundle = nil }, "Bundle is nil"},
		{"other channel", func(c *Config) { c.Channel = "other" }, "Bundle is for channel"},
		{"no signer", func(c *Config) { c.Signer = nil }, "Signer is nil"},
		{"no transport", func(c *Config) { c.Transport = nil }, "Comm and Transport are nil"},
		{"no self cert", func(c *Config) { c.SelfClientTLSCert = nil }, "SelfClientTLSCert"},
		{"join without puller", func(c *Config) {
			c.JoinBlock = &common.Block{Header: &common.BlockHeader{Number: 5}}
		}, "Puller is nil"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.mutate(&cfg)
			if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
		})
	}
}

func TestSubmissionsRefusedWithoutRaft(t *testing.T) {
	p := newPKI(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()

	// Orderer 2 is not among the 2 consenters: a follower cannot order.
	f, _ := newUnstarted(t, p, 2, 2)
	if st := f.Status(); st.ConsensusRelation != RelationFollower || st.RaftID != 0 {
		t.Fatalf("follower status %+v", st)
	}
	if err := f.Order(ctx, txEnvelope(t, "x"), 0); !errors.Is(err, ErrNotConsenter) {
		t.Fatalf("Order on a follower: %v", err)
	}

	c, _ := newUnstarted(t, p, 0, 2)
	b := c.Bundle()
	env := p.configEnvelope(t, b, setBatchSize(t, 3))
	short, cancelShort := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancelShort()
	// Valid, but there is no leader to take it: the caller's deadline ends it.
	if err := c.Configure(short, env, 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Configure without a leader: %v", err)
	}
	if err := c.Configure(ctx, txEnvelope(t, "x"), 0); !errors.Is(err, ErrBadConfig) {
		t.Fatalf("Configure with a normal tx: %v", err)
	}
	if err := c.Order(ctx, nil, 0); err == nil {
		t.Fatal("Order(nil) accepted")
	}
	if err := c.Step(ctx, 2, nil); err == nil {
		t.Fatal("Step(nil) accepted")
	}
	if err := c.Step(ctx, 2, &raftpb.Message{From: new(uint64(3)), To: new(uint64(1))}); err == nil || !strings.Contains(err.Error(), "came from 2") {
		t.Fatalf("Step with a spoofed sender: %v", err)
	}
	if err := c.Submit(ctx, 2, txEnvelope(t, "x")); !errors.Is(err, ErrNotConsenter) {
		t.Fatalf("Submit before raft runs: %v", err)
	}
	c.Halt()
	if err := c.Order(ctx, txEnvelope(t, "x"), 0); !errors.Is(err, ErrHalted) {
		t.Fatalf("Order after Halt: %v", err)
	}
	select {
	case <-c.Errored():
	default:
		t.Fatal("Errored not closed after Halt")
	}
}
