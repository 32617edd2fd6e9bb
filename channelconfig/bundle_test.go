package channelconfig

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"weft/wire/common"
	mspproto "weft/wire/msp"
	"weft/wire/orderer"
)

func TestBundleAccessors(t *testing.T) {
	n := newTestNet(t)
	b := n.bundle(t)
	if b.ChannelID() != testChannel || b.Sequence() != 0 {
		t.Fatalf("channel %q sequence %d", b.ChannelID(), b.Sequence())
	}
	if bs := b.BatchSize(); bs.MaxMessageCount != 10 || bs.AbsoluteMaxBytes != 10<<20 || bs.PreferredMaxBytes != 2<<20 {
		t.Fatalf("batch size %v", bs)
	}
	if b.BatchTimeout() != 2*time.Second {
		t.Fatalf("batch timeout %v", b.BatchTimeout())
	}
	if b.ConsensusType() != "etcdraft" || len(b.EtcdRaftConsenters()) != 1 || b.EtcdRaftConsenters()[0].Port != 7050 {
		t.Fatalf("consensus %q consenters %v", b.ConsensusType(), b.EtcdRaftConsenters())
	}
	if b.EtcdRaftOptions().GetTickInterval() != "500ms" {
		t.Fatalf("raft options %v", b.EtcdRaftOptions())
	}
	if got := b.OrdererAddresses(); len(got) != 1 || got[0] != "orderer0.OrdererMSP:7050" {
		t.Fatalf("orderer addresses %v", got)
	}
	orgs := b.ApplicationOrgs()
	if len(orgs) != 2 || orgs[0].Name != "Org1MSP" || orgs[0].MSPID != "Org1MSP" || orgs[1].AnchorPeers[0].Port != 9051 {
		t.Fatalf("application orgs %+v", orgs)
	}
	if oo := b.OrdererOrgs(); len(oo) != 1 || oo[0].MSPID != "OrdererMSP" {
		t.Fatalf("orderer orgs %+v", oo)
	}
	if !b.ChannelCapabilities().Has("V3_0") || b.ChannelCapabilities().Has("V2_0") ||
		!b.ApplicationCapabilities().Has("V2_5") || b.OrdererCapabilities().Names()[0] != "V2_0" {
		t.Fatalf("capabilities %v %v %v", b.ChannelCapabilities().Names(), b.OrdererCapabilities().Names(), b.ApplicationCapabilities().Names())
	}
	for _, id := range []string{"Org1MSP", "Org2MSP", "OrdererMSP"} {
		if _, ok := b.MSPManager().MSP(id); !ok {
			t.Fatalf("MSP %s missing", id)
		}
	}
	if _, ok := b.MSPManager().MSP("Org3MSP"); ok {
		t.Fatal("Org3MSP must not be a channel member")
	}
	if _, ok := b.PolicyManager().Policy("/Channel/Application/Org1MSP/Admins"); !ok {
		t.Fatal("org admin policy missing")
	}
	// Accessors hand out copies.
	b.BatchSize().MaxMessageCount = 1
	b.ApplicationOrgs()[0].AnchorPeers[0].Port = 1
	if b.BatchSize().MaxMessageCount != 10 || b.ApplicationOrgs()[0].AnchorPeers[0].Port != 7051 {
		t.Fatal("accessor results alias the bundle")
	}
}

