package channelconfig

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/wire/common"
	mspproto "weft/wire/msp"
	ab "weft/wire/orderer"
	"weft/wire/orderer/etcdraft"
	pb "weft/wire/peer"
)

func btMustBuild(t *testing.T, p *Profile) *common.ConfigGroup {
	t.Helper()
	g, err := NewChannelGroup(p)
	if err != nil {
		t.Fatalf("NewChannelGroup: %v", err)
	}
	return g
}

// btShape is the expected key sets of one group.
type btShape struct {
	groups, values, policies []string
}

func btCheckShape(t *testing.T, path string, g *common.ConfigGroup, want btShape) {
	t.Helper()
	if g == nil {
		t.Fatalf("%s: group missing", path)
	}
	for _, c := range []struct {
		kind      string
		got, want []string
	}{
		{"groups", btKeys(g.GetGroups()), want.groups},
		{"values", btKeys(g.GetValues()), want.values},
		{"policies", btKeys(g.GetPolicies()), want.policies},
	} {
		w := slices.Clone(c.want)
		slices.Sort(w)
		if !slices.Equal(c.got, w) {
			t.Errorf("%s %s = %v, want %v", path, c.kind, c.got, w)
		}
	}
}

// btWalk visits every group, value and policy with its path.
func btWalk(path string, g *common.ConfigGroup, f func(path string, version uint64, modPolicy string)) {
	f(path, g.GetVersion(), g.GetModPolicy())
	for k, v := range g.GetValues() {
		f(path+"/values/"+k, v.GetVersion(), v.GetModPolicy())
	}
	for k, p := range g.GetPolicies() {
		f(path+"/policies/"+k, p.GetVersion(), p.GetModPolicy())
	}
	for k, c := range g.GetGroups() {
		btWalk(path+"/"+k, c, f)
	}
}

func TestNewChannelGroupTreeShape(t *testing.T) {
	g := btMustBuild(t, btProfile(t))
	orderer := g.GetGroups()["Orderer"]
	app := g.GetGroups()["Application"]
	btCheckShape(t, "/Channel", g, btShape{
		groups:   []string{"Orderer", "Application"},
		values:   []string{"HashingAlgorithm", "BlockDataHashingStructure", "OrdererAddresses", "Capabilities"},
		policies: []string{"Readers", "Writers", "Admins"},
	})
	btCheckShape(t, "/Channel/Orderer", orderer, btShape{
		groups:   []string{"OrdererOrg"},
		values:   []string{"BatchSize", "BatchTimeout", "ChannelRestrictions", "Capabilities", "ConsensusType"},
		policies: []string{"Readers", "Writers", "Admins", "BlockValidation"},
	})
	btCheckShape(t, "/Channel/Orderer/OrdererOrg", orderer.GetGroups()["OrdererOrg"], btShape{
		values:   []string{"MSP", "Endpoints"},
		policies: []string{"Readers", "Writers", "Admins"},
	})
	btCheckShape(t, "/Channel/Application", app, btShape{
		groups:   []string{"Org1MSP", "Org2MSP"},
		values:   []string{"Capabilities"},
		policies: []string{"Readers", "Writers", "Admins", "Endorsement", "LifecycleEndorsement"},
	})
	for _, org := range []string{"Org1MSP", "Org2MSP"} {
		btCheckShape(t, "/Channel/Application/"+org, app.GetGroups()[org], btShape{
			values:   []string{"MSP", "AnchorPeers"},
			policies: []string{"Readers", "Writers", "Admins", "Endorsement"},
		})
	}

	n := 0
	btWalk("/Channel", g, func(path string, version uint64, modPolicy string) {
		n++
		if version != 0 {
			t.Errorf("%s: version %d, want 0", path, version)
		}
		want := "Admins"
		if path == "/Channel/values/OrdererAddresses" {
			want = "/Channel/Orderer/Admins"
		}
		if modPolicy != want {
			t.Errorf("%s: mod_policy %q, want %q", path, modPolicy, want)
		}
	})
	// 6 groups, 4+5+2+1+2+2 values, 3+4+3+5+4+4 policies.
	if n != 6+16+23 {
		t.Errorf("walked %d elements, want %d", n, 6+16+23)
	}
}

func btValue(t *testing.T, g *common.ConfigGroup, key string, m proto.Message) []byte {
	t.Helper()
	v := g.GetValues()[key]
	if v == nil {
		t.Fatalf("value %s missing", key)
	}
	if err := proto.Unmarshal(v.GetValue(), m); err != nil {
		t.Fatalf("value %s: %v", key, err)
	}
	return v.GetValue()
}

func btCaps(t *testing.T, g *common.ConfigGroup) []string {
	t.Helper()
	var c common.Capabilities
	btValue(t, g, "Capabilities", &c)
	for name, v := range c.GetCapabilities() {
		if v == nil {
			t.Errorf("capability %s has nil message", name)
		}
	}
	return btKeys(c.GetCapabilities())
}

