package orderer_test

import (
	"testing"
	"time"

	"weft/test/harness"
)

func running(o *harness.Orderers, nodes []int) func() []int {
	return func() []int {
		var out []int
		for _, i := range nodes {
			if o.Procs[i].Running() {
				out = append(out, i)
			}
		}
		if len(out) == 0 {
			return nodes
		}
		return out
	}
}

// TestRaftClusterSurvivesCrashesAndMembershipChanges is the ordering
// service's end-to-end test: 3 orderer processes joined through the
// participation API, clients broadcasting throughout, the leader and then
// a follower killed with SIGKILL and restarted, a fourth orderer added and
// the first removed by config updates, and at every checkpoint
// byte-identical blocks holding every acknowledged envelope exactly once.
func TestRaftClusterSurvivesCrashesAndMembershipChanges(t *testing.T) {
	if testing.Short() {
		t.Skip("starts orderer processes")
	}
	o := harness.NewOrderers(t, 4, 3)
	for i := 0; i < 3; i++ {
		o.Start(t, i)
	}
	for i := 0; i < 3; i++ {
		info := o.Join(t, i, o.Genesis)
		if info.Name != "mychannel" || info.ConsensusRelation != "consenter" {
			t.Fatalf("join %d: %+v", i, info)
		}
	}
	core := []int{0, 1, 2}
	leader := o.Leader(30*time.Second, core)
	if leader < 0 {
		t.Fatal("no leader elected")
	}
	tr := startTraffic(t, o, 4, running(o, core))
	tr.waitProgress(t, 300, 60*time.Second)

	// Kill the leader with SIGKILL while clients keep sending.
	o.Procs[leader].Kill()
	t.Logf("killed leader %s", o.Procs[leader].Name)
	tr.waitProgress(t, 300, 60*time.Second)
	if nl := o.Leader(30*time.Second, core); nl < 0 || nl == leader {
		t.Fatalf("no new leader after killing %d (got %d)", leader, nl)
	}
	o.Start(t, leader)

	// Kill a follower.
	follower := (o.Leader(30*time.Second, core) + 1) % 3
	o.Procs[follower].Kill()
	t.Logf("killed follower %s", o.Procs[follower].Name)
	tr.waitProgress(t, 300, 60*time.Second)
	o.Start(t, follower)
	tr.waitProgress(t, 100, 60*time.Second)

	acked := tr.Stop()
	checkLedgers(t, o, core, acked)

	// Membership: add orderer3, then remove orderer0, with traffic flowing.
	tr = startTraffic(t, o, 2, running(o, []int{1, 2}))
	o.ChangeConsenters(t, 1, 3, -1)
	cfgBlock, _ := o.LatestConfig(t, 1)
	o.Start(t, 3)
	o.Join(t, 3, cfgBlock)
	tr.waitProgress(t, 200, 120*time.Second)
	o.ChangeConsenters(t, 1, -1, 0)
	tr.waitProgress(t, 200, 120*time.Second)
	acked2 := tr.Stop()
	for h := range acked {
		acked2[h] = true
	}
	checkLedgers(t, o, []int{1, 2, 3}, acked2)
}
