// Package orderer_test runs weft orderers as separate processes on
// loopback and checks the ordering service's guarantees: every
// acknowledged envelope is in exactly one block, in byte-identical blocks
// on every orderer, through leader and follower crashes (SIGKILL) and
// consenter set changes.
package orderer_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"weft/test/harness"
	"weft/wire/common"
)

// traffic keeps clients broadcasting to the running orderers and records
// which envelopes were acknowledged. An envelope whose stream failed is
// sent again to another orderer, as a client would, so the orderers'
// duplicate suppression is exercised too.
type traffic struct {
	o       *harness.Orderers
	id      *harness.Identity
	targets func() []int

	mu    sync.Mutex
	acked map[[32]byte]bool
	sent  int
	stop  chan struct{}
	wg    sync.WaitGroup
}

func startTraffic(t *testing.T, o *harness.Orderers, clients int, targets func() []int) *traffic {
	tr := &traffic{o: o, id: o.User1(t), targets: targets, acked: map[[32]byte]bool{}, stop: make(chan struct{})}
	for c := 0; c < clients; c++ {
		tr.wg.Add(1)
		go tr.client(t, c)
	}
	return tr
}

func (tr *traffic) client(t *testing.T, c int) {
	defer tr.wg.Done()
	for round := 0; ; round++ {
		select {
		case <-tr.stop:
			return
		default:
		}
		var batch []*common.Envelope
		for k := 0; k < 20; k++ {
			env, err := harness.Envelope(tr.o.Channel, tr.id.Signer, []byte(fmt.Sprintf("client %d round %d tx %d", c, round, k)))
			if err != nil {
				t.Error(err)
				return
			}
			batch = append(batch, env)
		}
		tr.send(t, c+round, batch)
	}
}

// send retries the unacknowledged part of batch on other orderers until
// everything is acknowledged or traffic stops.
func (tr *traffic) send(t *testing.T, start int, batch []*common.Envelope) {
	for attempt := 0; len(batch) > 0; attempt++ {
		targets := tr.targets()
		i := targets[(start+attempt)%len(targets)]
		if !tr.o.Procs[i].Running() {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		conn, err := tr.dial(ctx, i)
		var statuses []common.Status
		if err == nil {
			statuses, _, _ = harness.Broadcast(ctx, conn, batch, 20)
			conn.Close()
		}
		cancel()
		var rest []*common.Envelope
		for k, env := range batch {
			if k < len(statuses) && statuses[k] == common.Status_SUCCESS {
				h, _ := harness.EnvelopeHash(env)
				tr.mu.Lock()
				tr.acked[h] = true
				tr.mu.Unlock()
			} else {
				rest = append(rest, env)
			}
		}
		tr.mu.Lock()
		tr.sent += len(batch) - len(rest)
		tr.mu.Unlock()
		batch = rest
		if len(batch) > 0 {
			select {
			case <-tr.stop:
				return // unacknowledged envelopes may or may not be ordered
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

func (tr *traffic) dial(ctx context.Context, i int) (*grpc.ClientConn, error) {
	return tr.o.DialContext(ctx, i, tr.id)
}

func (tr *traffic) Stop() map[[32]byte]bool {
	close(tr.stop)
	tr.wg.Wait()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.acked
}

func (tr *traffic) count() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.sent
}

// waitProgress waits until n more envelopes have been acknowledged.
func (tr *traffic) waitProgress(t *testing.T, n int, timeout time.Duration) {
	t.Helper()
	target := tr.count() + n
	deadline := time.Now().Add(timeout)
	for tr.count() < target {
		if time.Now().After(deadline) {
			t.Fatalf("traffic stalled: %d acknowledged, wanted %d within %v", tr.count(), target, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkLedgers fetches every block from each listed orderer, checks they
// are byte-identical and hash-linked, and that every acknowledged envelope
// appears exactly once (and no envelope twice).
func checkLedgers(t *testing.T, o *harness.Orderers, nodes []int, acked map[[32]byte]bool) uint64 {
	t.Helper()
	id := o.User1(t)
	var height uint64
	// Wait for every node to reach the same height (nothing is in flight).
	deadline := time.Now().Add(60 * time.Second)
	for {
		var hs []float64
		same := true
		for _, i := range nodes {
			hs = append(hs, o.Metric(i, "ledger_blockchain_height"))
			if hs[len(hs)-1] != hs[0] || hs[0] <= 0 {
				same = false
			}
		}
		if same {
			time.Sleep(500 * time.Millisecond) // and stays there
			if o.Metric(nodes[0], "ledger_blockchain_height") == hs[0] {
				height = uint64(hs[0])
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("heights never converged: %v", hs)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var ref [][]byte
	for n, i := range nodes {
		blocks := o.Blocks(t, i, id, height)
		if uint64(len(blocks)) != height {
			t.Fatalf("%s returned %d blocks, want %d", o.Procs[i].Name, len(blocks), height)
		}
		for k, b := range blocks {
			raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(b)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				ref = append(ref, raw)
			} else if !bytes.Equal(ref[k], raw) {
				t.Fatalf("block %d differs between %s and %s", k, o.Procs[nodes[0]].Name, o.Procs[i].Name)
			}
		}
		if n == 0 {
			seen := map[[32]byte]int{}
			for _, b := range blocks {
				for _, h := range harness.BlockEnvelopes(b) {
					seen[h]++
				}
			}
			for h, c := range seen {
				if c > 1 {
					t.Errorf("envelope %x appears %d times", h[:6], c)
				}
			}
			missing := 0
			for h := range acked {
				if seen[h] != 1 {
					missing++
				}
			}
			if missing > 0 {
				t.Errorf("%d of %d acknowledged envelopes are not in the ledger exactly once", missing, len(acked))
			}
		}
	}
	t.Logf("%d nodes agree on %d byte-identical blocks holding all %d acknowledged envelopes", len(nodes), height, len(acked))
	return height
}
