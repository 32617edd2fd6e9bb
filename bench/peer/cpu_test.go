package peer

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"weft/gen/network"
	"weft/spec"
)

func TestParseStatCPU(t *testing.T) {
	// 52 fields as Linux writes them; utime 250 and stime 31 ticks.
	rest := " S 1 2 3 0 -1 4194560 100 0 0 0 250 31 0 0 20 0 7 0 12345 1000 200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0"
	for _, tc := range []struct {
		name, stat string
		want       time.Duration
		err        string
	}{
		{"plain name", "42 (weft)" + rest, 2810 * time.Millisecond, ""},
		{"name with spaces and parens", "42 (a) b (c)" + rest, 2810 * time.Millisecond, ""},
		{"no command name", "42 weft S 1 2", 0, "no ')'"},
		{"truncated", "42 (weft) S 1 2 3", 0, "fields after the command name"},
		{"utime not a number", "42 (weft) S 1 2 3 0 -1 4194560 100 0 0 0 x 31", 0, `utime/stime "x"`},
		{"negative stime", "42 (weft) S 1 2 3 0 -1 4194560 100 0 0 0 250 -1", 0, `utime/stime "-1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatCPU(tc.stat)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("parseStatCPU = %s, %v; want %s", got, err, tc.want)
			}
		})
	}
}

func TestCPUTimesSub(t *testing.T) {
	before := CPUTimes{KindBench: time.Second, KindPeer: 2 * time.Second}
	after := CPUTimes{KindBench: 3 * time.Second, KindPeer: 5 * time.Second, KindOrderer: time.Second}
	got := after.Sub(before)
	if len(got) != 2 || got[KindBench] != 2*time.Second || got[KindPeer] != 3*time.Second {
		t.Fatalf("Sub = %v; want bench 2s, peer 3s and no orderer (not in the earlier sample)", got)
	}
}

func TestSampleCPUSelfAndPidFiles(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc on this system")
	}
	dir := t.TempDir()
	n, err := describe(dir, spec.Default(), network.DefaultEndpoints(), "mychannel")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir+"/run", 0o755); err != nil {
		t.Fatal(err)
	}
	self := []byte(strconv.Itoa(os.Getpid()))
	host := n.Spec.OrdererHosts()[0]
	for name, body := range map[string][]byte{host: self, "basic_1.0": self, "stale": []byte("999999999"), "junk": []byte("nope")} {
		if err := os.WriteFile(dir+"/run/"+name+".pid", body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Burn a little CPU so this process's time is above zero ticks.
	for end := time.Now().Add(30 * time.Millisecond); time.Now().Before(end); {
	}
	got, err := n.SampleCPU()
	if err != nil {
		t.Fatal(err)
	}
	if got[KindBench] <= 0 {
		t.Fatalf("bench CPU %s, want > 0", got[KindBench])
	}
	// Both pid files name this process, read after it was sampled as bench.
	if got[KindOrderer] < got[KindBench] || got[KindChaincode] < got[KindBench] {
		t.Fatalf("orderer %s and chaincode %s (both this process) are below bench %s", got[KindOrderer], got[KindChaincode], got[KindBench])
	}
	if _, ok := got[KindPeer]; ok {
		t.Fatalf("peer CPU %s reported without a peer pid file", got[KindPeer])
	}
}
