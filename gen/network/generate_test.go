package network

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	nodeorderer "weft/node/orderer"
	nodepeer "weft/node/peer"
	"weft/spec"
	"weft/wire/common"
	"weft/wire/orderer"
	"weft/wire/orderer/etcdraft"
	"weft/wire/peer"
)

func mustGenerate(t *testing.T, n *spec.Network, dir string) *Result {
	t.Helper()
	var progress bytes.Buffer
	res, err := Generate(n, dir, Options{Progress: &progress})
	if err != nil {
		t.Fatalf("Generate: %v\nprogress:\n%s", err, progress.String())
	}
	return res
}

func readConfig(t *testing.T, path string) (*common.ConfigEnvelope, string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var b common.Block
	if err := proto.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	env, ch, err := channelconfig.ConfigFromBlock(&b)
	if err != nil {
		t.Fatal(err)
	}
	return env, ch
}

func TestGenerateDefaultNetwork(t *testing.T) {
	dir := t.TempDir()
	n := spec.Default()
	res := mustGenerate(t, n, dir)

	if len(res.Orderers) != 3 || len(res.Peers) != 2 || len(res.Channels) != 1 {
		t.Fatalf("result: %d orderers, %d peers, %d channels", len(res.Orderers), len(res.Peers), len(res.Channels))
	}
	for _, p := range []string{
		"organizations/ordererOrganizations/example.com/orderers/orderer0.example.com/tls/server.key",
		"organizations/ordererOrganizations/example.com/orderers/orderer2.example.com/msp/signcerts/orderer2.example.com-cert.pem",
		"organizations/peerOrganizations/org1.example.com/peers/peer0.org1.example.com/tls/server.crt",
		"organizations/peerOrganizations/org2.example.com/users/User1@org2.example.com/msp/keystore/priv_sk",
		"organizations/peerOrganizations/org1.example.com/users/Admin@org1.example.com/msp/config.yaml",
		"channel-artifacts/mychannel.block",
	} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("missing %s: %v", p, err)
		}
	}

	env, ch := readConfig(t, res.Channels[0].Block)
	if ch != "mychannel" {
		t.Errorf("channel id %q", ch)
	}
	root := env.GetConfig().GetChannelGroup()
	app := root.GetGroups()["Application"]
	if app == nil || app.GetGroups()["Org1MSP"] == nil || app.GetGroups()["Org2MSP"] == nil || len(app.GetGroups()) != 2 {
		t.Fatalf("application orgs: %v", keys(app.GetGroups()))
	}
	var anchors peer.AnchorPeers
	if err := proto.Unmarshal(app.GetGroups()["Org2MSP"].GetValues()["AnchorPeers"].GetValue(), &anchors); err != nil {
		t.Fatal(err)
	}
	if len(anchors.GetAnchorPeers()) != 1 || anchors.GetAnchorPeers()[0].GetPort() != 9051 {
		t.Errorf("Org2 anchor peers: %v", anchors.GetAnchorPeers())
	}
	ord := root.GetGroups()["Orderer"]
	var ct orderer.ConsensusType
	if err := proto.Unmarshal(ord.GetValues()["ConsensusType"].GetValue(), &ct); err != nil {
		t.Fatal(err)
	}
	var meta etcdraft.ConfigMetadata
	if err := proto.Unmarshal(ct.GetMetadata(), &meta); err != nil {
		t.Fatal(err)
	}
	if ct.GetType() != "etcdraft" || len(meta.GetConsenters()) != 3 {
		t.Fatalf("consensus %q with %d consenters", ct.GetType(), len(meta.GetConsenters()))
	}
	tls, _ := os.ReadFile(filepath.Join(res.Orderers[1].Dir, "tls", "server.crt"))
	if c := meta.GetConsenters()[1]; c.GetPort() != 7150 || !bytes.Equal(c.GetServerTlsCert(), tls) {
		t.Errorf("consenter 1: port %d, cert matches %v", c.GetPort(), bytes.Equal(c.GetServerTlsCert(), tls))
	}
	var bs orderer.BatchSize
	if err := proto.Unmarshal(ord.GetValues()["BatchSize"].GetValue(), &bs); err != nil {
		t.Fatal(err)
	}
	if bs.GetMaxMessageCount() != 10 {
		t.Errorf("BatchSize.MaxMessageCount = %d, want the spec default 10", bs.GetMaxMessageCount())
	}
}

func TestGenerateIsIdempotentAndExtends(t *testing.T) {
	dir := t.TempDir()
	n := spec.Default()
	first := mustGenerate(t, n, dir)
	block1, _ := os.ReadFile(first.Channels[0].Block)
	caPath := filepath.Join(dir, "organizations/peerOrganizations/org1.example.com/ca/ca.org1.example.com-cert.pem")
	ca1, _ := os.ReadFile(caPath)

	second := mustGenerate(t, n, dir)
	if second.Channels[0].Created {
		t.Error("second run recreated the genesis block")
	}
	block2, _ := os.ReadFile(second.Channels[0].Block)
	ca2, _ := os.ReadFile(caPath)
	if !bytes.Equal(block1, block2) || !bytes.Equal(ca1, ca2) {
		t.Error("second run changed existing material")
	}

	n.Orgs[0].Peers = 2
	n.Channels = append(n.Channels, spec.Channel{Name: "other", Orgs: []string{"Org1"}})
	third := mustGenerate(t, n, dir)
	if _, err := os.Stat(filepath.Join(dir, "organizations/peerOrganizations/org1.example.com/peers/peer1.org1.example.com/tls/server.crt")); err != nil {
		t.Errorf("new peer not generated: %v", err)
	}
	ca3, _ := os.ReadFile(caPath)
	if !bytes.Equal(ca1, ca3) {
		t.Error("extending re-keyed the org CA")
	}
	if len(third.Channels) != 2 || !third.Channels[1].Created {
		t.Fatalf("channels: %+v", third.Channels)
	}
	env, _ := readConfig(t, third.Channels[1].Block)
	if got := keys(env.GetConfig().GetChannelGroup().GetGroups()["Application"].GetGroups()); strings.Join(got, ",") != "Org1MSP" {
		t.Errorf("channel other orgs: %v", got)
	}
}