func TestBundleSharedMSP(t *testing.T) {
	// An org that runs both peers and orderers may appear in both groups
	// with the same MSP definition.
	n := newTestNet(t)
	cfg := cloneCfg(n.cfg, func(r *common.ConfigGroup) {
		r.Groups[OrdererGroupKey].Groups["OrdererOrg"].Values[MSPKey] = r.Groups[ApplicationGroupKey].Groups["Org1MSP"].Values[MSPKey]
	})
	b, err := NewBundle(testChannel, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if oo := b.OrdererOrgs(); oo[0].MSPID != "Org1MSP" {
		t.Fatalf("orderer org MSP ID %q", oo[0].MSPID)
	}
	if _, ok := b.MSPManager().MSP("OrdererMSP"); ok {
		t.Fatal("OrdererMSP should no longer be defined")
	}
}

func TestBundleOrdererAddressFallback(t *testing.T) {
	n := newTestNet(t)
	cfg := cloneCfg(n.cfg, func(r *common.ConfigGroup) {
		r.Values[CapabilitiesKey] = capabilities(t, "V2_0")
		r.Values["OrdererAddresses"] = cfgValue(t, &common.OrdererAddresses{Addresses: []string{"global:7050"}})
		delete(r.Groups[OrdererGroupKey].Groups["OrdererOrg"].Values, EndpointsKey)
	})
	b, err := NewBundle(testChannel, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.OrdererAddresses(); len(got) != 1 || got[0] != "global:7050" {
		t.Fatalf("addresses %v, want the global fallback", got)
	}
}

func TestNewBundleRejects(t *testing.T) {
	n := newTestNet(t)
	set := func(path []string, key string, v *common.ConfigValue) func(r *common.ConfigGroup) {
		return func(r *common.ConfigGroup) {
			g := r
			for _, p := range path {
				g = g.Groups[p]
			}
			if v == nil {
				delete(g.Values, key)
				return
			}
			g.Values[key] = v
		}
	}
	ord := []string{OrdererGroupKey}
	batch := func(m, a, p uint32) *common.ConfigValue {
		return cfgValue(t, &orderer.BatchSize{MaxMessageCount: m, AbsoluteMaxBytes: a, PreferredMaxBytes: p})
	}
	cases := []struct {
		name    string
		channel string
		edit    func(r *common.ConfigGroup)
		wantErr string
	}{
		{"bad channel ID", "MyChannel", func(*common.ConfigGroup) {}, `channel ID "MyChannel"`},
		{"zero max message count", "", set(ord, "BatchSize", batch(0, 10, 5)), "max_message_count must be > 0"},
		{"zero absolute max bytes", "", set(ord, "BatchSize", batch(1, 0, 5)), "absolute_max_bytes must be > 0"},
		{"zero preferred max bytes", "", set(ord, "BatchSize", batch(1, 10, 0)), "preferred_max_bytes must be > 0"},
		{"preferred above absolute", "", set(ord, "BatchSize", batch(1, 10, 11)), "preferred_max_bytes 11 is greater than absolute_max_bytes 10"},
		{"missing batch size", "", set(ord, "BatchSize", nil), "/Channel/Orderer: Values/BatchSize: missing"},
		{"unparsable batch timeout", "", set(ord, "BatchTimeout", cfgValue(t, &orderer.BatchTimeout{Timeout: "soon"})), `timeout "soon"`},
		{"negative batch timeout", "", set(ord, "BatchTimeout", cfgValue(t, &orderer.BatchTimeout{Timeout: "-1s"})), "must be positive"},
		{"zero batch timeout", "", set(ord, "BatchTimeout", cfgValue(t, &orderer.BatchTimeout{Timeout: "0s"})), "must be positive"},
		{"unknown consensus type", "", set(ord, "ConsensusType", cfgValue(t, &orderer.ConsensusType{Type: "kafka"})), `unknown consensus type "kafka"`},
		{"raft without consenters", "", set(ord, "ConsensusType", cfgValue(t, &orderer.ConsensusType{Type: "etcdraft"})), "no consenters"},
		{"BFT without mapping", "", set(ord, "ConsensusType", cfgValue(t, &orderer.ConsensusType{Type: "BFT"})), "BFT needs a non-empty consenter mapping"},
		{"garbage value", "", set(ord, "BatchSize", &common.ConfigValue{Value: []byte{0xff}}), "/Channel/Orderer: Values/BatchSize"},
		{"bad group key", "", func(r *common.ConfigGroup) {
			r.Groups[ApplicationGroupKey].Groups["Org 1"] = r.Groups[ApplicationGroupKey].Groups["Org1MSP"]
		}, `/Channel/Application/Org 1: key "Org 1"`},
		{"bad value key", "", set(nil, "a/b", &common.ConfigValue{}), `key "a/b"`},
		{"dot key", "", func(r *common.ConfigGroup) { r.Policies[".."] = r.Policies["Admins"] }, `key ".." is not allowed`},
		{"unknown value key", "", set(ord, "Batchsize", batch(1, 1, 1)), "Values/Batchsize: unknown value key"},
		{"unknown channel group", "", func(r *common.ConfigGroup) { r.Groups["Consortiums"] = &common.ConfigGroup{} }, "/Channel/Consortiums: group not allowed"},
		{"org missing MSP", "", set([]string{ApplicationGroupKey, "Org1MSP"}, MSPKey, nil), "Org1MSP/Values/MSP: missing"},
		{"org with invalid MSP", "", set([]string{ApplicationGroupKey, "Org1MSP"}, MSPKey,
			cfgValue(t, &mspproto.MSPConfig{Type: 1})), "Org1MSP/Values/MSP"},
		{"MSP ID defined twice differently", "", func(r *common.ConfigGroup) {
			fab := &mspproto.FabricMSPConfig{}
			if err := proto.Unmarshal(n.org1.mspCfg.Config, fab); err != nil {
				t.Fatal(err)
			}
			fab.TlsRootCerts = nil
			r.Groups[OrdererGroupKey].Groups["OrdererOrg"].Values[MSPKey] = cfgValue(t, &mspproto.MSPConfig{Config: mustMarshal(t, fab)})
		}, `MSP ID "Org1MSP" is defined differently in /Channel/`},
		{"org sub-group", "", func(r *common.ConfigGroup) {
			r.Groups[ApplicationGroupKey].Groups["Org1MSP"].Groups = map[string]*common.ConfigGroup{"x": {}}
		}, "cannot have sub-groups"},
		{"unknown capability", "", set(nil, CapabilitiesKey, capabilities(t, "V9_9")), `capability "V9_9" is not supported`},
		{"bad hashing algorithm", "", set(nil, "HashingAlgorithm", cfgValue(t, &common.HashingAlgorithm{Name: "MD5"})), `unsupported algorithm "MD5"`},
		{"bad block data width", "", set(nil, "BlockDataHashingStructure", cfgValue(t, &common.BlockDataHashingStructure{Width: 4})), "width 4 not supported"},
		{"global addresses with V3_0", "", set(nil, "OrdererAddresses", cfgValue(t, &common.OrdererAddresses{Addresses: []string{"o:7050"}})),
			"not allowed with channel capability V3_0"},
		{"no addresses before V1_4_2", "", func(r *common.ConfigGroup) {
			r.Values[CapabilitiesKey] = capabilities(t, "V1_3")
			delete(r.Groups[OrdererGroupKey].Groups["OrdererOrg"].Values, EndpointsKey)
		}, "must list addresses before channel capability V1_4_2"},
		{"bad policy", "", func(r *common.ConfigGroup) {
			r.Policies["Admins"] = &common.ConfigPolicy{Policy: &common.Policy{Type: 1, Value: []byte{0xff}}, ModPolicy: "Admins"}
		}, "policies"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ch := tc.channel
			if ch == "" {
				ch = testChannel
			}
			_, err := NewBundle(ch, cloneCfg(n.cfg, tc.edit))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v\nwant it to contain %q", err, tc.wantErr)
			}
		})
	}
	t.Run("nil config", func(t *testing.T) {
		if _, err := NewBundle(testChannel, nil); err == nil || !strings.Contains(err.Error(), "config is nil") {
			t.Fatalf("error %v", err)
		}
		if _, err := NewBundle(testChannel, &common.Config{}); err == nil || !strings.Contains(err.Error(), "no channel group") {
			t.Fatalf("error %v", err)
		}
	})
}

// TestTestIdentities pins down why the negative signature cases fail: the
// expired and revoked admins are rejected by the channel MSP itself.
func TestTestIdentities(t *testing.T) {
	n := newTestNet(t)
	mg := n.bundle(t).MSPManager()
	cases := []struct {
		name    string
		s       *testSigner
		wantErr string
	}{
		{"admin", n.org1.admin, ""},
		{"peer", n.org1.peer, ""},
		{"expired admin", n.org1.expired, "expire"},
		{"revoked admin", n.org1.revoked, "revoked"},
		{"outsider", n.org3.admin, "Org3MSP"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := mg.DeserializeIdentity(tc.s.serialized)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
}
