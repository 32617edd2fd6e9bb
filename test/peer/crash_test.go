package peer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"weft/client"
	"weft/ledger/statedb"
	"weft/peer/channel"
	"weft/test/harness"
	"weft/wire/peer"
)

// crashLoad is the submit load of TestPeerCrashRecovery. Every worker owns
// its assets and updates them one after the other. UpdateAsset reads the
// asset, so a transaction whose outcome the client did not learn (the peer
// died under it) cannot commit after a later one that succeeded: it would
// fail MVCC. The value of the last acknowledged update is therefore what
// every peer must hold at the end.
type crashLoad struct {
	d       *harness.Deployment
	gws     []*client.Gateway // by org
	org1MSP string
	// org2Down makes org1's workers endorse with org1 alone (committed as
	// ENDORSEMENT_POLICY_FAILURE, so blocks keep coming while org2's peer
	// is away) and org2's workers pause.
	org2Down atomic.Bool
	stop     atomic.Bool

	mu       sync.Mutex
	expected map[string]string // asset → owner of its last acknowledged write
	// hot is updated by every worker now and then, for MVCC conflicts; its
	// final owner must be one of the acknowledged ones.
	hot      map[string]bool
	ok, fail int
	policyNo int // org1-only transactions committed as ENDORSEMENT_POLICY_FAILURE
	firstErr map[string]string
}

func (l *crashLoad) record(asset, owner string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil {
		l.ok++
		if asset == hotAsset {
			l.hot[owner] = true
		} else {
			l.expected[asset] = owner
		}
		return
	}
	l.fail++
	msg := err.Error()
	if strings.Contains(msg, "committed as ENDORSEMENT_POLICY_FAILURE") {
		l.policyNo++
	}
	// Keep one example of each kind of failure for the log.
	kind := txIDs.ReplaceAllString(msg, "…")
	if i := strings.Index(kind, " desc = "); i > 0 {
		kind = kind[:i]
	}
	if _, seen := l.firstErr[kind]; !seen && len(l.firstErr) < 12 {
		l.firstErr[kind] = msg
	}
}

func (l *crashLoad) counts() (ok, fail, policyNo int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ok, l.fail, l.policyNo
}

const hotAsset = "crash-hot"

// txIDs matches transaction ids and block numbers, which make every error
// message different.
var txIDs = regexp.MustCompile(`[0-9a-f]{64}|block \d+`)

