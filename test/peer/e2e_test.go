// Package peer_test runs a whole weft network as processes — three Raft
// orderers and a peer per org — deploys a Node.js contract chaincode as a
// service through the v2 lifecycle, and drives it with weft's Go client
// and with the unmodified @hyperledger/fabric-gateway client.
package peer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"weft/client"
	"weft/peer/chaincode"
	"weft/test/harness"
	gatewaypb "weft/wire/gateway"

	"google.golang.org/grpc/status"
)

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitFor(t *testing.T, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestNetworkWithFabricGatewayClient(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a network of processes")
	}
	nodeDir := filepath.Join(repoRoot(), "conformance", "node")
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "@hyperledger", "fabric-gateway")); err != nil {
		t.Fatalf("npm packages missing (%v): run `npm ci --prefix conformance/node` or `make test`", err)
	}
	nw := harness.NewNetwork(t)
	nw.StartOrderers(t)
	nw.StartPeers(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	peers := []struct{ org int }{{0}, {1}}
	admins := []*client.Gateway{}
	for _, p := range peers {
		conn := nw.DialPeer(t, p.org, 0)
		admin := nw.OrgUser(t, p.org, "Admin")
		if err := client.JoinChannel(ctx, conn, admin, nw.Genesis); err != nil {
			t.Fatalf("org %d join: %v", p.org, err)
		}
		admins = append(admins, &client.Gateway{Conn: conn, Signer: admin})
	}
	for _, p := range peers {
		waitFor(t, "peer height", 30*time.Second, func() bool { return nw.PeerHeight(p.org, 0) >= 1 })
	}

	// The chaincode runs as a service; the package only says where.
	port := freePort(t)
	pkg, err := chaincode.BuildCCaaSPackage("basic_1.0", chaincode.Connection{Address: fmt.Sprintf("127.0.0.1:%d", port), DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var pkgID string
	for i, p := range peers {
		id, err := client.InstallChaincode(ctx, admins[i].Conn, admins[i].Signer, pkg)
		if err != nil {
			t.Fatalf("org %d install: %v", p.org, err)
		}
		pkgID = id
	}
	if want := chaincode.PackageID("basic_1.0", pkg); pkgID != want {
		t.Fatalf("package id %q, want %q", pkgID, want)
	}
	// node runs the shim's CLI itself (what `npm start` would run), so that
	// killing the process kills the server: npm's shell child would outlive
	// it, keeping its port and the chaincode running after the test.
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal(err)
	}
	cc := &harness.Process{
		Name: "chaincode-basic", Path: node, Dir: filepath.Join(nodeDir, "chaincode"),
		Args: []string{filepath.Join(nodeDir, "node_modules", "fabric-shim", "cli.js"), "server",
			fmt.Sprintf("--chaincode-address=127.0.0.1:%d", port), "--chaincode-id=" + pkgID},
		Log: filepath.Join(nw.Dir, "chaincode.log"),
	}
	cc.Start(t)
	t.Cleanup(cc.Kill)
	// Peers dial the chaincode on first use, with a timeout; a slow node
	// start must not count against it.
	waitFor(t, "the chaincode server to listen", 60*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})

	def := client.Definition{Name: "basic", Version: "1.0", Sequence: 1}
	for i, p := range peers {
		mspID, _ := nw.Spec.MSPID(nw.Spec.Orgs[p.org].Name)
		if err := admins[i].Approve(ctx, "mychannel", mspID, def, pkgID); err != nil {
			t.Fatalf("org %d approve: %s\nchaincode log:\n%s", p.org, why(err), cc.Tail(20))
		}
	}
	// Each approval was waited for on its own org's peer; the commit's
	// endorsers must all see both, or their read sets differ.
	for _, p := range peers {
		waitFor(t, "approvals on every peer", 30*time.Second, func() bool { return nw.PeerHeight(p.org, 0) >= 3 })
	}
	if err := admins[0].Commit(ctx, "mychannel", def); err != nil {
		t.Fatalf("commit: %s", why(err))
	}
	bothPeersAt(t, nw)

	// weft's Go client.
	user := &client.Gateway{Conn: admins[0].Conn, Signer: nw.OrgUser(t, 0, "User1")}
	if _, _, err := user.Submit(ctx, "mychannel", "basic", nil, []byte("CreateAsset"), []byte("go1"), []byte("red"), []byte("3"), []byte("Ann")); err != nil {
		t.Fatalf("CreateAsset: %s\nchaincode log:\n%s", why(err), cc.Tail(20))
	}
	got, err := user.Evaluate(ctx, "mychannel", "basic", []byte("ReadAsset"), []byte("go1"))
	if err != nil || !bytes.Contains(got, []byte(`"Owner":"Ann"`)) {
		t.Fatalf("ReadAsset: %s %v", got, err)
	}

	bothPeersAt(t, nw)

	// The official Node client, as an application uses it.
	runGatewayApp(t, nw, nodeDir)
}

// why adds to a gateway error the per-peer details Fabric attaches to it.
func why(err error) string {
	msg := err.Error()
	if s, ok := status.FromError(err); ok {
		for _, d := range s.Details() {
			if e, ok := d.(*gatewaypb.ErrorDetail); ok {
				msg += fmt.Sprintf("\n  %s (%s): %s", e.GetAddress(), e.GetMspId(), e.GetMessage())
			}
		}
	}
	return msg
}

// bothPeersAt waits until Org2's peer has committed every block Org1's
// peer has. Commits are waited for on Org1's peer, but endorsements run on
// both, and one behind simulates on older state.
func bothPeersAt(t *testing.T, nw *harness.Network) {
	t.Helper()
	h := nw.PeerHeight(0, 0)
	waitFor(t, fmt.Sprintf("Org2's peer at height %v", h), 30*time.Second, func() bool { return nw.PeerHeight(1, 0) >= h })
}

func runGatewayApp(t *testing.T, nw *harness.Network, nodeDir string) {
	o := &nw.Spec.Orgs[0]
	userMSP := nw.Layout.UserMSP(o, "User1")
	cert, err := os.ReadFile(filepath.Join(userMSP, "signcerts", "User1@"+o.Domain+"-cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(filepath.Join(userMSP, "keystore", "priv_sk"))
	if err != nil {
		t.Fatal(err)
	}
	input := map[string]string{
		"endpoint": fmt.Sprintf("127.0.0.1:%d", nw.Ep.Peer(0, 0)), "tlsRootCert": string(nw.PeerTLSCA(t, 0)),
		"hostAlias": "localhost", "mspId": "Org1MSP", "certPem": string(cert), "keyPem": string(key),
		"channel": "mychannel", "chaincode": "basic", "assetId": "node1",
		"otherEndpoint": fmt.Sprintf("127.0.0.1:%d", nw.Ep.Peer(1, 0)), "otherTlsRootCert": string(nw.PeerTLSCA(t, 1)),
	}
	in, _ := json.Marshal(input)
	f := filepath.Join(t.TempDir(), "in.json")
	if err := os.WriteFile(f, in, 0o600); err != nil {
		t.Fatal(err)
	}
	// The app bounds each of its own waits; this bounds the process.
	appCtx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(appCtx, "node", filepath.Join(nodeDir, "gateway.js"), f)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("fabric-gateway app: %v\n%s", err, stderr.String())
	}
	var out appOutput
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("app output: %v\n%s", err, stdout.String())
	}
	checkGatewayApp(t, &out)
	if t.Failed() {
		t.Logf("fabric-gateway app output: %s", stdout.String())
	}
}
