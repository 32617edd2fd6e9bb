package raft

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"
)

var three = []uint64{1, 2, 3}

func TestProposalsFromEveryNodeApplyInOneOrder(t *testing.T) {
	c := newCluster(t, three, nil)
	c.leader()
	acked := map[string]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, id := range three {
		n, app := c.nodes[id], c.apps[id]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 30; i++ {
				d := fmt.Sprintf("n%d-%d", id, i)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				err := n.Propose(ctx, []byte(d))
				cancel()
				if err != nil {
					t.Errorf("node %d propose %s: %v", id, d, err)
					return
				}
				// Propose returns only after the local Apply.
				if seq, _ := app.state(); !contains(seq, d) {
					t.Errorf("node %d: %s acknowledged before it was applied", id, d)
				}
				mu.Lock()
				acked[d] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	checkUnique(t, c.converged(90), acked)
}

func contains(seq []string, s string) bool {
	for _, x := range seq {
		if x == s {
			return true
		}
	}
	return false
}

func TestLeaderFailoverAndRestartFromWAL(t *testing.T) {
	c := newCluster(t, three, nil)
	acked := map[string]bool{}
	propose := func(via uint64, tag string, n int) {
		t.Helper()
		for i := 0; i < n; i++ {
			d := fmt.Sprintf("%s-%d", tag, i)
			if err := c.propose(via, d); err != nil {
				t.Fatalf("propose %s via %d: %v", d, via, err)
			}
			acked[d] = true
		}
	}
	old := c.leader()
	propose(old, "before", 20)
	c.converged(20)

	app := c.apps[old]
	c.stop(old)
	lead := c.leader()
	if lead == old {
		t.Fatalf("stopped node %d still leads", old)
	}
	propose(lead, "after", 20)

	// Restart with the application state kept (as a block store would
	// keep it): the WAL brings the node up to date without re-applying.
	c.start(old, three, app)
	seq := c.converged(40)
	checkUnique(t, seq, acked)
	if app.restoreCount() != 0 {
		t.Fatalf("restart used a snapshot (%d restores), want WAL replay", app.restoreCount())
	}

	// Restart a member with an empty application and AppliedIndex 0:
	// everything is applied again from its WAL, in the same order.
	f := c.leader()%3 + 1
	c.stop(f)
	fresh := &testApp{}
	c.start(f, three, fresh)
	propose(c.leader(), "late", 5)
	checkUnique(t, c.converged(45), acked)
}

func TestLaggingFollowerCatchesUpBySnapshot(t *testing.T) {
	c := newCluster(t, three, func(cfg *Config) {
		cfg.SnapshotEvery = 20
		cfg.WALSegmentSize = 2048
	})
	lead := c.leader()
	lag := lead%3 + 1
	c.net.setCut(lag, true)
	acked := map[string]bool{}
	for i := 0; i < 150; i++ {
		d := fmt.Sprintf("x%d", i)
		if err := c.propose(lead, d); err != nil {
			t.Fatalf("propose %s: %v", d, err)
		}
		acked[d] = true
	}
	first, _ := c.nodes[lead].ms.FirstIndex()
	lagLast, _ := c.nodes[lag].ms.LastIndex()
	if first <= lagLast+1 {
		t.Fatalf("leader log starts at %d, lagging member has %d: no compaction happened", first, lagLast)
	}
	if _, err := os.Stat(filepath.Join(c.root, fmt.Sprint(lead), "wal", segName(0))); !os.IsNotExist(err) {
		t.Fatalf("first wal segment of the leader was not released after snapshots (stat: %v)", err)
	}
	c.net.setCut(lag, false)
	checkUnique(t, c.converged(150), acked)
	if c.apps[lag].restoreCount() == 0 {
		t.Fatal("lagging member caught up without a snapshot")
	}

	// With its application state lost it restarts from its own snapshot
	// (Restore at start) plus the WAL entries after it.
	c.stop(lag)
	fresh := &testApp{}
	c.start(lag, three, fresh)
	if fresh.restoreCount() != 1 {
		t.Fatalf("restart restored %d snapshots, want 1", fresh.restoreCount())
	}
	if err := c.propose(c.leader(), "y"); err != nil {
		t.Fatal(err)
	}
	c.converged(151)
}

func TestMembershipChangesWhileProposing(t *testing.T) {
	c := newCluster(t, three, func(cfg *Config) { cfg.SnapshotEvery = 50 })
	lead := c.leader()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked := map[string]bool{}
	proposer := c.nodes[lead]
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			d := fmt.Sprintf("p%d", i)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := proposer.Propose(ctx, []byte(d))
			cancel()
			if err != nil {
				t.Errorf("propose %s: %v", d, err)
				return
			}
			mu.Lock()
			acked[d] = true
			mu.Unlock()
		}
	}()

	c.start(4, nil, &testApp{}) // joins; knows no peers yet
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	add := &raftpb.ConfChange{Type: raftpb.ConfChangeAddNode.Enum(), NodeId: new(uint64(4))}
	if err := c.nodes[lead].ProposeConfChange(ctx, add); err != nil {
		t.Fatalf("add 4: %v", err)
	}
	eventually(t, "node 4 to see itself a voter", func() bool {
		return fmt.Sprint(c.nodes[4].Status().Voters) == "[1 2 3 4]"
	})

	gone := lead%3 + 1 // a follower among the founders
	rm := &raftpb.ConfChange{Type: raftpb.ConfChangeRemoveNode.Enum(), NodeId: new(gone)}
	if err := c.nodes[4].ProposeConfChange(ctx, rm); err != nil { // forwarded by raft
		t.Fatalf("remove %d: %v", gone, err)
	}
	c.stop(gone)
	delete(c.apps, gone)
	time.Sleep(200 * time.Millisecond) // let proposals flow on the new set
	close(stop)
	wg.Wait()
	if t.Failed() {
		return
	}
	mu.Lock()
	n := len(acked)
	mu.Unlock()
	if n < 10 {
		t.Fatalf("only %d proposals went through during the changes", n)
	}
	for id, node := range c.nodes {
		if v := fmt.Sprint(node.Status().Voters); v != fmt.Sprint(without([]uint64{1, 2, 3, 4}, gone)) {
			t.Fatalf("node %d voters %s", id, v)
		}
	}
	checkUnique(t, c.converged(n), acked)
}

