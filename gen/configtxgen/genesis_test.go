package configtxgen

import (
	"bytes"
	"slices"
	"sort"
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/wire/common"
	mspproto "weft/wire/msp"
	"weft/wire/orderer"
	"weft/wire/orderer/etcdraft"
	"weft/wire/peer"
)

// genesisFromTestdata runs the whole path: configtx.yaml -> profile ->
// channel group -> genesis block, and returns the block's channel group.
func genesisFromTestdata(t *testing.T, profile string) (*common.Block, *common.ConfigGroup) {
	t.Helper()
	p, err := Load(writeConfig(t), profile)
	if err != nil {
		t.Fatal(err)
	}
	group, err := channelconfig.NewChannelGroup(p)
	if err != nil {
		t.Fatal(err)
	}
	block, err := channelconfig.GenesisBlock("mychannel", group)
	if err != nil {
		t.Fatal(err)
	}
	env := &common.Envelope{}
	payload := &common.Payload{}
	ce := &common.ConfigEnvelope{}
	if err := proto.Unmarshal(block.GetData().GetData()[0], env); err != nil {
		t.Fatal(err)
	}
	if err := proto.Unmarshal(env.GetPayload(), payload); err != nil {
		t.Fatal(err)
	}
	if err := proto.Unmarshal(payload.GetData(), ce); err != nil {
		t.Fatal(err)
	}
	return block, ce.GetConfig().GetChannelGroup()
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func value(t *testing.T, g *common.ConfigGroup, key string, m proto.Message) {
	t.Helper()
	v := g.GetValues()[key]
	if v == nil {
		t.Fatalf("value %s missing (have %v)", key, keys(g.GetValues()))
	}
	if err := proto.Unmarshal(v.GetValue(), m); err != nil {
		t.Fatalf("value %s: %v", key, err)
	}
}

// allModPolicies walks the tree and reports every element whose mod_policy
// is not "Admins"; configtxgen writes "Admins" everywhere except the global
// OrdererAddresses value, which this profile does not have.
func checkModPolicies(t *testing.T, path string, g *common.ConfigGroup) {
	t.Helper()
	if g.GetModPolicy() != "Admins" {
		t.Errorf("%s: mod_policy %q", path, g.GetModPolicy())
	}
	for k, v := range g.GetValues() {
		if v.GetModPolicy() != "Admins" {
			t.Errorf("%s/values/%s: mod_policy %q", path, k, v.GetModPolicy())
		}
	}
	for k, p := range g.GetPolicies() {
		if p.GetModPolicy() != "Admins" {
			t.Errorf("%s/policies/%s: mod_policy %q", path, k, p.GetModPolicy())
		}
	}
	for k, sub := range g.GetGroups() {
		checkModPolicies(t, path+"/"+k, sub)
	}
}

func TestGenesisBlockFromConfig(t *testing.T) {
	_, root := genesisFromTestdata(t, "ChannelUsingRaft")
	checkModPolicies(t, "/Channel", root)

	type want struct {
		groups, values, policies []string
	}
	app, ord := root.GetGroups()["Application"], root.GetGroups()["Orderer"]
	for path, c := range map[string]struct {
		g *common.ConfigGroup
		w want
	}{
		"/Channel": {root, want{
			[]string{"Application", "Orderer"},
			[]string{"BlockDataHashingStructure", "Capabilities", "HashingAlgorithm"},
			[]string{"Admins", "Readers", "Writers"}}},
		"/Channel/Orderer": {ord, want{
			[]string{"OrdererOrg"},
			[]string{"BatchSize", "BatchTimeout", "Capabilities", "ChannelRestrictions", "ConsensusType"},
			[]string{"Admins", "BlockValidation", "Readers", "Writers"}}},
		"/Channel/Application": {app, want{
			[]string{"Org1MSP", "Org2MSP"},
			[]string{"ACLs", "Capabilities"},
			[]string{"Admins", "Endorsement", "LifecycleEndorsement", "Readers", "Writers"}}},
		"/Channel/Orderer/OrdererOrg": {ord.GetGroups()["OrdererOrg"], want{
			[]string{}, []string{"Endpoints", "MSP"}, []string{"Admins", "Readers", "Writers"}}},
		"/Channel/Application/Org1MSP": {app.GetGroups()["Org1MSP"], want{
			[]string{}, []string{"AnchorPeers", "MSP"}, []string{"Admins", "Endorsement", "Readers", "Writers"}}},
	} {
		if got := keys(c.g.GetGroups()); !slices.Equal(got, c.w.groups) {
			t.Errorf("%s groups = %v, want %v", path, got, c.w.groups)
		}
		if got := keys(c.g.GetValues()); !slices.Equal(got, c.w.values) {
			t.Errorf("%s values = %v, want %v", path, got, c.w.values)
		}
		if got := keys(c.g.GetPolicies()); !slices.Equal(got, c.w.policies) {
			t.Errorf("%s policies = %v, want %v", path, got, c.w.policies)
		}
	}

	var bs orderer.BatchSize
	value(t, ord, "BatchSize", &bs)
	if bs.GetMaxMessageCount() != 10 || bs.GetAbsoluteMaxBytes() != 103809024 || bs.GetPreferredMaxBytes() != 524288 {
		t.Errorf("BatchSize = %v", &bs)
	}
	var bt orderer.BatchTimeout
	value(t, ord, "BatchTimeout", &bt)
	if bt.GetTimeout() != "2s" {
		t.Errorf("BatchTimeout = %q", bt.GetTimeout())
	}
	var ct orderer.ConsensusType
	value(t, ord, "ConsensusType", &ct)
	var md etcdraft.ConfigMetadata
	if err := proto.Unmarshal(ct.GetMetadata(), &md); err != nil || ct.GetType() != "etcdraft" {
		t.Fatalf("ConsensusType %q metadata: %v", ct.GetType(), err)
	}
	if len(md.GetConsenters()) != 3 || md.GetOptions().GetTickInterval() != "250ms" || md.GetOptions().GetSnapshotIntervalSize() != 20<<20 {
		t.Errorf("raft metadata = %v", &md)
	}
	if c := md.GetConsenters()[1]; c.GetHost() != "orderer1.example.com" || c.GetPort() != 8050 ||
		!bytes.Equal(c.GetServerTlsCert(), ordererTLSCert(t, "orderer1.example.com")) {
		t.Errorf("consenter 1 = %s:%d", c.GetHost(), c.GetPort())
	}

	var caps common.Capabilities
	value(t, app, "Capabilities", &caps)
	if got := keys(caps.GetCapabilities()); !slices.Equal(got, []string{"V2_5"}) {
		t.Errorf("application capabilities = %v", got)
	}
	var acls peer.ACLs
	value(t, app, "ACLs", &acls)
	if acls.GetAcls()["_lifecycle/CheckCommitReadiness"].GetPolicyRef() != "/Channel/Application/Writers" {
		t.Errorf("ACLs = %v", &acls)
	}

	org1 := app.GetGroups()["Org1MSP"]
	var anchors peer.AnchorPeers
	value(t, org1, "AnchorPeers", &anchors)
	if len(anchors.GetAnchorPeers()) != 1 || anchors.GetAnchorPeers()[0].GetHost() != "peer0.org1.example.com" || anchors.GetAnchorPeers()[0].GetPort() != 7051 {
		t.Errorf("anchor peers = %v", &anchors)
	}
	var mc mspproto.MSPConfig
	var fc mspproto.FabricMSPConfig
	value(t, org1, "MSP", &mc)
	if err := proto.Unmarshal(mc.GetConfig(), &fc); err != nil || fc.GetName() != "Org1MSP" || len(fc.GetRootCerts()) == 0 {
		t.Errorf("Org1 MSP name %q, %d root certs, err %v", fc.GetName(), len(fc.GetRootCerts()), err)
	}
	var eps common.OrdererAddresses
	value(t, ord.GetGroups()["OrdererOrg"], "Endpoints", &eps)
	if len(eps.GetAddresses()) != 3 {
		t.Errorf("orderer endpoints = %v", eps.GetAddresses())
	}

	// Policy encodings: ImplicitMeta at group level, signature at org level.
	var imp common.ImplicitMetaPolicy
	pol := app.GetPolicies()["LifecycleEndorsement"].GetPolicy()
	if err := proto.Unmarshal(pol.GetValue(), &imp); err != nil || pol.GetType() != int32(common.Policy_IMPLICIT_META) ||
		imp.GetRule() != common.ImplicitMetaPolicy_MAJORITY || imp.GetSubPolicy() != "Endorsement" {
		t.Errorf("LifecycleEndorsement = type %d %v (%v)", pol.GetType(), &imp, err)
	}
	var spe common.SignaturePolicyEnvelope
	pol = org1.GetPolicies()["Readers"].GetPolicy()
	if err := proto.Unmarshal(pol.GetValue(), &spe); err != nil || pol.GetType() != int32(common.Policy_SIGNATURE) || len(spe.GetIdentities()) != 3 {
		t.Errorf("Org1 Readers = type %d %v (%v)", pol.GetType(), &spe, err)
	}
}

// The current fabric-samples network uses channel capability V3_0, where
// orderer endpoints live only in the orderer orgs.
func TestGenesisV3Capability(t *testing.T) {
	dir := writeConfig(t, "  Channel: &ChannelCapabilities\n    V2_0: true", "  Channel: &ChannelCapabilities\n    V3_0: true")
	p, err := Load(dir, "ChannelUsingRaft")
	if err != nil {
		t.Fatal(err)
	}
	root, err := channelconfig.NewChannelGroup(p)
	if err != nil {
		t.Fatal(err)
	}
	var caps common.Capabilities
	value(t, root, "Capabilities", &caps)
	if got := keys(caps.GetCapabilities()); !slices.Equal(got, []string{"V3_0"}) {
		t.Errorf("channel capabilities = %v", got)
	}

	// A global Addresses list is refused with V3_0, and accepted with V2_0
	// where it becomes the /Channel OrdererAddresses value.
	const addrs = "  OrdererType: etcdraft\n  Addresses:\n    - orderer0.example.com:7050\n"
	bad := writeConfig(t, "  Channel: &ChannelCapabilities\n    V2_0: true", "  Channel: &ChannelCapabilities\n    V3_0: true",
		"  OrdererType: etcdraft\n", addrs)
	if p, err = Load(bad, "ChannelUsingRaft"); err != nil {
		t.Fatal(err)
	}
	if _, err := channelconfig.NewChannelGroup(p); err == nil {
		t.Error("V3_0 with global Addresses: no error")
	}
	if p, err = Load(writeConfig(t, "  OrdererType: etcdraft\n", addrs), "ChannelUsingRaft"); err != nil {
		t.Fatal(err)
	}
	if root, err = channelconfig.NewChannelGroup(p); err != nil {
		t.Fatal(err)
	}
	var oa common.OrdererAddresses
	value(t, root, "OrdererAddresses", &oa)
	if !slices.Equal(oa.GetAddresses(), []string{"orderer0.example.com:7050"}) {
		t.Errorf("OrdererAddresses = %v", oa.GetAddresses())
	}
}
