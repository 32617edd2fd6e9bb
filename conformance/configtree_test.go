package conformance

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"weft/gen/cryptogen"
	"weft/internal/cli"
)

type treeEntry struct {
	Version   float64               `json:"version"`
	ModPolicy string                `json:"modPolicy"`
	Groups    []string              `json:"groups"`
	Values    map[string]treeValue  `json:"values"`
	Policies  map[string]treePolicy `json:"policies"`
}

type treeValue struct {
	Version   float64 `json:"version"`
	ModPolicy string  `json:"modPolicy"`
	Content   any     `json:"content"`
}

type treePolicy struct {
	Version   float64 `json:"version"`
	ModPolicy string  `json:"modPolicy"`
	Policy    any     `json:"policy"`
}

type blockSummary struct {
	Number          float64              `json:"number"`
	PreviousHashLen float64              `json:"previousHashLen"`
	DataHashLen     float64              `json:"dataHashLen"`
	MetadataSlots   float64              `json:"metadataSlots"`
	LastConfig      float64              `json:"lastConfig"`
	HeaderType      float64              `json:"headerType"`
	ChannelID       string               `json:"channelId"`
	Sequence        float64              `json:"sequence"`
	Tree            map[string]treeEntry `json:"tree"`
}

// TestConfigtxgenBlockDecodesInNode runs `weft configtxgen` on a
// test-network style configtx.yaml (anchors, aliases, merge keys, three
// etcdraft consenters, per-org policies) and decodes the block with
// @hyperledger/fabric-protos. The expected tree is what Fabric's
// configtxgen encoder writes for these inputs: the same groups, values,
// policies and mod_policies at every level.
func TestConfigtxgenBlockDecodesInNode(t *testing.T) {
	root := t.TempDir()
	err := cryptogen.Generate(cryptogen.Config{
		OrdererOrgs: []cryptogen.OrgSpec{{Name: "Orderer", Domain: "example.com", EnableNodeOUs: true,
			Specs: []cryptogen.NodeSpec{{Hostname: "orderer0"}, {Hostname: "orderer1"}, {Hostname: "orderer2"}}}},
		PeerOrgs: []cryptogen.OrgSpec{
			{Name: "Org1", Domain: "org1.example.com", EnableNodeOUs: true, Template: cryptogen.NodeTemplate{Count: 1}},
			{Name: "Org2", Domain: "org2.example.com", EnableNodeOUs: true, Template: cryptogen.NodeTemplate{Count: 1}},
		},
	}, filepath.Join(root, "organizations"))
	if err != nil {
		t.Fatal(err)
	}
	cfgDir := filepath.Join(root, "configtx")
	if err := os.Mkdir(cfgDir, 0o755); err != nil {
		t.Fatal(err)
	}
	yaml, err := os.ReadFile(filepath.Join("..", "gen", "configtxgen", "testdata", "configtx.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfgDir, "configtx.yaml"), yaml, 0o644); err != nil {
		t.Fatal(err)
	}
	blockFile := filepath.Join(root, "mychannel.block")
	var stdout, stderr bytes.Buffer
	if code := cli.Main([]string{"configtxgen", "-configPath", cfgDir, "-profile", "ChannelUsingRaft",
		"-channelID", "mychannel", "-outputBlock", blockFile}, &stdout, &stderr); code != 0 {
		t.Fatalf("weft configtxgen exit %d: %s", code, stderr.String())
	}
	raw, err := os.ReadFile(blockFile)
	if err != nil {
		t.Fatal(err)
	}

	var got blockSummary
	runNode(t, "configtree.js", map[string]string{"block": base64.StdEncoding.EncodeToString(raw)}, &got)

	if got.Number != 0 || got.PreviousHashLen != 0 || got.DataHashLen != 32 || got.MetadataSlots != 5 ||
		got.LastConfig != 0 || got.HeaderType != 1 || got.ChannelID != "mychannel" || got.Sequence != 0 {
		t.Errorf("block header/metadata: %+v", got)
	}
	for path, e := range got.Tree {
		if e.Version != 0 || e.ModPolicy != "Admins" {
			t.Errorf("%s: version %v mod_policy %q; want 0, Admins", path, e.Version, e.ModPolicy)
		}
		for k, v := range e.Values {
			if v.Version != 0 || v.ModPolicy != "Admins" {
				t.Errorf("%s/Values/%s: version %v mod_policy %q", path, k, v.Version, v.ModPolicy)
			}
		}
		for k, p := range e.Policies {
			if p.Version != 0 || p.ModPolicy != "Admins" {
				t.Errorf("%s/Policies/%s: version %v mod_policy %q", path, k, p.Version, p.ModPolicy)
			}
		}
	}

	shape := map[string][3][]string{ // groups, values, policies
		"Channel": {{"Application", "Orderer"},
			{"BlockDataHashingStructure", "Capabilities", "HashingAlgorithm"},
			{"Admins", "Readers", "Writers"}},
		"Channel/Orderer": {{"OrdererOrg"},
			{"BatchSize", "BatchTimeout", "Capabilities", "ChannelRestrictions", "ConsensusType"},
			{"Admins", "BlockValidation", "Readers", "Writers"}},
		"Channel/Orderer/OrdererOrg": {{},
			{"Endpoints", "MSP"},
			{"Admins", "Readers", "Writers"}},
		"Channel/Application": {{"Org1MSP", "Org2MSP"},
			{"ACLs", "Capabilities"},
			{"Admins", "Endorsement", "LifecycleEndorsement", "Readers", "Writers"}},
		"Channel/Application/Org1MSP": {{},
			{"AnchorPeers", "MSP"},
			{"Admins", "Endorsement", "Readers", "Writers"}},
		"Channel/Application/Org2MSP": {{},
			{"AnchorPeers", "MSP"},
			{"Admins", "Endorsement", "Readers", "Writers"}},
	}
	if len(got.Tree) != len(shape) {
		t.Errorf("tree has %d groups, want %d: %v", len(got.Tree), len(shape), keysOf(got.Tree))
	}
	for path, want := range shape {
		e, ok := got.Tree[path]
		if !ok {
			t.Errorf("missing group %s", path)
			continue
		}
		if !sameSet(e.Groups, want[0]) || !sameSet(keysOf(e.Values), want[1]) || !sameSet(keysOf(e.Policies), want[2]) {
			t.Errorf("%s: groups %v values %v policies %v; want %v", path, e.Groups, keysOf(e.Values), keysOf(e.Policies), want)
		}
	}

	checks := []struct {
		path, kind, key string
		want            string // JSON of the decoded content
	}{
		{"Channel", "v", "HashingAlgorithm", `"SHA256"`},
		{"Channel", "v", "BlockDataHashingStructure", `4294967295`},
		{"Channel", "v", "Capabilities", `["V2_0"]`},
		{"Channel/Application", "v", "Capabilities", `["V2_5"]`},
		{"Channel/Application", "v", "ACLs", `["_lifecycle/CheckCommitReadiness=/Channel/Application/Writers","event/Block=/Channel/Application/Readers"]`},
		{"Channel/Orderer", "v", "BatchSize", `[10,103809024,524288]`},
		{"Channel/Orderer", "v", "BatchTimeout", `"2s"`},
		{"Channel/Orderer", "v", "ChannelRestrictions", `0`},
		{"Channel/Orderer", "v", "ConsensusType", `{"consenterCertsPresent":true,"consenters":["orderer0.example.com:7050","orderer1.example.com:8050","orderer2.example.com:9050"],"options":["250ms",10,1,5,20971520],"state":0,"type":"etcdraft"}`},
		{"Channel/Orderer/OrdererOrg", "v", "Endpoints", `["orderer0.example.com:7050","orderer1.example.com:8050","orderer2.example.com:9050"]`},
		{"Channel/Orderer/OrdererOrg", "v", "MSP", `{"name":"OrdererMSP","nodeOUs":true,"ouIdentifiers":["client","peer","admin","orderer"],"rootCerts":1,"tlsRootCerts":1,"type":0}`},
		{"Channel/Application/Org1MSP", "v", "MSP", `{"name":"Org1MSP","nodeOUs":true,"ouIdentifiers":["client","peer","admin","orderer"],"rootCerts":1,"tlsRootCerts":1,"type":0}`},
		{"Channel/Application/Org2MSP", "v", "AnchorPeers", `["peer0.org2.example.com:9051"]`},
		{"Channel", "p", "Admins", `{"rule":"MAJORITY","subPolicy":"Admins","type":"IMPLICIT_META"}`},
		{"Channel/Orderer", "p", "BlockValidation", `{"rule":"ANY","subPolicy":"Writers","type":"IMPLICIT_META"}`},
		{"Channel/Application", "p", "LifecycleEndorsement", `{"rule":"MAJORITY","subPolicy":"Endorsement","type":"IMPLICIT_META"}`},
		{"Channel/Application/Org1MSP", "p", "Readers", `{"identities":["Org1MSP.ADMIN","Org1MSP.PEER","Org1MSP.CLIENT"],"rule":"OutOf(1,SignedBy(0),SignedBy(1),SignedBy(2))","type":"SIGNATURE"}`},
		{"Channel/Application/Org2MSP", "p", "Endorsement", `{"identities":["Org2MSP.PEER"],"rule":"OutOf(1,SignedBy(0))","type":"SIGNATURE"}`},
		{"Channel/Orderer/OrdererOrg", "p", "Writers", `{"identities":["OrdererMSP.MEMBER"],"rule":"OutOf(1,SignedBy(0))","type":"SIGNATURE"}`},
	}
	for _, c := range checks {
		e := got.Tree[c.path]
		var content any
		if c.kind == "v" {
			content = e.Values[c.key].Content
		} else {
			content = e.Policies[c.key].Policy
		}
		var want any
		if err := json.Unmarshal([]byte(c.want), &want); err != nil {
			t.Fatalf("bad expectation %s: %v", c.want, err)
		}
		if !reflect.DeepEqual(content, want) {
			gj, _ := json.Marshal(content)
			t.Errorf("%s %s: node decoded %s, want %s", c.path, c.key, gj, c.want)
		}
	}
}

func keysOf[V any](m map[string]V) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	return out
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, x := range a {
		seen[x]++
	}
	for _, x := range b {
		if seen[x] == 0 {
			return false
		}
		seen[x]--
	}
	return true
}
