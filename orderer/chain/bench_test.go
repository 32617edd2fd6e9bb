package chain

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"weft/ledger/blockstore"
	"weft/wire/common"
)

// BenchmarkOrder3Nodes orders b.N envelopes from 400 concurrent clients
// spread over three consenters, with the block stores and raft WALs
// fsyncing.
func BenchmarkOrder3Nodes(b *testing.B) {
	h := newHarness(b, 3, 3, 100, 20*time.Millisecond)
	h.sync = blockstore.SyncEveryAppend
	h.snapEvery = 100
	startAll(h, 3)
	h.leader()
	envs := make([]*common.Envelope, b.N)
	for i := range envs {
		envs[i] = txEnvelope(b, fmt.Sprint("bench-", i))
	}
	start := h.node(0).store.Height()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	t0 := time.Now()
	for w := 0; w < 400; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := h.node(w % 3).chain
			for {
				i := int(next.Add(1)) - 1
				if i >= len(envs) {
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				err := c.Order(ctx, envs[i], 0)
				cancel()
				if err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(t0)
	b.StopTimer()
	var blocks uint64
	for _, n := range h.running() {
		blocks = max(blocks, n.store.Height()-start)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "envelopes/s")
	b.ReportMetric(float64(blocks)/elapsed.Seconds(), "blocks/s")
}