func TestNewChannelGroupValues(t *testing.T) {
	p := btProfile(t)
	g := btMustBuild(t, p)
	orderer := g.GetGroups()["Orderer"]
	app := g.GetGroups()["Application"]

	// Known-answer encodings, written out by hand from the proto field
	// numbers, so a mistake in message choice or field mapping shows.
	for _, c := range []struct {
		g       *common.ConfigGroup
		key     string
		wantHex string
	}{
		{g, "HashingAlgorithm", "0a06" + hex.EncodeToString([]byte("SHA256"))},
		{g, "BlockDataHashingStructure", "08ffffffff0f"},
		{orderer, "BatchSize", "080a108080c03118808020"},
		{orderer, "BatchTimeout", "0a02" + hex.EncodeToString([]byte("2s"))},
		{orderer, "ChannelRestrictions", ""},
		{g, "Capabilities", "0a080a0456325f301200"},
	} {
		if got := hex.EncodeToString(c.g.GetValues()[c.key].GetValue()); got != c.wantHex {
			t.Errorf("%s = %s, want %s", c.key, got, c.wantHex)
		}
	}

	var addrs common.OrdererAddresses
	btValue(t, g, "OrdererAddresses", &addrs)
	if !slices.Equal(addrs.GetAddresses(), []string{"orderer0.example.com:7050"}) {
		t.Errorf("OrdererAddresses = %v", addrs.GetAddresses())
	}
	for _, c := range []struct {
		g    *common.ConfigGroup
		want string
	}{{g, "V2_0"}, {orderer, "V2_0"}, {app, "V2_0"}} {
		if got := btCaps(t, c.g); !slices.Equal(got, []string{c.want}) {
			t.Errorf("capabilities = %v, want [%s]", got, c.want)
		}
	}

	var bs ab.BatchSize
	btValue(t, orderer, "BatchSize", &bs)
	if bs.GetMaxMessageCount() != 10 || bs.GetAbsoluteMaxBytes() != 99<<20 || bs.GetPreferredMaxBytes() != 512<<10 {
		t.Errorf("BatchSize = %v", &bs)
	}

	var ct ab.ConsensusType
	btValue(t, orderer, "ConsensusType", &ct)
	if ct.GetType() != "etcdraft" || ct.GetState() != ab.ConsensusType_STATE_NORMAL {
		t.Errorf("ConsensusType = %q state %v", ct.GetType(), ct.GetState())
	}
	var md etcdraft.ConfigMetadata
	if err := proto.Unmarshal(ct.GetMetadata(), &md); err != nil {
		t.Fatal(err)
	}
	if len(md.GetConsenters()) != 3 {
		t.Fatalf("consenters = %d, want 3", len(md.GetConsenters()))
	}
	for i, c := range md.GetConsenters() {
		in := p.Orderer.EtcdRaft.Consenters[i]
		if c.GetHost() != in.Host || c.GetPort() != 7050 ||
			!bytes.Equal(c.GetClientTlsCert(), in.ClientTLSCert) || !bytes.Equal(c.GetServerTlsCert(), in.ServerTLSCert) {
			t.Errorf("consenter %d = %s:%d, certs differ from input", i, c.GetHost(), c.GetPort())
		}
	}
	o := md.GetOptions()
	if o.GetTickInterval() != "500ms" || o.GetElectionTick() != 10 || o.GetHeartbeatTick() != 1 ||
		o.GetMaxInflightBlocks() != 5 || o.GetSnapshotIntervalSize() != 16<<20 {
		t.Errorf("etcdraft options = %v", o)
	}

	ordOrg := orderer.GetGroups()["OrdererOrg"]
	var eps common.OrdererAddresses
	btValue(t, ordOrg, "Endpoints", &eps)
	if !slices.Equal(eps.GetAddresses(), p.Orderer.Organizations[0].OrdererEndpoints) {
		t.Errorf("Endpoints = %v", eps.GetAddresses())
	}
	btCheckMSP(t, ordOrg, p.Orderer.Organizations[0].MSP, "OrdererMSP")

	for i, name := range []string{"Org1MSP", "Org2MSP"} {
		og := app.GetGroups()[name]
		btCheckMSP(t, og, p.Application.Organizations[i].MSP, name)
		var aps pb.AnchorPeers
		btValue(t, og, "AnchorPeers", &aps)
		want := p.Application.Organizations[i].AnchorPeers[0]
		if len(aps.GetAnchorPeers()) != 1 || aps.GetAnchorPeers()[0].GetHost() != want.Host || aps.GetAnchorPeers()[0].GetPort() != 7051 {
			t.Errorf("%s AnchorPeers = %v", name, aps.GetAnchorPeers())
		}
	}
}

func btCheckMSP(t *testing.T, g *common.ConfigGroup, want *mspproto.MSPConfig, mspID string) {
	t.Helper()
	var got mspproto.MSPConfig
	btValue(t, g, "MSP", &got)
	if !proto.Equal(&got, want) {
		t.Errorf("MSP value differs from input")
	}
	var fc mspproto.FabricMSPConfig
	if err := proto.Unmarshal(got.GetConfig(), &fc); err != nil || fc.GetName() != mspID {
		t.Errorf("MSP name = %q (err %v), want %q", fc.GetName(), err, mspID)
	}
}

