package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	benchorderer "weft/bench/orderer"
)

func TestBenchOrdererRejectsBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--envelopes", "0"}, "--envelopes"},
		{[]string{"--clients", "-1"}, "--clients"},
		{[]string{"--size", "-5"}, "--size"},
		{[]string{"--size", "2000000"}, "AbsoluteMaxBytes"},
		{[]string{"--orderers", "0"}, "--orderers"},
		{[]string{"--window", "0"}, "--window"},
		{[]string{"--max-message-count", "0"}, "--max-message-count"},
		{[]string{"--batch-timeout", "soon"}, "--batch-timeout"},
		{[]string{"--batch-timeout", "-1s"}, "--batch-timeout"},
		{[]string{"-o", "yaml"}, "--output"},
		{[]string{"extra"}, "unknown command"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Main(append([]string{"bench", "orderer"}, c.args...), &out, &errOut)
			if code == 0 || !strings.Contains(errOut.String(), c.want) {
				t.Fatalf("exit %d, stderr %q; want failure mentioning %q", code, errOut.String(), c.want)
			}
			if out.Len() != 0 {
				t.Fatalf("stdout %q on a flag error", out.String())
			}
		})
	}
}

func TestBenchOrdererOutput(t *testing.T) {
	res := &benchorderer.Result{
		Envelopes: 5000, Streams: 8, EnvelopeBytes: 2058, Elapsed: 4 * time.Second,
		EnvelopesPerSec: 1250, Blocks: 100, BlocksPerSec: 25,
		P50: 350 * time.Millisecond, P99: 700500 * time.Microsecond, Max: time.Second,
	}
	f := &benchOrdererFlags{maxMessageCount: 50, batchTimeout: "200ms", output: "json"}
	var buf bytes.Buffer
	if err := writeBenchOrderer(&buf, f, 3, res); err != nil {
		t.Fatal(err)
	}
	var got benchOrdererReport
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("json output %q: %v", buf.String(), err)
	}
	want := benchOrdererReport{Orderers: 3, MaxMessageCount: 50, BatchTimeout: "200ms", Envelopes: 5000, Clients: 8,
		EnvelopeBytes: 2058, ElapsedSeconds: 4, EnvelopesPerSec: 1250, Blocks: 100, BlocksPerSec: 25,
		P50Millis: 350, P99Millis: 700.5, MaxMillis: 1000}
	if got != want {
		t.Fatalf("json report %+v, want %+v", got, want)
	}

	f.output = "text"
	buf.Reset()
	if err := writeBenchOrderer(&buf, f, 3, res); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"1250 envelopes/s", "25.0 blocks/s (100 blocks)", "p50 350.0ms", "p99 700.5ms", "2058 bytes over 8 streams"} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("text report lacks %q:\n%s", s, buf.String())
		}
	}
}
