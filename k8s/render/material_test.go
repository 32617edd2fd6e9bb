package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/gen/network"
	"weft/wire/common"
	"weft/wire/orderer"
	"weft/wire/orderer/etcdraft"
	"weft/wire/peer"
)

// The genesis blocks put consenters and anchor peers at their Service names.
func TestGenesisBlockUsesClusterAddresses(t *testing.T) {
	m := defaultMaterial(t)
	var b common.Block
	if err := proto.Unmarshal(m.Blocks["mychannel"], &b); err != nil {
		t.Fatal(err)
	}
	env, ch, err := channelconfig.ConfigFromBlock(&b)
	if err != nil || ch != "mychannel" {
		t.Fatalf("block: %v %q", err, ch)
	}
	root := env.GetConfig().GetChannelGroup()
	var ct orderer.ConsensusType
	if err := proto.Unmarshal(root.GetGroups()["Orderer"].GetValues()["ConsensusType"].GetValue(), &ct); err != nil {
		t.Fatal(err)
	}
	var meta etcdraft.ConfigMetadata
	if err := proto.Unmarshal(ct.GetMetadata(), &meta); err != nil {
		t.Fatal(err)
	}
	if len(meta.GetConsenters()) != 3 {
		t.Fatalf("%d consenters", len(meta.GetConsenters()))
	}
	for i, c := range meta.GetConsenters() {
		want := "orderer" + string(rune('0'+i)) + "." + ordNS + ".svc.cluster.local"
		if c.GetHost() != want || c.GetPort() != OrdererPort {
			t.Errorf("consenter %d at %s:%d, want %s:%d", i, c.GetHost(), c.GetPort(), want, OrdererPort)
		}
	}
	var anchors peer.AnchorPeers
	if err := proto.Unmarshal(root.GetGroups()["Application"].GetGroups()["Org2MSP"].GetValues()["AnchorPeers"].GetValue(), &anchors); err != nil {
		t.Fatal(err)
	}
	if a := anchors.GetAnchorPeers(); len(a) != 1 || a[0].GetHost() != "peer0."+org2NS+".svc.cluster.local" || a[0].GetPort() != PeerPort {
		t.Errorf("Org2 anchors %v", a)
	}
}

func TestGenerateMaterialKeepsExisting(t *testing.T) {
	m := defaultMaterial(t)
	if err := GenerateMaterial(defaultNetwork(), matDir, nil); err != nil {
		t.Fatal(err)
	}
	again, err := LoadMaterial(defaultNetwork(), matDir)
	if err != nil {
		t.Fatal(err)
	}
	key := "organizations/peerOrganizations/org1.example.com/peers/peer0.org1.example.com/tls/server.key"
	if string(again.Files[key]) != string(m.Files[key]) || string(again.Blocks["mychannel"]) != string(m.Blocks["mychannel"]) {
		t.Error("a second GenerateMaterial replaced existing keys or blocks")
	}
}

func TestMaterialProblems(t *testing.T) {
	good := defaultMaterial(t)
	clone := func() *Material {
		c := &Material{Files: map[string][]byte{}, Blocks: map[string][]byte{}}
		for k, v := range good.Files {
			c.Files[k] = v
		}
		for k, v := range good.Blocks {
			c.Blocks[k] = v
		}
		return c
	}
	cases := []struct {
		name   string
		mutate func(*Material) *Material
		want   string
	}{
		{"nil", func(*Material) *Material { return nil }, "material is nil"},
		{"missing peer key", func(m *Material) *Material {
			delete(m.Files, "organizations/peerOrganizations/org2.example.com/peers/peer0.org2.example.com/tls/server.key")
			return m
		}, "peer peer0.org2.example.com: tls/server.key is missing"},
		{"missing CA key", func(m *Material) *Material {
			delete(m.Files, "organizations/peerOrganizations/org1.example.com/ca/priv_sk")
			return m
		}, "ca of org Org1: ca/priv_sk is missing"},
		{"missing block", func(m *Material) *Material { delete(m.Blocks, "mychannel"); return m }, `channel "mychannel": genesis block is missing`},
		{"loopback certificate", func(m *Material) *Material {
			k := "organizations/ordererOrganizations/example.com/orderers/orderer0.example.com/tls/server.crt"
			m.Files[k] = m.Files["organizations/ordererOrganizations/example.com/tlsca/tlsca.example.com-cert.pem"]
			return m
		}, "orderer orderer0.example.com: TLS certificate: does not name orderer0." + ordNS + ".svc.cluster.local"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Objects(defaultNetwork(), c.mutate(clone()))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v; want it to contain %q", err, c.want)
			}
		})
	}
}

// Material from `weft generate` names loopback hosts only; LoadMaterial
// says so instead of rendering pods whose TLS handshakes would all fail.
func TestLoadMaterialRefusesLoopbackMaterial(t *testing.T) {
	dir := t.TempDir()
	if _, err := network.Generate(defaultNetwork().NetworkSpec(), dir, network.Options{}); err != nil {
		t.Fatal(err)
	}
	blocks := filepath.Join(dir, blockDir)
	if err := os.MkdirAll(blocks, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(blocks, "mychannel.block"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadMaterial(defaultNetwork(), dir)
	if err == nil || !strings.Contains(err.Error(), "TLS certificate: does not name") {
		t.Fatalf("error %v", err)
	}
	if _, err := LoadMaterial(defaultNetwork(), filepath.Join(dir, "nope")); err == nil {
		t.Fatal("LoadMaterial of a missing directory succeeded")
	}
}
