package runner_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"weft/client"
	"weft/comm"
	"weft/gen/network"
	"weft/msp"
	"weft/test/harness"
)

// shape is the part of the spec the steps change.
type shape struct {
	org1Peers int
	org3      bool // Org3 exists and is on mychannel
	other     bool // channel "other" with Org1 and Org2
	version   string
	sequence  int
}

func (s shape) yaml(ccPath string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `name: steps
orderer:
  org: OrdererOrg
  mspID: OrdererMSP
  domain: example.com
  nodes: 3
  batchTimeout: 500ms
orgs:
  - name: Org1
    domain: org1.example.com
    peers: %d
    users: 1
  - name: Org2
    domain: org2.example.com
    peers: 1
    users: 1
`, s.org1Peers)
	chOrgs := "[Org1, Org2]"
	if s.org3 {
		b.WriteString("  - name: Org3\n    domain: org3.example.com\n    peers: 1\n    users: 1\n")
		chOrgs = "[Org1, Org2, Org3]"
	}
	fmt.Fprintf(&b, "channels:\n  - name: mychannel\n    orgs: %s\n", chOrgs)
	if s.other {
		b.WriteString("  - name: other\n    orgs: [Org1, Org2]\n")
	}
	fmt.Fprintf(&b, "chaincodes:\n  - name: basic\n    channel: mychannel\n    path: %s\n    version: %q\n    sequence: %d\n",
		ccPath, s.version, s.sequence)
	return b.String()
}

// TestUpAppliesSpecChanges changes the spec of a running network step by
// step (a peer, an org, a channel, a chaincode upgrade) and re-runs
// `weft up` after each: the network must follow and keep its data.
func TestUpAppliesSpecChanges(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a network of processes")
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	specPath := filepath.Join(dir, "network.yaml")
	ccPath, err := filepath.Rel(dir, filepath.Join(root, "chaincode", "basic"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range []string{"orderer0.example.com", "peer0.org3.example.com", "peer1.org1.example.com"} {
				if b, err := os.ReadFile(filepath.Join(data, "logs", n+".log")); err == nil {
					t.Logf("--- tail of %s:\n%s", n, tail(string(b), 3000))
				}
			}
		}
		harnessDown(t, data)
	})

	s := shape{org1Peers: 1, version: "1.0", sequence: 1}
	up := func(want ...string) string {
		t.Helper()
		if err := os.WriteFile(specPath, []byte(s.yaml(ccPath)), 0o644); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		out := weft(t, dir, "up", "-d", "-f", specPath, "--data", data, "--base-port", "27050")
		t.Logf("weft up took %v", time.Since(start).Round(100*time.Millisecond))
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Fatalf("weft up output lacks %q:\n%s", w, out)
			}
		}
		return out
	}
	query := func(org, fn string, args ...string) string {
		t.Helper()
		ctor, _ := json.Marshal(map[string][]string{"Args": append([]string{fn}, args...)})
		return weft(t, dir, "chaincode", "query", "--data", data, "-n", "basic", "--org", org, "-c", string(ctor))
	}
	assetKept := func(org, owner string) {
		t.Helper()
		if got := query(org, "ReadAsset", "asset1"); !strings.Contains(got, `"Owner":"`+owner+`"`) {
			t.Fatalf("asset1 via %s: %s, want owner %s", org, got, owner)
		}
	}

	up("sequence 1 committed")
	weft(t, dir, "chaincode", "invoke", "--data", data, "-n", "basic", "-c", `{"Args":["InitLedger"]}`)
	assetKept("Org1", "Tomoko")
	ep := loadEndpoints(t, data)
	l := network.Layout{Dir: data}

	// (1) A second peer for Org1.
	s.org1Peers = 2
	up("peer peer1.org1.example.com joined channel mychannel")
	requireHealthy(t, dir, data, "peer1.org1.example.com")
	sameHeight(t, "mychannel", peerMetrics(ep, 0, 0), peerMetrics(ep, 0, 1))
	if got := evaluateOn(t, l, ep, "org1.example.com", "Org1MSP", 0, 1, "ReadAsset", "asset1"); !strings.Contains(got, `"Owner":"Tomoko"`) {
		t.Fatalf("ReadAsset through peer1.org1: %s", got)
	}
	assetKept("Org2", "Tomoko")

	// (2) Org3 joins mychannel through a config update.
	s.org3 = true
	up("added Org3MSP (config update, block", "peer peer0.org3.example.com joined channel mychannel")
	requireHealthy(t, dir, data, "peer0.org3.example.com")
	sameHeight(t, "mychannel", peerMetrics(ep, 0, 0), peerMetrics(ep, 2, 0))
	assetKept("Org3", "Tomoko")

	// (3) A second channel for Org1 and Org2 only.
	s.other = true
	up("peer peer0.org1.example.com joined channel other", "peer peer1.org1.example.com joined channel other",
		"peer peer0.org2.example.com joined channel other")
	sameHeight(t, "other", peerMetrics(ep, 0, 0), peerMetrics(ep, 0, 1), peerMetrics(ep, 1, 0))
	if h := metric(peerMetrics(ep, 2, 0), "other"); h != -1 {
		t.Fatalf("peer0.org3 has channel other (height %v); Org3 is not on it", h)
	}

	// (4) Chaincode upgrade; the ledger stays and takes new transactions.
	s.version, s.sequence = "2.0", 2
	up("definition version 2.0 sequence 2 committed")
	assetKept("Org1", "Tomoko")
	weft(t, dir, "chaincode", "invoke", "--data", data, "-n", "basic", "-c", `{"Args":["TransferAsset","asset1","Zoe"]}`)
	eventually(t, 20*time.Second, func() error {
		if got := query("Org3", "ReadAsset", "asset1"); !strings.Contains(got, `"Owner":"Zoe"`) {
			return fmt.Errorf("asset1 via Org3: %s", got)
		}
		return nil
	})

	// Nothing left to do: the re-run changes nothing.
	out := up("sequence 2 already committed")
	for _, unwanted := range []string{"joined channel", "config update", "approved", "restarting"} {
		if strings.Contains(out, unwanted) {
			t.Fatalf("idempotent re-run did %q:\n%s", unwanted, out)
		}
	}
}

