package chain

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/wire/common"
	"weft/wire/orderer"
	"weft/wire/orderer/etcdraft"
)

func setBatchSize(t testing.TB, max uint32) func(*common.Config) {
	return func(c *common.Config) {
		v := c.ChannelGroup.Groups[channelconfig.OrdererGroupKey].Values["BatchSize"]
		bs := &orderer.BatchSize{}
		if err := proto.Unmarshal(v.Value, bs); err != nil {
			t.Fatal(err)
		}
		bs.MaxMessageCount = max
		var err error
		if v.Value, err = proto.Marshal(bs); err != nil {
			t.Fatal(err)
		}
	}
}

// findBlock returns the number of the block whose only envelope is env.
func findBlock(t testing.TB, n *tnode, env *common.Envelope) uint64 {
	t.Helper()
	raw, _ := marshal(env)
	for i := n.store.Height(); i > 0; i-- {
		b, err := n.store.Block(i - 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range b.Data.Data {
			if string(d) == string(raw) {
				if len(b.Data.Data) != 1 {
					t.Fatalf("config envelope shares block %d with %d others", i-1, len(b.Data.Data)-1)
				}
				return i - 1
			}
		}
	}
	t.Fatal("envelope not found")
	return 0
}

func TestConfigUpdateBatchSize(t *testing.T) {
	h := newHarness(t, 3, 3, 10, 50*time.Millisecond)
	startAll(h, 3)
	lead := h.leader()
	f := (lead + 1) % 3
	tr := h.startTraffic(6, 0, 1, 2)
	tr.waitAcked(30)

	c := h.node(f).chain
	b0 := c.Bundle()
	env := h.pki.configEnvelope(t, b0, setBatchSize(t, 3))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Configure(ctx, env, b0.Sequence()); err != nil {
		t.Fatalf("Configure via a follower: %v", err)
	}
	// Configure returned: the config block is committed. Every node moves
	// to the new config once it has applied it.
	h.eventually(5*time.Second, "new batch size everywhere", func() bool {
		for _, n := range h.running() {
			if n.chain.Bundle().BatchSize().GetMaxMessageCount() != 3 || n.chain.Bundle().Sequence() != 1 {
				return false
			}
		}
		return true
	})
	// The same update again is stale now, whatever configSeq says.
	for _, seq := range []uint64{0, 1} {
		if err := c.Configure(ctx, env, seq); !errors.Is(err, ErrStaleConfig) {
			t.Fatalf("replayed config with configSeq %d: %v, want ErrStaleConfig", seq, err)
		}
	}
	tr.waitAcked(60)
	tr.finish()

	nodes := h.running()
	height := h.converge(2, nodes...)
	tr.check(t, h.checkIdentical(nodes...))
	cfgNum := findBlock(t, nodes[0], env)
	if cfgNum+1 >= height {
		t.Fatalf("no blocks after the config block %d", cfgNum)
	}
	for n := uint64(1); n < height; n++ {
		b, _ := nodes[0].store.Block(n)
		lc, err := channelconfig.LastConfigIndex(b)
		if err != nil {
			t.Fatal(err)
		}
		wantLC, maxTx := uint64(0), 10
		if n >= cfgNum {
			wantLC = cfgNum
		}
		if n > cfgNum {
			maxTx = 3
		}
		if lc != wantLC {
			t.Fatalf("block %d: last config %d, want %d", n, lc, wantLC)
		}
		if len(b.Data.Data) > maxTx {
			t.Fatalf("block %d holds %d envelopes, batch size allows %d", n, len(b.Data.Data), maxTx)
		}
		// LAST_CONFIG slot agrees with the signed metadata.
		md := &common.Metadata{}
		lcv := &common.LastConfig{}
		if proto.Unmarshal(b.Metadata.Metadata[common.BlockMetadataIndex_LAST_CONFIG], md) != nil ||
			proto.Unmarshal(md.Value, lcv) != nil || lcv.Index != wantLC {
			t.Fatalf("block %d: LAST_CONFIG slot %v, want %d", n, lcv, wantLC)
		}
	}
}

func TestConsenterRemovalAndAddition(t *testing.T) {
	h := newHarness(t, 4, 3, 10, 50*time.Millisecond)
	startAll(h, 3)
	// The leader itself is removed: the hardest case.
	gone := h.leader()
	var keep []int
	for i := 0; i < 3; i++ {
		if i != gone {
			keep = append(keep, i)
		}
	}
	tr := h.startTraffic(6, keep...)
	tr.waitAcked(30)

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cons := func(idx ...int) []*etcdraft.Consenter {
		var out []*etcdraft.Consenter
		for _, i := range idx {
			out = append(out, toRaftConsenter(h.pki.consenter(i)))
		}
		return out
	}
	id := func(i int) uint64 { return uint64(i + 1) }

	// Two changes at once are refused before anything is proposed.
	b := h.node(keep[0]).chain.Bundle()
	bad := h.pki.configEnvelope(t, b, setConsenters(t, cons(keep[0], 3)))
	if err := h.node(gone).chain.Configure(ctx, bad, b.Sequence()); !errors.Is(err, ErrBadConfig) {
		t.Fatalf("replacing a consenter in one update: %v, want ErrBadConfig", err)
	}

	rm := h.pki.configEnvelope(t, b, setConsenters(t, cons(keep...)))
	if err := h.node(keep[0]).chain.Configure(ctx, rm, b.Sequence()); err != nil {
		t.Fatalf("remove consenter: %v", err)
	}
	removed := h.node(gone)
	select {
	case <-removed.chain.Errored():
	case <-time.After(10 * time.Second):
		t.Fatal("removed consenter did not halt")
	}
	if st := removed.chain.Status(); st.Status != StatusInactive {
		t.Fatalf("removed consenter status %+v", st)
	}
	voters := func(want ...uint64) func() bool {
		slices.Sort(want)
		return func() bool {
			for _, i := range keep {
				n := h.node(i)
				if n == nil || n.chain.raftNode() == nil || !slices.Equal(n.chain.raftNode().Status().Voters, want) {
					return false
				}
			}
			return true
		}
	}
	h.eventually(10*time.Second, "raft voters without the removed leader", voters(id(keep[0]), id(keep[1])))
	tr.waitAcked(30)

	// Add orderer 3 as raft id 4; it joins with the config block.
	b = h.node(keep[0]).chain.Bundle()
	add := h.pki.configEnvelope(t, b, setConsenters(t, cons(keep[0], keep[1], 3)))
	if err := h.node(keep[1]).chain.Configure(ctx, add, b.Sequence()); err != nil {
		t.Fatalf("add consenter: %v", err)
	}
	src := h.node(keep[0])
	h.eventually(5*time.Second, "the update applied", func() bool { return src.chain.Bundle().Sequence() == b.Sequence()+1 })
	joinNum := findBlock(t, src, add)
	join, err := src.store.Block(joinNum)
	if err != nil {
		t.Fatal(err)
	}
	md, err := raftMetadata(join)
	if err != nil || !slices.Equal(md.GetConsenterIds(), []uint64{id(keep[0]), id(keep[1]), 4}) || md.GetNextConsenterId() != 5 {
		t.Fatalf("config block metadata %v (%v), want ids [%d %d 4] next 5", md, err, id(keep[0]), id(keep[1]))
	}
	h.stop(gone)
	h.start(3, join)
	h.eventually(10*time.Second, "raft voters with the new consenter", voters(id(keep[0]), id(keep[1]), 4))
	h.eventually(10*time.Second, "new consenter active", func() bool {
		st := h.node(3).chain.Status()
		return st.Status == StatusActive && st.ConsensusRelation == RelationConsenter && st.RaftID == 4
	})
	tr.waitAcked(30)
	tr.finish()
	// The new consenter orders too.
	tr2 := h.startTraffic(3, 3)
	tr2.waitAcked(10)
	tr2.finish()

	nodes := []*tnode{h.node(keep[0]), h.node(keep[1]), h.node(3)}
	h.converge(joinNum+1, nodes...)
	counts := h.checkIdentical(nodes...)
	tr.check(t, counts)
	tr2.check(t, counts)
	if got := h.node(3).puller.pulled.Load(); got < int64(joinNum) {
		t.Fatalf("joining node pulled %d blocks, want at least %d", got, joinNum)
	}
}

// An orderer that is not a consenter follows by pulling blocks, and turns
// into a consenter when a config block adds it.
func TestFollowerBecomesConsenter(t *testing.T) {
	h := newHarness(t, 4, 3, 10, 50*time.Millisecond)
	startAll(h, 3)
	h.leader()
	h.start(3, nil) // joins with the genesis block, which does not list it
	if st := h.node(3).chain.Status(); st.ConsensusRelation != RelationFollower || st.RaftID != 0 {
		t.Fatalf("follower status %+v", st)
	}
	tr := h.startTraffic(4, 0, 1, 2)
	tr.waitAcked(30)
	h.eventually(5*time.Second, "follower to pull blocks", func() bool { return h.node(3).store.Height() > 2 })

	b := h.node(0).chain.Bundle()
	var cons []*etcdraft.Consenter
	for i := 0; i < 4; i++ {
		cons = append(cons, toRaftConsenter(h.pki.consenter(i)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.node(0).chain.Configure(ctx, h.pki.configEnvelope(t, b, setConsenters(t, cons)), b.Sequence()); err != nil {
		t.Fatal(err)
	}
	h.eventually(10*time.Second, "follower to become consenter 4", func() bool {
		st := h.node(3).chain.Status()
		n := h.node(0).chain.raftNode()
		return st.ConsensusRelation == RelationConsenter && st.RaftID == 4 && st.Status == StatusActive &&
			slices.Equal(n.Status().Voters, []uint64{1, 2, 3, 4})
	})
	tr.waitAcked(30)
	tr.finish()
	nodes := h.running()
	h.converge(2, nodes...)
	tr.check(t, h.checkIdentical(nodes...))
}