// btDescribePolicy renders a config policy as text: "IMPLICIT_META MAJORITY
// Admins" or "SIGNATURE 1of(Org1MSP.ADMIN,Org1MSP.PEER)".
func btDescribePolicy(t *testing.T, cp *common.ConfigPolicy) string {
	t.Helper()
	p := cp.GetPolicy()
	switch common.Policy_PolicyType(p.GetType()) {
	case common.Policy_IMPLICIT_META:
		var imp common.ImplicitMetaPolicy
		if err := proto.Unmarshal(p.GetValue(), &imp); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("IMPLICIT_META %s %s", imp.GetRule(), imp.GetSubPolicy())
	case common.Policy_SIGNATURE:
		var env common.SignaturePolicyEnvelope
		if err := proto.Unmarshal(p.GetValue(), &env); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, pr := range env.GetIdentities() {
			var role common.MSPRole
			if pr.GetPrincipalClassification() != common.MSPPrincipal_ROLE {
				t.Fatalf("principal classification %v", pr.GetPrincipalClassification())
			}
			if err := proto.Unmarshal(pr.GetPrincipal(), &role); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, role.GetMspIdentifier()+"."+role.GetRole().String())
		}
		return "SIGNATURE " + btDescribeRule(env.GetRule(), ids)
	}
	return fmt.Sprintf("type %d", p.GetType())
}

func btDescribeRule(r *common.SignaturePolicy, ids []string) string {
	if n := r.GetNOutOf(); n != nil {
		var parts []string
		for _, sub := range n.GetRules() {
			parts = append(parts, btDescribeRule(sub, ids))
		}
		return fmt.Sprintf("%dof(%s)", n.GetN(), strings.Join(parts, ","))
	}
	i := int(r.GetSignedBy())
	if i < 0 || i >= len(ids) {
		return fmt.Sprintf("bad-index-%d", i)
	}
	return ids[i]
}

func TestNewChannelGroupPolicies(t *testing.T) {
	g := btMustBuild(t, btProfile(t))
	orderer := g.GetGroups()["Orderer"]
	app := g.GetGroups()["Application"]
	want := map[string]map[string]string{
		"/Channel": {
			"Readers": "IMPLICIT_META ANY Readers", "Writers": "IMPLICIT_META ANY Writers",
			"Admins": "IMPLICIT_META MAJORITY Admins",
		},
		"/Channel/Orderer": {
			"Readers": "IMPLICIT_META ANY Readers", "Writers": "IMPLICIT_META ANY Writers",
			"Admins": "IMPLICIT_META MAJORITY Admins", "BlockValidation": "IMPLICIT_META ANY Writers",
		},
		"/Channel/Orderer/OrdererOrg": {
			"Readers": "SIGNATURE 1of(OrdererMSP.MEMBER)", "Writers": "SIGNATURE 1of(OrdererMSP.MEMBER)",
			"Admins": "SIGNATURE 1of(OrdererMSP.ADMIN)",
		},
		"/Channel/Application": {
			"Readers": "IMPLICIT_META ANY Readers", "Writers": "IMPLICIT_META ANY Writers",
			"Admins":               "IMPLICIT_META MAJORITY Admins",
			"Endorsement":          "IMPLICIT_META MAJORITY Endorsement",
			"LifecycleEndorsement": "IMPLICIT_META MAJORITY Endorsement",
		},
	}
	for _, org := range []string{"Org1MSP", "Org2MSP"} {
		want["/Channel/Application/"+org] = map[string]string{
			"Readers":     fmt.Sprintf("SIGNATURE 1of(%[1]s.ADMIN,%[1]s.PEER,%[1]s.CLIENT)", org),
			"Writers":     fmt.Sprintf("SIGNATURE 1of(%[1]s.ADMIN,%[1]s.CLIENT)", org),
			"Admins":      fmt.Sprintf("SIGNATURE 1of(%s.ADMIN)", org),
			"Endorsement": fmt.Sprintf("SIGNATURE 1of(%s.PEER)", org),
		}
	}
	groups := map[string]*common.ConfigGroup{
		"/Channel": g, "/Channel/Orderer": orderer, "/Channel/Application": app,
		"/Channel/Orderer/OrdererOrg":  orderer.GetGroups()["OrdererOrg"],
		"/Channel/Application/Org1MSP": app.GetGroups()["Org1MSP"],
		"/Channel/Application/Org2MSP": app.GetGroups()["Org2MSP"],
	}
	for path, pols := range want {
		for name, w := range pols {
			cp := groups[path].GetPolicies()[name]
			if cp == nil {
				t.Errorf("%s policy %s missing", path, name)
				continue
			}
			if got := btDescribePolicy(t, cp); got != w {
				t.Errorf("%s policy %s = %q, want %q", path, name, got, w)
			}
		}
	}
}