func without(ids []uint64, x uint64) []uint64 {
	var out []uint64
	for _, id := range ids {
		if id != x {
			out = append(out, id)
		}
	}
	return out
}

func TestReplacedProposalFailsFast(t *testing.T) {
	c := newCluster(t, three, nil)
	old := c.leader()
	oldNode := c.nodes[old]
	before, _ := oldNode.ms.LastIndex()
	c.net.setCut(old, true)
	res := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		res <- oldNode.Propose(ctx, []byte("orphan"))
	}()
	eventually(t, "the orphan in the old leader's log", func() bool {
		last, _ := oldNode.ms.LastIndex()
		return last > before
	})
	// The isolated leader appended the entry but cannot commit it; the
	// others elect a leader and commit something else at that index.
	others := without(three, old)
	eventually(t, "a new leader among the others", func() bool {
		s := c.nodes[others[0]].Status()
		return s.Leader != 0 && s.Leader != old
	})
	if err := c.propose(others[0], "winner"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-res:
		t.Fatalf("orphaned proposal resolved while isolated: %v", err)
	default:
	}
	c.net.setCut(old, false)
	select {
	case err := <-res:
		if !errors.Is(err, ErrProposalDropped) {
			t.Fatalf("orphaned proposal: %v, want ErrProposalDropped", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("orphaned proposal still waiting")
	}
	seq := c.converged(1)
	if seq[0] != "winner" {
		t.Fatalf("applied %v", seq)
	}
}
