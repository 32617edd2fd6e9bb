package chain

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// traffic submits envelopes from several workers like clients would: an
// envelope that fails is retried (same bytes) at another orderer until it
// is acknowledged.
type traffic struct {
	h     *harness
	mu    sync.Mutex
	acked map[string]bool
	sent  map[string]bool
	stop  chan struct{}
	wg    sync.WaitGroup
}

func (h *harness) startTraffic(workers int, nodes ...int) *traffic {
	tr := &traffic{h: h, acked: map[string]bool{}, sent: map[string]bool{}, stop: make(chan struct{})}
	for w := 0; w < workers; w++ {
		tr.wg.Add(1)
		go tr.worker(w, nodes)
	}
	return tr
}

func (tr *traffic) worker(w int, nodes []int) {
	defer tr.wg.Done()
	for k := 0; ; k++ {
		select {
		case <-tr.stop:
			return
		default:
		}
		env := txEnvelope(tr.h.t, fmt.Sprintf("w%d-%d", w, k))
		raw, err := marshal(env)
		if err != nil {
			tr.h.t.Error(err)
			return
		}
		tr.mu.Lock()
		tr.sent[string(raw)] = true
		tr.mu.Unlock()
		for attempt := 0; attempt < 100; attempt++ {
			n := tr.h.node(nodes[(w+attempt)%len(nodes)])
			if n == nil {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			err := n.chain.Order(ctx, env, 0)
			cancel()
			if err == nil {
				tr.mu.Lock()
				tr.acked[string(raw)] = true
				tr.mu.Unlock()
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func (tr *traffic) finish() {
	close(tr.stop)
	tr.wg.Wait()
}

func (tr *traffic) ackedCount() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return len(tr.acked)
}

// waitAcked waits until at least n more envelopes have been acknowledged.
func (tr *traffic) waitAcked(n int) {
	tr.h.t.Helper()
	target := tr.ackedCount() + n
	tr.h.eventually(20*time.Second, fmt.Sprintf("%d acknowledged envelopes", target), func() bool { return tr.ackedCount() >= target })
}

// check verifies exactly-once: every acknowledged envelope is in exactly
// one block and no envelope appears twice.
func (tr *traffic) check(t testing.TB, counts map[string]int) {
	t.Helper()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if len(tr.acked) == 0 {
		t.Fatal("no envelope was acknowledged")
	}
	for raw := range tr.acked {
		if counts[raw] != 1 {
			t.Fatalf("acknowledged envelope ordered %d times", counts[raw])
		}
	}
	for raw, n := range counts {
		if n > 1 {
			t.Fatalf("envelope ordered %d times (sent by traffic: %v)", n, tr.sent[raw])
		}
	}
	t.Logf("%d envelopes sent, %d acknowledged", len(tr.sent), len(tr.acked))
}
