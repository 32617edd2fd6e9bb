package spec

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestParseAppliesDefaults(t *testing.T) {
	n, err := Parse([]byte(baseSpec))
	if err != nil {
		t.Fatal(err)
	}
	o := n.Orderer
	if o.MSPID != "OrdererOrgMSP" || o.BatchTimeout != "2s" {
		t.Errorf("orderer defaults: mspID %q batchTimeout %q", o.MSPID, o.BatchTimeout)
	}
	wantBS := BatchSize{MaxMessageCount: 10, AbsoluteMaxBytes: 99 * 1024 * 1024, PreferredMaxBytes: 512 * 1024}
	if o.BatchSize != wantBS {
		t.Errorf("batchSize = %+v, want %+v", o.BatchSize, wantBS)
	}
	for i, want := range []string{"Org1MSP", "Org2MSP"} {
		if got := n.Orgs[i].MSPID; got != want {
			t.Errorf("orgs[%d].mspID = %q, want %q", i, got, want)
		}
		if !n.Orgs[i].HasCA() || n.Orgs[i].CA == nil {
			t.Errorf("orgs[%d].ca not defaulted to true", i)
		}
	}
	if ch := n.Channels[0]; ch.AnchorPeers == nil || !ch.HasAnchorPeers() {
		t.Errorf("anchorPeers not defaulted to true")
	}
	cc := n.Chaincodes[0]
	if cc.Version != "1.0" || cc.Sequence != 1 || cc.Label != "basic_1.0" || cc.Endorsement != "" || cc.InitRequired {
		t.Errorf("chaincode defaults: %+v", cc)
	}
}

func TestParseKeepsExplicitValues(t *testing.T) {
	doc := `name: demo
orderer:
  org: Ord
  domain: example.com
  mspID: OrdererMSP
  nodes: 1
  batchTimeout: 500ms
  batchSize: {maxMessageCount: 100, absoluteMaxBytes: 1048576, preferredMaxBytes: 1024}
orgs:
  - {name: Org1, domain: org1.example.com, mspID: FirstMSP, peers: 2, users: 0, ca: false}
channels:
  - {name: ch.one, orgs: [Org1], anchorPeers: false}
chaincodes:
  - name: asset_transfer
    channel: ch.one
    ccaas: {address: 'asset-transfer.default.svc:9999', tls: true}
    version: "2"
    sequence: 3
    endorsement: "OutOf(1, 'FirstMSP.peer')"
    initRequired: true
  - {name: labelled, channel: ch.one, path: ../cc, label: custom-label}
`
	n, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := &Network{
		Name: "demo",
		Orderer: Orderer{Org: "Ord", Domain: "example.com", MSPID: "OrdererMSP", Nodes: 1, BatchTimeout: "500ms",
			BatchSize: BatchSize{MaxMessageCount: 100, AbsoluteMaxBytes: 1 << 20, PreferredMaxBytes: 1024}},
		Orgs:     []Org{{Name: "Org1", Domain: "org1.example.com", MSPID: "FirstMSP", Peers: 2, CA: boolPtr(false)}},
		Channels: []Channel{{Name: "ch.one", Orgs: []string{"Org1"}, AnchorPeers: boolPtr(false)}},
		Chaincodes: []Chaincode{
			{Name: "asset_transfer", Channel: "ch.one", CCaaS: &CCaaS{Address: "asset-transfer.default.svc:9999", TLS: true},
				Version: "2", Sequence: 3, Endorsement: "OutOf(1, 'FirstMSP.peer')", InitRequired: true, Label: "asset_transfer_2"},
			{Name: "labelled", Channel: "ch.one", Path: "../cc", Version: "1.0", Sequence: 1, Label: "custom-label"},
		},
	}
	n.lines = nil
	if !reflect.DeepEqual(n, want) {
		t.Errorf("got  %+v\nwant %+v", n, want)
	}
	if n.Orgs[0].HasCA() || n.Channels[0].HasAnchorPeers() {
		t.Errorf("explicit false overridden")
	}
}

func TestDefaultValidates(t *testing.T) {
	n := Default()
	if err := n.Validate(); err != nil {
		t.Fatal(err)
	}
	if n.Orderer.Org != "OrdererOrg" || n.Orderer.Nodes != 3 || len(n.Orgs) != 2 ||
		n.Orgs[1].MSPID != "Org2MSP" || n.Channels[0].Name != "mychannel" ||
		n.Chaincodes[0].Path != "./chaincode/basic" {
		t.Errorf("Default() is not the test-network shape: %+v", n)
	}
}

