package runner_test

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"weft/test/harness"
)

// BenchmarkUp measures the main job as a user meets it: `weft up -d` on
// the default spec until the chaincode is committed, then the first
// committed transaction; cold (new data directory) and warm (`weft stop`
// then `weft start` on the same data). Compiling weft is excluded.
//
//	go test -run '^$' -bench BenchmarkUp -benchtime 1x ./test/runner
func BenchmarkUp(b *testing.B) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	bin := harness.Binary(b)
	run := func(args ...string) time.Duration {
		start := time.Now()
		cmd := exec.Command(bin, args...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("weft %v: %v\n%s", args, err, out)
		}
		return time.Since(start)
	}
	var cold, coldTx, warm, warmTx time.Duration
	for i := 0; i < b.N; i++ {
		data := filepath.Join(b.TempDir(), "data")
		cold += run("up", "-d", "--data", data, "--base-port", "47050")
		coldTx += run("chaincode", "invoke", "--data", data, "-n", "basic", "-c", `{"Args":["InitLedger"]}`)
		run("stop", "--data", data)
		warm += run("start", "--data", data)
		warmTx += run("chaincode", "invoke", "--data", data, "-n", "basic", "-c", `{"Args":["CreateAsset","a9","red","1","Ann","5"]}`)
		run("down", "--data", data)
	}
	n := float64(b.N)
	b.ReportMetric(cold.Seconds()/n, "cold_up_s")
	b.ReportMetric((cold+coldTx).Seconds()/n, "cold_first_tx_s")
	b.ReportMetric(warm.Seconds()/n, "warm_up_s")
	b.ReportMetric((warm+warmTx).Seconds()/n, "warm_first_tx_s")
}