// worker w submits through its org's gateway until stopped.
func (l *crashLoad) worker(ctx context.Context, w, org int) {
	asset := fmt.Sprintf("crash-w%d", w)
	created := false
	for seq := 0; !l.stop.Load() && ctx.Err() == nil; seq++ {
		down := l.org2Down.Load()
		if down && org == 1 {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		var orgs []string
		if down {
			orgs = []string{l.org1MSP}
		}
		owner := fmt.Sprintf("w%d-%d", w, seq)
		fn, target := "UpdateAsset", asset
		switch {
		case !created:
			fn = "CreateAsset"
		case seq%3 == 0:
			target = hotAsset
		}
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		_, _, err := l.gws[org].Submit(cctx, harness.Channel, "basic", orgs, []byte(fn), []byte(target), []byte("blue"), []byte(fmt.Sprint(seq)), []byte(owner))
		cancel()
		if fn == "CreateAsset" && (err == nil || strings.Contains(err.Error(), "already exists")) {
			created = true
		}
		if fn == "CreateAsset" && err != nil {
			continue // outcome of a create is settled by the next try
		}
		l.record(target, owner, err)
		if err != nil {
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func TestPeerCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a network of processes")
	}
	// Build first: ports are checked free when the network is generated,
	// and the build would widen the window in which others can take them.
	harness.Binary(t)
	nw := harness.NewNetwork(t)
	nw.StartOrderers(t)
	nw.StartPeers(t)
	d := harness.DeployBasic(t, nw)
	org2 := nw.Peers[1] // peers are in spec order: org 0's, then org 1's
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	l := &crashLoad{d: d, org1MSP: d.MSPIDs[0], expected: map[string]string{}, hot: map[string]bool{"initial": true}, firstErr: map[string]string{}}
	l.gws = []*client.Gateway{d.User(t, nw, 0), d.User(t, nw, 1)}
	if _, _, err := l.gws[0].Submit(ctx, harness.Channel, "basic", nil, []byte("CreateAsset"), []byte(hotAsset), []byte("red"), []byte("1"), []byte("initial")); err != nil {
		t.Fatalf("create %s: %v", hotAsset, err)
	}
	var wg sync.WaitGroup
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func() { defer wg.Done(); l.worker(ctx, w, w%2) }()
	}
	stopLoad := func() { l.stop.Store(true); wg.Wait() }
	defer stopLoad()

	// progress waits until n more transactions were acknowledged.
	progress := func(what string, n int) {
		t.Helper()
		start, _, _ := l.counts()
		deadline := time.Now().Add(30 * time.Second)
		for {
			ok, _, _ := l.counts()
			if ok >= start+n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d acknowledged transactions in 30s, want %d\nfailures: %v", what, ok-start, n, l.firstErr)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	restart := func() {
		t.Helper()
		org2.Start(t)
		nw.WaitPeerHealthy(t, 1, 0, 30*time.Second)
		checkRestarted(t, org2)
	}
	kill := func(moment string) {
		t.Helper()
		org2.Kill()
		t.Logf("SIGKILL org2's peer %s; org1 height %v", moment, nw.PeerHeight(0, 0))
	}

	progress("load before the first crash", 10)

	// Crash 1: in the middle of committing under load. Org1 carries on
	// alone, its transactions ordered but invalid for lack of org2.
	l.org2Down.Store(true)
	kill("under load")
	before := nw.PeerHeight(0, 0)
	nw.WaitHeight(t, 0, 0, before+3, 30*time.Second)

	// Crash 2: right after a restart, while the peer replays and pulls the
	// blocks it missed.
	restart()
	time.Sleep(150 * time.Millisecond)
	h2 := nw.PeerHeight(1, 0)
	kill(fmt.Sprintf("while catching up (its height %v)", h2))
	nw.WaitHeight(t, 0, 0, nw.PeerHeight(0, 0)+2, 30*time.Second)

	restart()
	l.org2Down.Store(false)
	progress("load after the second restart", 10)

	// Crash 3: under full load again, both orgs endorsing.
	kill("under full load")
	l.org2Down.Store(true)
	nw.WaitHeight(t, 0, 0, nw.PeerHeight(0, 0)+2, 30*time.Second)
	restart()
	l.org2Down.Store(false)
	progress("load after the last restart", 10)
	stopLoad()

	// Both peers must reach the same height, then stop cleanly.
	var h1 float64
	deadline := time.Now().Add(30 * time.Second)
	for {
		h1 = nw.PeerHeight(0, 0)
		if h1 > 0 && nw.PeerHeight(1, 0) == h1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("heights differ after 30s: org1 %v, org2 %v", h1, nw.PeerHeight(1, 0))
		}
		time.Sleep(100 * time.Millisecond)
	}
	nw.Peers[0].Stop()
	org2.Stop()

	ok, fail, policyNo := l.counts()
	t.Logf("load: %d acknowledged, %d failed (%d committed as ENDORSEMENT_POLICY_FAILURE); height %v", ok, fail, policyNo, h1)
	for k, v := range l.firstErr {
		t.Logf("failure kind %q: %s", k, v)
	}
	if policyNo == 0 {
		t.Error("no org1-only transaction was committed while org2's peer was down; the outage was not exercised")
	}

	snaps := make([]*harness.LedgerSnapshot, 2)
	for p := range snaps {
		s, err := harness.ReadLedger(nw.PeerLedgerDir(p))
		if err != nil {
			t.Fatalf("peer %d ledger: %v", p, err)
		}
		snaps[p] = s
		t.Logf("peer %d: height %d, savepoint %d, namespaces %v, %d keys, state hash %x, codes %v", p, s.Height, s.Savepoint, s.Namespaces, s.Keys, s.StateHash, s.Codes)
	}
	if float64(snaps[0].Height) != h1 {
		t.Errorf("org1 ledger height %d, metrics said %v", snaps[0].Height, h1)
	}
	if snaps[0].Savepoint+1 != snaps[0].Height {
		t.Errorf("org1 state savepoint %d at height %d", snaps[0].Savepoint, snaps[0].Height)
	}
	for _, diff := range snaps[0].Diff(snaps[1]) {
		t.Errorf("org1 vs org2: %s", diff)
	}
	if snaps[1].Codes[peer.TxValidationCode_ENDORSEMENT_POLICY_FAILURE] == 0 {
		t.Error("org2's ledger holds no ENDORSEMENT_POLICY_FAILURE transaction")
	}
	if snaps[0].Codes[peer.TxValidationCode_MVCC_READ_CONFLICT] == 0 {
		t.Logf("note: no MVCC conflict on %s this run", hotAsset)
	}
	for p := range snaps {
		checkAcknowledged(t, nw.PeerLedgerDir(p), l.expected, l.hot)
	}
}

// checkRestarted makes sure the health check that just passed was answered
// by the restarted peer itself: if it failed to start (its ports taken by
// someone else while it was down), another process answered.
func checkRestarted(t *testing.T, p *harness.Process) {
	t.Helper()
	log := p.Tail(400)
	if i := strings.LastIndex(log, "===== start"); i < 0 || !p.Running() || !strings.Contains(log[i:], "peer started") {
		t.Fatalf("%s did not come back up (running: %v):\n%s", p.Name, p.Running(), p.Tail(20))
	}
}

// checkAcknowledged verifies that every asset holds the owner of its last
// acknowledged update in the state database in dir, and the hot asset one
// of the acknowledged owners.
func checkAcknowledged(t *testing.T, dir string, expected map[string]string, hot map[string]bool) {
	t.Helper()
	db, err := statedb.Open(filepath.Join(dir, channel.StateDBFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if len(expected) == 0 {
		t.Fatal("no acknowledged updates to check")
	}
	owner := func(asset string) string {
		vv, err := db.Get("basic", asset)
		if err != nil || vv == nil {
			t.Errorf("%s: asset %s: %v, %v", dir, asset, vv, err)
			return ""
		}
		var a struct{ Owner string }
		if err := json.Unmarshal(vv.Value, &a); err != nil {
			t.Errorf("%s: asset %s: %s: %v", dir, asset, vv.Value, err)
		}
		return a.Owner
	}
	for asset, want := range expected {
		if got := owner(asset); got != want {
			t.Errorf("%s: asset %s owned by %q, want %q (last acknowledged write)", dir, asset, got, want)
		}
	}
	if got := owner(hotAsset); !hot[got] {
		t.Errorf("%s: asset %s owned by %q, which no acknowledged write set", dir, hotAsset, got)
	}
}
