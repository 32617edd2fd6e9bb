package peer

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"weft/client"
	"weft/gen/network"
	"weft/spec"
)

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	sp := spec.Default()
	if _, err := Open(dir, sp, "mychannel"); err == nil || !strings.Contains(err.Error(), "weft generate") {
		t.Fatalf("empty directory: %v", err)
	}
	if _, err := network.Generate(sp, dir, network.Options{}); err != nil {
		t.Fatal(err)
	}
	n, err := Open(dir, sp, "mychannel")
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Orgs) != 2 || n.MSPID(n.Orgs[1]) != "Org2MSP" || n.Ep != network.DefaultEndpoints() {
		t.Fatalf("orgs %v, endpoints %+v", n.Orgs, n.Ep)
	}
	if _, err := n.Identity(0, "User1"); err != nil {
		t.Errorf("User1: %v", err)
	}
	if _, err := n.Identity(0, "Nobody"); err == nil {
		t.Error("missing user loaded")
	}
	if got := len(n.Nodes()); got != 5 {
		t.Errorf("%d nodes, want 3 orderers and 2 peers", got)
	}
	if _, err := Open(dir, sp, "otherchannel"); err == nil || !strings.Contains(err.Error(), "otherchannel") {
		t.Errorf("unknown channel: %v", err)
	}
	if _, err := Open("", sp, "mychannel"); err == nil {
		t.Error("empty directory name accepted")
	}
}

// TestOpenUpDirectory: a `weft up` directory says its spec and ports.
func TestOpenUpDirectory(t *testing.T) {
	dir := t.TempDir()
	sp := spec.Default()
	sp.Channels[0].Name = "upchannel"
	sp.Chaincodes[0].Channel = "upchannel"
	ep := network.EndpointsFrom(12000)
	if _, err := network.Generate(sp, dir, network.Options{Endpoints: ep}); err != nil {
		t.Fatal(err)
	}
	raw, _ := yaml.Marshal(sp)
	if err := os.WriteFile(filepath.Join(dir, "network.yaml"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	raw, _ = json.Marshal(ep)
	if err := os.WriteFile(filepath.Join(dir, "endpoints.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	n, err := Open(dir, nil, "upchannel")
	if err != nil {
		t.Fatal(err)
	}
	if n.Ep != ep || n.Channel != "upchannel" || len(n.Orgs) != 2 {
		t.Fatalf("endpoints %+v, channel %q, orgs %v", n.Ep, n.Channel, n.Orgs)
	}
	if err := os.WriteFile(filepath.Join(dir, "endpoints.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, nil, "upchannel"); err == nil || !strings.Contains(err.Error(), "endpoints.json") {
		t.Errorf("corrupt endpoints.json: %v", err)
	}
}

func TestStartNetworkNeedsDirAndBinary(t *testing.T) {
	if _, err := StartNetwork(context.Background(), NetworkOptions{Binary: "weft"}); err == nil {
		t.Error("no Dir accepted")
	}
	if _, err := StartNetwork(context.Background(), NetworkOptions{Dir: t.TempDir()}); err == nil {
		t.Error("no Binary accepted")
	}
}

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// weftBinary builds cmd/weft once per test binary.
func weftBinary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		dir, err := os.MkdirTemp("", "weft-bench-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "weft")
		cmd := exec.Command("go", "build", "-o", binary, "./cmd/weft")
		cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return binary
}

// startKV starts a throw-away network with kvcc deployed as "bench".
func startKV(tb testing.TB, profiling bool) (*Network, []*client.Gateway) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := tb.TempDir()
	n, err := StartNetwork(ctx, NetworkOptions{Dir: dir, Binary: weftBinary(tb), Profiling: profiling})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(n.Stop)
	srv, err := DeployKV(ctx, n, "bench", nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(srv.Stop)
	var gws []*client.Gateway
	for _, k := range n.Orgs {
		user, err := n.Identity(k, "User1")
		if err != nil {
			tb.Fatal(err)
		}
		conn, err := n.DialPeer(ctx, k)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { conn.Close() })
		gws = append(gws, &client.Gateway{Conn: conn, Signer: user})
	}
	return n, gws
}

// TestEndToEnd runs a short load against a real network and checks that
// the writes landed on both peers.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a network of processes")
	}
	n, gws := startKV(t, true)
	ctx := context.Background()
	run := Run{
		Gateways: gws, Window: 4, Duration: 2 * time.Second, Channel: n.Channel, Chaincode: "bench",
		Endorsers: []string{"Org1MSP", "Org2MSP"}, Args: Args{Template: DefaultArgs, ValueSize: 10, Prefix: "e2e-"},
		Height: func(ctx context.Context) (uint64, error) { return n.PeerHeight(ctx, n.Orgs[0]) },
	}
	res, err := run.Do(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Committed == 0 || res.Failed != 0 || res.Blocks == 0 {
		t.Fatalf("result %+v", res)
	}
	// Worker 0 wrote key e2e-0-0; both peers must have it, committed.
	for _, g := range gws {
		got, err := g.Evaluate(ctx, n.Channel, "bench", []byte("get"), []byte("e2e-0-0"))
		if err != nil || len(got) != 10 {
			t.Fatalf("get e2e-0-0: %q %v", got, err)
		}
	}
	// A transaction the chaincode refuses fails the run instead of counting.
	bad := run
	bad.Args.Template, bad.Duration = []string{"nosuchfunction"}, 200*time.Millisecond
	if _, err := bad.Do(ctx); err == nil || !strings.Contains(err.Error(), "nosuchfunction") {
		t.Fatalf("refused transaction: %v", err)
	}
	files, err := CaptureCPUProfiles(ctx, n.Nodes(), time.Second, t.TempDir())
	if err != nil || len(files) != 5 {
		t.Fatalf("profiles %v: %v", files, err)
	}
}

// BenchmarkEndToEnd reports committed transactions per second of a
// throw-away network (b.N is the number of 5-second runs).
func BenchmarkEndToEnd(b *testing.B) {
	n, gws := startKV(b, false)
	ctx := context.Background()
	var committed int
	var elapsed time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := Run{
			Gateways: append(append([]*client.Gateway{}, gws...), gws...), Window: 16, Duration: 5 * time.Second,
			Channel: n.Channel, Chaincode: "bench", Endorsers: []string{"Org1MSP", "Org2MSP"},
			Args: Args{Template: DefaultArgs, ValueSize: 100, Prefix: time.Now().Format("150405.000-")},
		}.Do(ctx)
		if err != nil {
			b.Fatal(err)
		}
		committed += res.Committed
		elapsed += res.Elapsed
	}
	b.ReportMetric(float64(committed)/elapsed.Seconds(), "committed_tx/s")
}
