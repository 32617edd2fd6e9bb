package harness

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"google.golang.org/grpc"

	"weft/client"
	"weft/peer/chaincode"
)

// Channel is the channel every generated test network has.
const Channel = "mychannel"

// Deployment is a network whose first peer of every org joined the channel
// and runs the asset contract chaincode "basic" (Node, as a service).
type Deployment struct {
	// Admins are each org's Admin on a connection to that org's peer 0.
	Admins []*client.Gateway
	// Conns are the connections of Admins, by org.
	Conns     []*grpc.ClientConn
	MSPIDs    []string
	PackageID string
	// Package is the installed CCaaS package (reuse it to define other
	// chaincodes pointing at the same server).
	Package   []byte
	Chaincode *Process
}

// User is a client user of org k on that org's peer connection.
func (d *Deployment) User(t testing.TB, nw *Network, k int) *client.Gateway {
	return &client.Gateway{Conn: d.Conns[k], Signer: nw.OrgUser(t, k, "User1")}
}

// NodeDir is conformance/node in the repository, with its npm packages.
func NodeDir(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "conformance", "node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "fabric-shim")); err != nil {
		t.Fatalf("npm packages missing (%v): run `npm ci --prefix conformance/node` or `make test`", err)
	}
	return dir
}

// PeerLedgerDir is where peer p of the network (index into nw.Peers) keeps
// the channel's ledger: its block store and state database.
func (nw *Network) PeerLedgerDir(p int) string {
	return filepath.Join(filepath.Dir(nw.Result.Peers[p].Config), "data", "ledgers", Channel)
}

// WaitPeerHealthy waits for the operations endpoint of peer p of org k.
func (nw *Network) WaitPeerHealthy(t testing.TB, k, p int, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := WaitHTTP(ctx, fmt.Sprintf("http://127.0.0.1:%d/healthz", nw.Ep.PeerOps(k, p))); err != nil {
		t.Fatalf("peer %d of org %d: %v", p, k, err)
	}
}

// WaitHeight waits until peer p of org k has at least h blocks.
func (nw *Network) WaitHeight(t testing.TB, k, p int, h float64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for nw.PeerHeight(k, p) < h {
		if time.Now().After(deadline) {
			t.Fatalf("peer %d of org %d: height %v after %v, want %v", p, k, nw.PeerHeight(k, p), timeout, h)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// DeployBasic joins peer 0 of every org to the channel, installs a CCaaS
// package on each, starts the Node asset contract as the chaincode server,
// approves the definition basic/1.0 for every org and commits it. The
// orderers and peers must be running.
func DeployBasic(t testing.TB, nw *Network) *Deployment {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	nodeDir := NodeDir(t)
	d := &Deployment{}
	orgs := len(nw.Spec.Orgs)
	for k := 0; k < orgs; k++ {
		conn := nw.DialPeer(t, k, 0)
		admin := nw.OrgUser(t, k, "Admin")
		if err := client.JoinChannel(ctx, conn, admin, nw.Genesis); err != nil {
			t.Fatalf("org %d join: %v", k, err)
		}
		id, _ := nw.Spec.MSPID(nw.Spec.Orgs[k].Name)
		d.Conns = append(d.Conns, conn)
		d.Admins = append(d.Admins, &client.Gateway{Conn: conn, Signer: admin})
		d.MSPIDs = append(d.MSPIDs, id)
	}
	for k := 0; k < orgs; k++ {
		nw.WaitHeight(t, k, 0, 1, 30*time.Second)
	}

	// The chaincode runs as a service; the package only says where.
	port := freePort(t)
	pkg, err := chaincode.BuildCCaaSPackage("basic_1.0", chaincode.Connection{Address: fmt.Sprintf("127.0.0.1:%d", port), DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	d.Package = pkg
	for k, a := range d.Admins {
		id, err := client.InstallChaincode(ctx, a.Conn, a.Signer, pkg)
		if err != nil {
			t.Fatalf("org %d install: %v", k, err)
		}
		d.PackageID = id
	}
	// node runs the chaincode server itself: `npm start` would put npm and
	// a shell in between, and killing npm leaves the server running.
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal(err)
	}
	d.Chaincode = &Process{
		Name: "chaincode-basic", Path: node, Dir: filepath.Join(nodeDir, "chaincode"),
		Args: []string{filepath.Join(nodeDir, "node_modules", ".bin", "fabric-chaincode-node"), "server",
			fmt.Sprintf("--chaincode-address=127.0.0.1:%d", port), "--chaincode-id=" + d.PackageID},
		Log: filepath.Join(nw.Dir, "chaincode.log"),
	}
	d.Chaincode.Start(t)
	t.Cleanup(d.Chaincode.Kill)

	def := client.Definition{Name: "basic", Version: "1.0", Sequence: 1}
	for k, a := range d.Admins {
		if err := a.Approve(ctx, Channel, d.MSPIDs[k], def, d.PackageID); err != nil {
			t.Fatalf("org %d approve: %v\nchaincode log:\n%s", k, err, d.Chaincode.Tail(20))
		}
	}
	// Each approval was waited for on its own org's peer only; the commit's
	// endorsers must all see every approval or their read sets differ.
	for k := 0; k < orgs; k++ {
		nw.WaitHeight(t, k, 0, float64(1+orgs), 30*time.Second)
	}
	if err := d.Admins[0].Commit(ctx, Channel, def); err != nil {
		t.Fatalf("commit: %v", err)
	}
	for k := 0; k < orgs; k++ {
		nw.WaitHeight(t, k, 0, float64(2+orgs), 30*time.Second)
	}
	return d
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
