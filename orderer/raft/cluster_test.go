package raft

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// testApp is a replicated list of strings. It refuses entries that do not
// come in increasing index order, so a duplicate or reordered Apply stops
// the node and fails the test.
type testApp struct {
	mu       sync.Mutex
	seq      []string
	last     uint64
	restores int
}

type appState struct {
	Seq  []string
	Last uint64
}

func (a *testApp) apply(c Committed) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c.Index <= a.last {
		return fmt.Errorf("entry %d applied after %d", c.Index, a.last)
	}
	a.seq = append(a.seq, string(c.Data))
	a.last = c.Index
	return nil
}

func (a *testApp) snapshot() ([]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return json.Marshal(appState{a.seq, a.last})
}

func (a *testApp) restore(b []byte) error {
	var s appState
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.seq, a.last = s.Seq, s.Last
	a.restores++
	return nil
}

func (a *testApp) restoreCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.restores
}

func (a *testApp) state() ([]string, uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.seq), a.last
}

type cluster struct {
	t     testing.TB
	net   *memNet
	root  string
	nodes map[uint64]*Node
	apps  map[uint64]*testApp
	tune  func(*Config)
}

func newCluster(t testing.TB, ids []uint64, tune func(*Config)) *cluster {
	c := &cluster{t: t, net: newMemNet(), root: t.TempDir(), nodes: map[uint64]*Node{},
		apps: map[uint64]*testApp{}, tune: tune}
	for _, id := range ids {
		c.start(id, ids, &testApp{})
	}
	t.Cleanup(c.shutdown)
	return c
}

// start runs member id with app, telling raft what app already applied.
func (c *cluster) start(id uint64, peers []uint64, app *testApp) *Node {
	c.t.Helper()
	_, last := app.state()
	cfg := Config{
		ID: id, Peers: peers, Dir: filepath.Join(c.root, fmt.Sprint(id)),
		TickInterval: 10 * time.Millisecond, ElectionTick: 30, HeartbeatTick: 2,
		Transport: c.net.transport(id), AppliedIndex: last,
		Apply: app.apply, Snapshot: app.snapshot, Restore: app.restore,
	}
	if c.tune != nil {
		c.tune(&cfg)
	}
	n, err := Start(cfg)
	if err != nil {
		c.t.Fatalf("start %d: %v", id, err)
	}
	c.nodes[id], c.apps[id] = n, app
	c.net.attach(id, n)
	return n
}

func (c *cluster) stop(id uint64) {
	c.net.detach(id)
	if n := c.nodes[id]; n != nil {
		n.Stop()
		if err := n.Err(); err != nil {
			c.t.Errorf("node %d failed: %v", id, err)
		}
	}
	delete(c.nodes, id)
}

func (c *cluster) shutdown() {
	for id := range c.nodes {
		c.stop(id)
	}
	c.net.close()
}

func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// leader waits until every running member agrees on one running leader.
func (c *cluster) leader() uint64 {
	c.t.Helper()
	var lead uint64
	eventually(c.t, "a leader", func() bool {
		lead = 0
		for id, n := range c.nodes {
			if err := n.Err(); err != nil {
				c.t.Fatalf("node %d failed: %v", id, err)
			}
			s := n.Status()
			if s.Leader == 0 || (lead != 0 && s.Leader != lead) {
				return false
			}
			lead = s.Leader
		}
		return c.nodes[lead] != nil && c.nodes[lead].Status().IsLeader
	})
	return lead
}

// propose submits through member id, retrying while leadership settles.
func (c *cluster) propose(id uint64, data string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		err := c.nodes[id].Propose(ctx, []byte(data))
		if !errors.Is(err, ErrProposalDropped) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// converged waits until every running member applied want entries and
// checks that they applied the same sequence.
func (c *cluster) converged(want int) []string {
	c.t.Helper()
	eventually(c.t, fmt.Sprintf("%d applied entries everywhere", want), func() bool {
		for id, a := range c.apps {
			if c.nodes[id] == nil {
				continue
			}
			if err := c.nodes[id].Err(); err != nil {
				c.t.Fatalf("node %d failed: %v", id, err)
			}
			if seq, _ := a.state(); len(seq) < want {
				return false
			}
		}
		return true
	})
	var ref []string
	var refID uint64
	for id, a := range c.apps {
		if c.nodes[id] == nil {
			continue
		}
		seq, _ := a.state()
		if len(seq) != want {
			c.t.Fatalf("node %d applied %d entries, want %d", id, len(seq), want)
		}
		if ref == nil {
			ref, refID = seq, id
		} else if !slices.Equal(ref, seq) {
			c.t.Fatalf("node %d and node %d applied different sequences:\n%v\n%v", refID, id, ref, seq)
		}
	}
	return ref
}

// checkUnique fails if an entry was applied twice or is missing.
func checkUnique(t testing.TB, seq []string, want map[string]bool) {
	t.Helper()
	seen := map[string]bool{}
	for _, s := range seq {
		if seen[s] {
			t.Fatalf("%q applied twice", s)
		}
		seen[s] = true
	}
	for s := range want {
		if !seen[s] {
			t.Fatalf("%q was acknowledged but never applied", s)
		}
	}
}
