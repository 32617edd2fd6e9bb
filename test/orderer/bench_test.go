package orderer_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"google.golang.org/grpc"

	benchorderer "weft/bench/orderer"
	"weft/test/harness"
)

// BenchmarkBroadcast3Nodes measures a 3-orderer Raft cluster running as
// processes: b.N envelopes of ~1 KiB over 8 concurrent Broadcast streams
// spread over the three orderers, each counted when acknowledged (after
// its block is committed). It reports envelopes/s, blocks/s and the
// acknowledgement latency percentiles.
func BenchmarkBroadcast3Nodes(b *testing.B) {
	const streams, dataBytes = 8, 1024
	o := harness.NewOrderers(b, 3, 3)
	for i := range o.Procs {
		// Production snapshot interval: the harness default of 50 is there
		// to exercise snapshots, not to be measured.
		o.Procs[i].Env = []string{"ORDERER_CONSENSUS_SNAPSHOTEVERY=1000"}
		o.Start(b, i)
	}
	for i := range o.Procs {
		o.Join(b, i, o.Genesis)
	}
	if o.Leader(30*time.Second, []int{0, 1, 2}) < 0 {
		b.Fatal("no leader elected")
	}
	user := o.User1(b)
	var targets []grpc.ClientConnInterface
	for i := range o.Procs {
		targets = append(targets, o.Dial(b, i, user))
	}
	envs, err := benchorderer.Envelopes(o.Channel, user.Signer, b.N, dataBytes)
	if err != nil {
		b.Fatal(err)
	}
	height := func(ctx context.Context) (uint64, error) {
		var best uint64
		for i := range o.Procs {
			h, err := benchorderer.MetricHeight(ctx, http.DefaultClient, o.OpsURL(i), o.Channel)
			if err != nil {
				return 0, err
			}
			best = max(best, h)
		}
		return best, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	b.ResetTimer()
	res, err := benchorderer.Run{Targets: targets, Streams: streams, Height: height}.Do(ctx, envs)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(res.EnvelopesPerSec, "envelopes/s")
	b.ReportMetric(res.BlocksPerSec, "blocks/s")
	b.ReportMetric(float64(res.P50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(res.P99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(res.EnvelopeBytes), "B/envelope")
}
