package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"weft/comm"
	"weft/gen/network"
	"weft/msp"
	"weft/spec"
	"weft/wire/common"
)

// Network is a whole generated network (orderers and peers of every org)
// run as processes.
type Network struct {
	Dir     string
	Spec    *spec.Network
	Layout  network.Layout
	Ep      network.Endpoints
	Result  *network.Result
	Genesis *common.Block

	Orderers []*Process
	Peers    []*Process // in spec order: org 0's peers, then org 1's...
}

// NewNetwork generates the default two-org network (3 orderers, channel
// mychannel) on free loopback ports. Nothing is started.
func NewNetwork(t testing.TB) *Network {
	t.Helper()
	dir := t.TempDir()
	n := spec.Default()
	n.Chaincodes = nil
	n.Orderer.BatchTimeout = "200ms"
	var peers []int
	for _, o := range n.Orgs {
		peers = append(peers, o.Peers)
	}
	base := FreePortBase(t, networkOffsets(len(n.OrdererHosts()), peers))
	ep := network.Endpoints{Host: "127.0.0.1", OrdererBase: base, PeerBase: base + 51, OpsBase: base + 5}
	res, err := network.Generate(n, dir, network.Options{Endpoints: ep})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(res.Channels[0].Block)
	if err != nil {
		t.Fatal(err)
	}
	var g common.Block
	if err := proto.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	nw := &Network{Dir: dir, Spec: n, Layout: network.Layout{Dir: dir}, Ep: ep, Result: res, Genesis: &g}
	logs := logDir(t, dir)
	for _, o := range res.Orderers {
		nw.Orderers = append(nw.Orderers, &Process{Name: o.Host, Args: []string{"node", "orderer", "--config", o.Config}, Log: filepath.Join(logs, o.Host+".log")})
	}
	for _, p := range res.Peers {
		nw.Peers = append(nw.Peers, &Process{Name: p.Host, Args: []string{"node", "peer", "--config", p.Config}, Log: filepath.Join(logs, p.Host+".log")})
	}
	t.Cleanup(func() {
		for _, p := range append(append([]*Process{}, nw.Peers...), nw.Orderers...) {
			p.Kill()
		}
		if t.Failed() {
			for _, p := range append(append([]*Process{}, nw.Orderers...), nw.Peers...) {
				t.Logf("---- %s log tail ----\n%s", p.Name, p.Tail(30))
			}
		}
	})
	return nw
}

// StartOrderers starts every orderer, joins them to the channel with the
// genesis block and waits until one of them leads.
func (nw *Network) StartOrderers(t testing.TB) {
	t.Helper()
	o := &Orderers{Dir: nw.Dir, Spec: nw.Spec, Layout: nw.Layout, Ep: nw.Ep, Procs: nw.Orderers, Channel: "mychannel"}
	for i := range nw.Orderers {
		o.Start(t, i)
	}
	for i := range nw.Orderers {
		o.Join(t, i, nw.Genesis)
	}
	all := make([]int, len(nw.Orderers))
	for i := range all {
		all[i] = i
	}
	if o.Leader(30*time.Second, all) < 0 {
		t.Fatal("no orderer leader elected")
	}
}

// StartPeers starts every peer and waits for its health endpoint.
func (nw *Network) StartPeers(t testing.TB) {
	t.Helper()
	i := 0
	for k := range nw.Spec.Orgs {
		for p := range nw.Spec.Orgs[k].PeerHosts() {
			nw.Peers[i].Start(t)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err := WaitHTTP(ctx, fmt.Sprintf("http://127.0.0.1:%d/healthz", nw.Ep.PeerOps(k, p)))
			cancel()
			if err != nil {
				t.Fatalf("%s: %v\n%s", nw.Peers[i].Name, err, nw.Peers[i].Tail(30))
			}
			i++
		}
	}
}

// OrgUser loads a user of org k ("Admin" or "User1") as a signer.
func (nw *Network) OrgUser(t testing.TB, k int, name string) *msp.SigningIdentity {
	t.Helper()
	o := &nw.Spec.Orgs[k]
	id, _ := nw.Spec.MSPID(o.Name)
	s, err := msp.LoadSigningIdentity(nw.Layout.UserMSP(o, name), id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// PeerTLSCA is org k's TLS CA certificate (what apps trust for its peers).
func (nw *Network) PeerTLSCA(t testing.TB, k int) []byte {
	o := &nw.Spec.Orgs[k]
	b, err := os.ReadFile(filepath.Join(nw.Layout.PeerOrgDir(o), "tlsca", "tlsca."+o.Domain+"-cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// DialPeer connects to peer p of org k with server-authenticated TLS.
func (nw *Network) DialPeer(t testing.TB, k, p int) *grpc.ClientConn {
	t.Helper()
	conf, err := comm.ClientTLSConfig(nil, nil, [][]byte{nw.PeerTLSCA(t, k)}, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := comm.Dial(ctx, fmt.Sprintf("127.0.0.1:%d", nw.Ep.Peer(k, p)), conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// PeerHeight reads a peer's ledger height for the channel from /metrics.
func (nw *Network) PeerHeight(k, p int) float64 {
	o := &Orderers{Ep: nw.Ep, Channel: "mychannel"}
	return o.metricAt(fmt.Sprintf("http://127.0.0.1:%d/metrics", nw.Ep.PeerOps(k, p)), "ledger_blockchain_height")
}
