package chain

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"crypto/ecdsa"
	"weft/channelconfig"
	"weft/fabcrypto"
	"weft/msp"
	"weft/wire/common"
)

func startAll(h *harness, n int) {
	for i := 0; i < n; i++ {
		h.start(i, nil)
	}
}

func TestOrderConcurrentAllNodes(t *testing.T) {
	h := newHarness(t, 3, 3, 10, 50*time.Millisecond)
	startAll(h, 3)
	h.leader()

	const workers, per = 15, 30
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked := map[string]bool{}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := h.node(w % 3).chain
			for k := 0; k < per; k++ {
				env := txEnvelope(t, fmt.Sprintf("w%d-%d", w, k))
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				err := c.Order(ctx, env, 0)
				cancel()
				if err != nil {
					t.Errorf("worker %d envelope %d: %v", w, k, err)
					return
				}
				raw, _ := marshal(env)
				mu.Lock()
				acked[string(raw)] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	nodes := h.running()
	height := h.converge(2, nodes...)
	counts := h.checkIdentical(nodes...)
	total := 0
	for raw, n := range counts {
		if !acked[raw] && n > 0 {
			// only the genesis config may be unacknowledged
			b, _ := nodes[0].store.Block(0)
			if string(b.Data.Data[0]) != raw {
				t.Fatalf("block holds an envelope nobody submitted")
			}
			continue
		}
		if n != 1 {
			t.Fatalf("envelope ordered %d times", n)
		}
		total++
	}
	if total != workers*per {
		t.Fatalf("%d envelopes in blocks, %d acknowledged", total, workers*per)
	}
	// MaxMessageCount 10 bounds every block.
	for n := uint64(1); n < height; n++ {
		b, _ := nodes[0].store.Block(n)
		if l := len(b.Data.Data); l == 0 || l > 10 {
			t.Fatalf("block %d holds %d envelopes", n, l)
		}
		if lc, _ := channelconfig.LastConfigIndex(b); lc != 0 {
			t.Fatalf("block %d: last config %d, want 0", n, lc)
		}
	}
	t.Logf("%d envelopes in %d blocks", total, height-1)

	// Every block is signed by one of the orderers, over Fabric's message.
	for n := uint64(1); n < height; n++ {
		b, _ := nodes[1].store.Block(n)
		if _, err := verifyBlockSignature(b, h.pki.signers); err != nil {
			t.Fatalf("block %d: %v", n, err)
		}
	}
	b, _ := nodes[1].store.Block(height - 1)
	b.Header.DataHash = append([]byte{1}, b.Header.DataHash[1:]...)
	if _, err := verifyBlockSignature(b, h.pki.signers); err == nil {
		t.Fatal("signature verified over a tampered header")
	}
}

// verifyBlockSignature checks the SIGNATURES metadata the way a Fabric
// peer's block validation does and returns the index of the signer.
func verifyBlockSignature(b *common.Block, signers []*msp.SigningIdentity) (int, error) {
	md := &common.Metadata{}
	if err := proto.Unmarshal(b.Metadata.Metadata[common.BlockMetadataIndex_SIGNATURES], md); err != nil {
		return -1, err
	}
	if len(md.Signatures) != 1 {
		return -1, fmt.Errorf("%d signatures", len(md.Signatures))
	}
	sh := &common.SignatureHeader{}
	if err := proto.Unmarshal(md.Signatures[0].SignatureHeader, sh); err != nil {
		return -1, err
	}
	_, cert, err := msp.ParseSerialized(sh.Creator)
	if err != nil {
		return -1, err
	}
	who := -1
	for i, s := range signers {
		if string(s.Serialize()) == string(sh.Creator) {
			who = i
		}
	}
	if who < 0 {
		return -1, fmt.Errorf("signed by an unknown identity")
	}
	msg := append(append(append([]byte{}, md.Value...), md.Signatures[0].SignatureHeader...), channelconfig.BlockHeaderBytes(b.Header)...)
	if err := fabcrypto.Verify(cert.PublicKey.(*ecdsa.PublicKey), msg, md.Signatures[0].Signature); err != nil {
		return -1, err
	}
	return who, nil
}

func TestLeaderFailover(t *testing.T) {
	h := newHarness(t, 3, 3, 10, 50*time.Millisecond)
	startAll(h, 3)
	lead := h.leader()
	tr := h.startTraffic(9, 0, 1, 2)
	tr.waitAcked(50)

	h.stop(lead)
	newLead := h.leader()
	if newLead == lead {
		t.Fatalf("stopped node %d still leads", lead)
	}
	tr.waitAcked(50)
	h.start(lead, nil)
	tr.waitAcked(50)
	tr.finish()

	nodes := h.running()
	h.converge(2, nodes...)
	tr.check(t, h.checkIdentical(nodes...))
}

func TestFollowerRestart(t *testing.T) {
	h := newHarness(t, 3, 3, 10, 50*time.Millisecond)
	startAll(h, 3)
	lead := h.leader()
	f := (lead + 1) % 3
	tr := h.startTraffic(6, 0, 1, 2)
	tr.waitAcked(40)
	h.stop(f)
	tr.waitAcked(40)
	h.start(f, nil)
	tr.waitAcked(40)
	tr.finish()

	nodes := h.running()
	h.converge(2, nodes...)
	tr.check(t, h.checkIdentical(nodes...))
	if st := h.node(f).chain.Status(); st.Status != StatusActive || st.ConsensusRelation != RelationConsenter || st.RaftID != uint64(f+1) {
		t.Fatalf("restarted follower status %+v", st)
	}
}

// A consenter cut off long enough that the others compact their raft log
// catches up from a snapshot, pulling the blocks it lacks.
func TestSnapshotCatchUp(t *testing.T) {
	h := newHarness(t, 3, 3, 5, 30*time.Millisecond)
	startAll(h, 3)
	lead := h.leader()
	f := (lead + 1) % 3
	h.net.isolate(h.pki.tls[f], true)
	before := h.node(f).store.Height()

	tr := h.startTraffic(6, lead)
	tr.waitAcked(200) // >= 40 blocks, well past SnapshotEvery (10)
	tr.finish()
	if got := h.node(f).store.Height(); got != before {
		t.Fatalf("isolated node grew from %d to %d", before, got)
	}
	h.net.isolate(h.pki.tls[f], false)

	nodes := h.running()
	h.converge(before+40, nodes...)
	tr.check(t, h.checkIdentical(nodes...))
	if h.node(f).puller.pulled.Load() == 0 {
		t.Fatal("the lagging node caught up without pulling blocks: no snapshot was used")
	}
}

// The same envelope submitted many times, concurrently and after it was
// committed, through every node, is ordered once and every call succeeds.
func TestDuplicateSubmissions(t *testing.T) {
	h := newHarness(t, 3, 3, 10, 50*time.Millisecond)
	startAll(h, 3)
	h.leader()
	env := txEnvelope(t, "dup")
	submitAll := func() {
		var wg sync.WaitGroup
		for i := 0; i < 12; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if err := h.node(i%3).chain.Order(ctx, proto.Clone(env).(*common.Envelope), 0); err != nil {
					t.Errorf("submission %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
	}
	submitAll()
	submitAll()
	nodes := h.running()
	h.converge(2, nodes...)
	raw, _ := marshal(env)
	if n := h.checkIdentical(nodes...)[string(raw)]; n != 1 {
		t.Fatalf("envelope ordered %d times", n)
	}
}
