package cli

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	benchpeer "weft/bench/peer"
)

func TestBenchPeerRejectsBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--duration", "500ms"}, "--duration"},
		{[]string{"--clients", "0"}, "--clients"},
		{[]string{"--window", "0"}, "--window"},
		{[]string{"--clients", "1000", "--window", "1000"}, "in flight"},
		{[]string{"--value-size", "-1"}, "--value-size"},
		{[]string{"--value-size", "1000000"}, "--value-size"},
		{[]string{"--channel", ""}, "--channel"},
		{[]string{"--max-message-count", "0"}, "--max-message-count"},
		{[]string{"--batch-timeout", "soon"}, "--batch-timeout"},
		{[]string{"--args", ",{key}"}, "--args"},
		{[]string{"-o", "yaml"}, "--output"},
		{[]string{"--spec", "network.yaml"}, "--spec"},
		{[]string{"--channel", "other"}, "only mychannel"},
		{[]string{"--data", "/nonexistent/weft-data"}, "--data"},
		{[]string{"--data", "/nonexistent/weft-data", "--spec", "/nonexistent/spec.yaml"}, "--spec"},
		{[]string{"extra"}, "unknown command"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Main(append([]string{"bench"}, c.args...), &out, &errOut)
			if code == 0 || !strings.Contains(errOut.String(), c.want) {
				t.Fatalf("exit %d, stderr %q; want failure mentioning %q", code, errOut.String(), c.want)
			}
			if out.Len() != 0 {
				t.Fatalf("stdout %q on a flag error", out.String())
			}
		})
	}
}

func TestBenchPeerReport(t *testing.T) {
	res := &benchpeer.Result{
		Committed: 2000, Failed: 3, Elapsed: 4 * time.Second, CommittedTPS: 500,
		P50: 40 * time.Millisecond, P99: 120500 * time.Microsecond, Max: 200 * time.Millisecond,
		Endorse: 10 * time.Millisecond, Submit: 20 * time.Millisecond, Commit: 15 * time.Millisecond,
		Blocks: 20, TxPerBlock: 100.15, Errors: []string{"tx a committed as MVCC_READ_CONFLICT"},
	}
	cost := benchpeer.CryptoCost{Sign: 20 * time.Microsecond, Verify: 60 * time.Microsecond}
	f := &benchPeerFlags{channel: "mychannel", clients: 8, window: 4, output: "json"}
	rep, err := newBenchPeerReport(f, "throw-away", "bench", []string{"Org1MSP", "Org2MSP"}, 2, 2, cost, res)
	if err != nil {
		t.Fatal(err)
	}
	shape := benchpeer.Shape{Endorsers: 2, Peers: 2, TxPerBlock: 100.15}
	wantCeiling := 2 / (shape.Signs()*20e-6 + shape.Verifies()*60e-6)
	if math.Abs(rep.CeilingTPS-wantCeiling) > 1e-6 || math.Abs(rep.Efficiency-500/wantCeiling) > 1e-9 {
		t.Fatalf("ceiling %v efficiency %v, want %v and %v", rep.CeilingTPS, rep.Efficiency, wantCeiling, 500/wantCeiling)
	}
	var buf bytes.Buffer
	if err := writeBenchPeer(&buf, "json", rep); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("json %q: %v", buf.String(), err)
	}
	for key, want := range map[string]float64{
		"committed_tps": 500, "p50_ms": 40, "p99_ms": 120.5, "ceiling_tps": wantCeiling, "efficiency": 500 / wantCeiling,
		"committed": 2000, "failed": 3, "clients": 8, "window": 4, "peers": 2, "ecdsa_sign_us": 20, "ecdsa_verify_us": 60,
	} {
		if v, ok := got[key].(float64); !ok || math.Abs(v-want) > 1e-6 {
			t.Errorf("%s = %v, want %v", key, got[key], want)
		}
	}

	buf.Reset()
	if err := writeBenchPeer(&buf, "text", rep); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"500 committed tx/s", "p50 40.0ms, p99 120.5ms", "Org1MSP, Org2MSP", "8 clients × 4 in flight",
		"efficiency:", "MVCC_READ_CONFLICT", "(ECDSA only)"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("text output lacks %q:\n%s", want, buf.String())
		}
	}

	if _, err := newBenchPeerReport(f, "x", "bench", nil, 2, 2, cost, res); err == nil {
		t.Error("report without endorsers accepted")
	}
}

func TestBenchPeerReportCPU(t *testing.T) {
	for _, tc := range []struct {
		name      string
		cpu       benchpeer.CPUTimes
		committed int
		want      map[string]float64
		text      string
	}{
		{"per kind and total", benchpeer.CPUTimes{benchpeer.KindOrderer: 3 * time.Second, benchpeer.KindPeer: 5 * time.Second, benchpeer.KindBench: 2 * time.Second}, 1000,
			map[string]float64{"orderer": 3, "peer": 5, "bench": 2, "total": 10}, "cpu/tx:      10.00ms (bench 2.00, orderer 3.00, peer 5.00)"},
		{"not measured", nil, 1000, nil, ""},
		{"nothing committed", benchpeer.CPUTimes{benchpeer.KindPeer: time.Second}, 0, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &benchPeerReport{}
			r.setCPU(tc.cpu, tc.committed)
			if len(r.CPUMsPerTx) != len(tc.want) {
				t.Fatalf("cpu_ms_per_tx = %v, want %v", r.CPUMsPerTx, tc.want)
			}
			for k, v := range tc.want {
				if math.Abs(r.CPUMsPerTx[k]-v) > 1e-9 {
					t.Errorf("cpu_ms_per_tx[%s] = %v, want %v", k, r.CPUMsPerTx[k], v)
				}
			}
			var buf bytes.Buffer
			if err := writeBenchPeer(&buf, "text", r); err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(buf.String(), "cpu/tx:"); got != (tc.text != "") || !strings.Contains(buf.String(), tc.text) {
				t.Fatalf("text output %q, want the line %q", buf.String(), tc.text)
			}
		})
	}
}