func TestDefaultRoundTripsThroughYAML(t *testing.T) {
	data, err := yaml.Marshal(Default())
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	got.lines = nil
	if !reflect.DeepEqual(got, Default()) {
		t.Errorf("round trip changed the network:\n%s\ngot %+v", data, got)
	}
}

// The spec becomes a CRD spec, so the JSON form must carry the same
// camelCase names and round-trip too.
func TestJSONForm(t *testing.T) {
	data, err := json.Marshal(Default())
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"mspID":"Org1MSP"`, `"batchTimeout":"2s"`, `"maxMessageCount":10`, `"anchorPeers":true`, `"ca":true`} {
		if !strings.Contains(string(data), key) {
			t.Errorf("JSON lacks %s: %s", key, data)
		}
	}
	var back Network
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, Default()) {
		t.Errorf("JSON round trip changed the network: %+v", back)
	}
}

func TestValidateWithoutDefaultsOrLines(t *testing.T) {
	n := &Network{
		Name:     "demo",
		Orderer:  Orderer{Org: "OrdererOrg", Domain: "example.com", Nodes: 1},
		Orgs:     []Org{{Name: "Org1", Domain: "org1.example.com", Peers: 1}},
		Channels: []Channel{{Name: "ch", Orgs: []string{"Org1"}}},
		Chaincodes: []Chaincode{{Name: "cc", Channel: "ch", Path: "cc",
			Endorsement: "AND('Org1MSP.peer')"}},
	}
	if err := n.Validate(); err != nil {
		t.Fatalf("valid network without defaults rejected: %v", err)
	}
	if n.Orgs[0].MSPID != "" || n.Orderer.BatchTimeout != "" || n.Chaincodes[0].Version != "" {
		t.Errorf("Validate modified its receiver: %+v", n)
	}

	n.Orgs[0].Domain = "bad domain"
	err := n.Validate()
	probs := Problems(err)
	if len(probs) != 1 || probs[0].Line != 0 || probs[0].Path != "orgs[0].domain" ||
		!strings.HasPrefix(err.Error(), `spec: orgs[0].domain: "bad domain" is not a valid domain`) {
		t.Errorf("unexpected error: %v", err)
	}
}

func TestValidateReportsLinesAfterParse(t *testing.T) {
	n, err := Parse([]byte(baseSpec))
	if err != nil {
		t.Fatal(err)
	}
	n.Chaincodes[0].Channel = "gone"
	err = n.Validate()
	if err == nil || err.Error() != `spec line 9: chaincodes[0].channel: channel "gone" is not defined in channels` {
		t.Errorf("got %v", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "net.yaml")
	if err := os.WriteFile(good, []byte(baseSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(good); err != nil {
		t.Errorf("Load(good): %v", err)
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte(withLine(4, "  - {name: Org1, domain: org1.example.com, peers: 0, users: 1}")), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(bad)
	if err == nil || !strings.HasPrefix(err.Error(), "bad.yaml line 4: orgs[0].peers: 0 is out of range") {
		t.Errorf("Load(bad) = %v", err)
	}

	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || !os.IsNotExist(errorsUnwrapAll(err)) {
		t.Errorf("Load(missing) = %v, want a not-exist error", err)
	}
}

func errorsUnwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}

func TestExampleSpecParses(t *testing.T) {
	n, err := Load(filepath.Join("testdata", "network.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The example documents every field, so it should set each optional
	// one at least once.
	var ccaas, path, endorsement bool
	for _, cc := range n.Chaincodes {
		ccaas = ccaas || cc.CCaaS != nil
		path = path || cc.Path != ""
		endorsement = endorsement || cc.Endorsement != ""
	}
	if !ccaas || !path || !endorsement || len(n.Orgs) < 2 || len(n.Channels) < 1 {
		t.Errorf("example spec does not show path, ccaas and endorsement: %+v", n)
	}
}

func TestProblemsOnForeignError(t *testing.T) {
	if got := Problems(os.ErrNotExist); got != nil {
		t.Errorf("Problems(foreign) = %v", got)
	}
	if got := Problems(nil); got != nil {
		t.Errorf("Problems(nil) = %v", got)
	}
}

func TestOversizedSpec(t *testing.T) {
	_, err := Parse([]byte(baseSpec + "#" + strings.Repeat("x", MaxSpecSize)))
	if err == nil || !strings.Contains(err.Error(), "the limit is") {
		t.Errorf("got %v", err)
	}
}