func harnessDown(t *testing.T, data string) {
	exec.Command(harness.Binary(t), "down", "--data", data).Run()
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func loadEndpoints(t *testing.T, data string) network.Endpoints {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(data, "endpoints.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ep network.Endpoints
	if err := json.Unmarshal(raw, &ep); err != nil {
		t.Fatal(err)
	}
	return ep
}

func requireHealthy(t *testing.T, dir, data, node string) {
	t.Helper()
	var st struct {
		Nodes []struct {
			Name    string `json:"name"`
			Healthy bool   `json:"healthy"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(weft(t, dir, "status", "--data", data, "-o", "json")), &st); err != nil {
		t.Fatal(err)
	}
	for _, n := range st.Nodes {
		if n.Name == node {
			if !n.Healthy {
				t.Fatalf("%s is not healthy", node)
			}
			return
		}
	}
	t.Fatalf("weft status does not list %s", node)
}

func peerMetrics(ep network.Endpoints, k, p int) string {
	return fmt.Sprintf("http://127.0.0.1:%d/metrics", ep.PeerOps(k, p))
}

// metric is the ledger height a node reports for channel; -1 when it has
// no such channel or does not answer.
func metric(url, channel string) float64 {
	resp, err := http.Get(url)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	re := regexp.MustCompile(`(?m)^ledger_blockchain_height\{channel="` + regexp.QuoteMeta(channel) + `"\} (\S+)$`)
	m := re.FindSubmatch(body)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		return -1
	}
	return v
}

// sameHeight waits until every peer reports the same, non-zero height of
// channel: they all joined it and caught up.
func sameHeight(t *testing.T, channel string, urls ...string) {
	t.Helper()
	eventually(t, 30*time.Second, func() error {
		var hs []float64
		for _, u := range urls {
			hs = append(hs, metric(u, channel))
		}
		for _, h := range hs {
			if h <= 0 || h != hs[0] {
				return fmt.Errorf("channel %s heights %v (%v)", channel, hs, urls)
			}
		}
		return nil
	})
}

func eventually(t *testing.T, timeout time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// evaluateOn runs a query of basic through the Gateway of peer p of org k
// as that org's User1.
func evaluateOn(t *testing.T, l network.Layout, ep network.Endpoints, domain, mspID string, k, p int, fn string, args ...string) string {
	t.Helper()
	orgDir := filepath.Join(l.Organizations(), "peerOrganizations", domain)
	signer, err := msp.LoadSigningIdentity(filepath.Join(orgDir, "users", "User1@"+domain, "msp"), mspID)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(filepath.Join(orgDir, "tlsca", "tlsca."+domain+"-cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	conf, err := comm.ClientTLSConfig(nil, nil, [][]byte{ca}, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := comm.Dial(ctx, fmt.Sprintf("127.0.0.1:%d", ep.Peer(k, p)), conf)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	gw := &client.Gateway{Conn: conn, Signer: signer}
	bargs := [][]byte{[]byte(fn)}
	for _, a := range args {
		bargs = append(bargs, []byte(a))
	}
	out, err := gw.Evaluate(ctx, "mychannel", "basic", bargs...)
	if err != nil {
		t.Fatalf("evaluate %s on peer%d of %s: %v", fn, p, domain, err)
	}
	return string(out)
}