func TestGenerateRejectsInvalidSpec(t *testing.T) {
	n := spec.Default()
	n.Channels[0].Orgs = append(n.Channels[0].Orgs, "Nope")
	_, err := Generate(n, t.TempDir(), Options{})
	if err == nil || !strings.Contains(err.Error(), "Nope") {
		t.Fatalf("want an error naming the unknown org, got %v", err)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestOrdererConfigsLoad(t *testing.T) {
	dir := t.TempDir()
	n := spec.Default()
	mustGenerate(t, n, dir)
	paths, err := WriteOrdererConfigs(n, Layout{Dir: dir}, DefaultEndpoints())
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 3 {
		t.Fatalf("%d configs", len(paths))
	}
	for i, p := range paths {
		c, err := nodeorderer.LoadConfig(p, nil)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if c.General.ListenPort != 7050+100*i || c.General.LocalMSPID != "OrdererMSP" {
			t.Errorf("%s: port %d msp %q", p, c.General.ListenPort, c.General.LocalMSPID)
		}
		cert := filepath.Join(filepath.Dir(p), c.General.TLS.Certificate)
		if _, err := os.Stat(cert); err != nil {
			t.Errorf("%s: TLS certificate path does not resolve: %v", p, err)
		}
		if len(c.General.TLS.ClientRootCAs) != 3 {
			t.Errorf("%s: client roots %v; want orderer org + 2 peer orgs", p, c.General.TLS.ClientRootCAs)
		}
	}
}

func TestPeerConfigsLoad(t *testing.T) {
	dir := t.TempDir()
	n := spec.Default()
	mustGenerate(t, n, dir)
	paths, err := WritePeerConfigs(n, Layout{Dir: dir}, DefaultEndpoints())
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 2 {
		t.Fatalf("%d peer configs", len(paths))
	}
	for i, p := range paths {
		c, err := nodepeer.LoadConfig(p, []string{"CORE_PEER_GATEWAY_ENABLED=true"})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		want := []string{"Org1MSP", "Org2MSP"}[i]
		if c.Peer.LocalMSPID != want || !c.Peer.Gateway.Enabled {
			t.Errorf("%s: msp %q gateway %v", p, c.Peer.LocalMSPID, c.Peer.Gateway.Enabled)
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), c.Peer.TLS.Cert.File)); err != nil {
			t.Errorf("%s: TLS cert path does not resolve: %v", p, err)
		}
	}
	if _, err := nodepeer.LoadConfig(paths[0], []string{"CORE_PEER_TLS_ENABLED=false"}); err == nil || !strings.Contains(err.Error(), "peer.tls.enabled") {
		t.Errorf("TLS off: %v", err)
	}
}

// With EnrollFromCA, orgs with a CA get only their CAs and msp/ (the
// genesis block still lists them), orgs without one are generated in full.
func TestGenerateEnrollFromCA(t *testing.T) {
	dir := t.TempDir()
	n := spec.Default()
	off := false
	n.Orgs[1].CA = &off
	if _, err := Generate(n, dir, Options{EnrollFromCA: true}); err != nil {
		t.Fatal(err)
	}
	l := Layout{Dir: dir}
	org1, org2 := &n.Orgs[0], &n.Orgs[1]
	if _, err := os.Stat(l.PeerDir(org1, "peer0.org1.example.com")); err == nil {
		t.Error("Org1 (ca: true) got an offline peer identity")
	}
	if _, err := os.Stat(filepath.Dir(l.UserMSP(org1, "Admin"))); err == nil {
		t.Error("Org1 (ca: true) got an offline admin")
	}
	for _, p := range []string{filepath.Join(l.PeerOrgDir(org1), "msp", "config.yaml"), filepath.Join(l.PeerOrgDir(org1), "ca", "priv_sk"),
		filepath.Join(l.PeerDir(org2, "peer0.org2.example.com"), "tls", "server.crt"), l.UserMSP(org2, "User1"), l.PeerConfigPath("peer0.org1.example.com")} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	env, _ := readConfig(t, l.ChannelBlock("mychannel"))
	app := env.GetConfig().GetChannelGroup().GetGroups()["Application"]
	if app.GetGroups()["Org1MSP"] == nil || app.GetGroups()["Org2MSP"] == nil {
		t.Fatalf("genesis block orgs: %v", app.GetGroups())
	}
}

func TestCANames(t *testing.T) {
	o := &spec.Org{Name: "BigOrg", Domain: "big.example.com"}
	l := Layout{Dir: "/d"}
	for got, want := range map[string]string{
		CAHost(o): "ca.big.example.com", CAName(o): "ca-bigorg", TLSCAName(o): "tlsca-bigorg",
		l.CAConfigPath(o): "/d/nodes/ca.big.example.com/ca.yaml",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}
