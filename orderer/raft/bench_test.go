package raft

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkPropose3Nodes measures committed-and-applied proposals per
// second on a three-member group over the in-memory transport, with every
// WAL write fsynced. "serial" has one proposal in flight; "parallel" keeps
// many in flight so that each fsync covers a batch.
func BenchmarkPropose3Nodes(b *testing.B) {
	payload := make([]byte, 256)
	for _, mode := range []string{"serial", "parallel"} {
		b.Run(mode, func(b *testing.B) {
			c := newCluster(b, three, nil)
			lead := c.nodes[c.leader()]
			ctx := context.Background()
			var failed atomic.Int64
			b.SetBytes(int64(len(payload)))
			b.ResetTimer()
			start := time.Now()
			if mode == "serial" {
				for i := 0; i < b.N; i++ {
					if err := lead.Propose(ctx, payload); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				b.SetParallelism(64)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := lead.Propose(ctx, payload); err != nil {
							failed.Add(1)
						}
					}
				})
			}
			elapsed := time.Since(start)
			b.StopTimer()
			if f := failed.Load(); f > 0 {
				b.Fatalf("%d proposals failed", f)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "proposals/s")
		})
	}
}
