package peer_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"weft/client"
	"weft/gen/network"
	"weft/peer/endorser"
	"weft/spec"
	"weft/test/harness"
	"weft/wire/common"
	gatewaypb "weft/wire/gateway"
)

// newNetworkOrg1TwoPeers generates the default network but with two peers
// in Org1, of which only peer0 is the channel's anchor peer. Nothing is
// started. nw.Peers is Org1 peer0, Org1 peer1, Org2 peer0.
func newNetworkOrg1TwoPeers(t *testing.T) *harness.Network {
	t.Helper()
	dir := t.TempDir()
	n := spec.Default()
	n.Chaincodes = nil
	n.Orderer.BatchTimeout = "200ms"
	n.Orgs[0].Peers = 2
	// The ports gen/network binds for this layout (see its Endpoints).
	var offsets []int
	for i := range 3 {
		offsets = append(offsets, 100*i, 100*i+3, 5+100*i)
	}
	for k, o := range n.Orgs {
		for p := range o.Peers {
			offsets = append(offsets, 51+2000*k+100*p, 5+1000+100*k+p)
		}
	}
	base := harness.FreePortBase(t, offsets)
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
	nw := &harness.Network{Dir: dir, Spec: n, Layout: network.Layout{Dir: dir}, Ep: ep, Result: res, Genesis: &g}
	for _, o := range res.Orderers {
		nw.Orderers = append(nw.Orderers, &harness.Process{Name: o.Host, Args: []string{"node", "orderer", "--config", o.Config}, Log: filepath.Join(dir, o.Host+".log")})
	}
	for _, p := range res.Peers {
		nw.Peers = append(nw.Peers, &harness.Process{Name: p.Host, Args: []string{"node", "peer", "--config", p.Config}, Log: filepath.Join(dir, p.Host+".log")})
	}
	t.Cleanup(func() {
		all := append(append([]*harness.Process{}, nw.Peers...), nw.Orderers...)
		for _, p := range all {
			p.Kill()
		}
		if t.Failed() {
			for _, p := range all {
				t.Logf("---- %s log tail ----\n%s", p.Name, p.Tail(30))
			}
		}
	})
	return nw
}

var knownPeersRE = regexp.MustCompile(`(?m)^gossip_membership_total_peers_known\{channel="mychannel"\} (\S+)$`)

// knownPeers reads how many live peers peer p of org k lists for the
// channel; -1 when it cannot be read.
func knownPeers(nw *harness.Network, k, p int) float64 {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", nw.Ep.PeerOps(k, p)))
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := knownPeersRE.FindSubmatch(body)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		return -1
	}
	return v
}

// TestGatewayLearnsPeersAndFailsOver: Org2's gateway learns Org1's peer1,
// which is not an anchor peer, through the membership exchange; with
// Org1's anchor peer down it endorses through peer1; with both down the
// error names both attempts.
func TestGatewayLearnsPeersAndFailsOver(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a network of processes")
	}
	nw := newNetworkOrg1TwoPeers(t)
	nw.StartOrderers(t)
	nw.StartPeers(t)
	d := harness.DeployBasic(t, nw)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	// Org1's peer1 joins and installs the same package (the chaincode
	// server is shared).
	conn := nw.DialPeer(t, 0, 1)
	admin := nw.OrgUser(t, 0, "Admin")
	if err := client.JoinChannel(ctx, conn, admin, nw.Genesis); err != nil {
		t.Fatalf("peer1 join: %v", err)
	}
	if _, err := client.InstallChaincode(ctx, conn, admin, d.Package); err != nil {
		t.Fatalf("peer1 install: %v", err)
	}
	nw.WaitHeight(t, 0, 1, nw.PeerHeight(0, 0), 60*time.Second)

	// Org2's peer knows both Org1 peers (itself it does not count).
	waitFor(t, "Org2's peer to learn both Org1 peers", 60*time.Second, func() bool { return knownPeers(nw, 1, 0) >= 2 })
	if n := knownPeers(nw, 0, 1); n < 2 {
		t.Fatalf("Org1's peer1 knows %v peers, want its org-mate and Org2's peer", n)
	}

	org1Peer0 := fmt.Sprintf("127.0.0.1:%d", nw.Ep.Peer(0, 0))
	org1Peer1 := fmt.Sprintf("127.0.0.1:%d", nw.Ep.Peer(0, 1))
	org2User := &client.Gateway{Conn: d.Conns[1], Signer: nw.OrgUser(t, 1, "User1")}

	// Org1's anchor peer goes down: Org2's gateway still gathers Org1's
	// endorsement, from peer1.
	nw.Peers[0].Kill()
	if _, _, err := org2User.Submit(ctx, "mychannel", "basic", nil, []byte("CreateAsset"), []byte("m1"), []byte("blue"), []byte("5"), []byte("Bo")); err != nil {
		t.Fatalf("CreateAsset with Org1's anchor down: %s", why(err))
	}

	// Both Org1 peers down: the endorsement fails, naming each attempt.
	nw.Peers[1].Kill()
	sp, txID, err := endorser.NewSignedProposal(org2User.Signer, endorser.ProposalSpec{ChannelID: "mychannel", Chaincode: "basic",
		Args: [][]byte{[]byte("CreateAsset"), []byte("m2"), []byte("red"), []byte("1"), []byte("Al")}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = gatewaypb.NewGatewayClient(d.Conns[1]).Endorse(ctx, &gatewaypb.EndorseRequest{TransactionId: txID, ChannelId: "mychannel", ProposedTransaction: sp})
	st, _ := status.FromError(err)
	if st.Code() != codes.Aborted {
		t.Fatalf("endorse with Org1 down: %v, want Aborted", err)
	}
	var tried []string
	for _, dt := range st.Details() {
		if e, ok := dt.(*gatewaypb.ErrorDetail); ok && e.GetMspId() == "Org1MSP" {
			tried = append(tried, e.GetAddress())
		}
	}
	slices.Sort(tried)
	want := []string{org1Peer0, org1Peer1}
	slices.Sort(want)
	if !slices.Equal(tried, want) {
		t.Fatalf("Org1 attempts %v, want %v\n%s", tried, want, why(err))
	}
}
