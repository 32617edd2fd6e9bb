package channelconfig

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"weft/wire/common"
	mspproto "weft/wire/msp"
	ab "weft/wire/orderer"
	"weft/wire/orderer/etcdraft"
	pb "weft/wire/peer"
)

func TestNewChannelGroupRejects(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(t *testing.T, p *Profile)
		want   string
	}{
		{"channel Admins missing", func(t *testing.T, p *Profile) { delete(p.Policies, "Admins") },
			`Policies: required policy "Admins" is missing`},
		{"no channel policies", func(t *testing.T, p *Profile) { p.Policies = nil },
			"Policies: no policies defined"},
		{"unknown policy type", func(t *testing.T, p *Profile) {
			p.Policies["Readers"] = PolicySpec{Type: "implicitmeta", Rule: "ANY Readers"}
		}, `Policies[Readers].Type: unknown policy type "implicitmeta"`},
		{"empty rule", func(t *testing.T, p *Profile) { p.Policies["Readers"] = PolicySpec{Type: "ImplicitMeta"} },
			"Policies[Readers].Rule is empty"},
		{"bad implicit meta rule", func(t *testing.T, p *Profile) {
			p.Policies["Writers"] = PolicySpec{Type: "ImplicitMeta", Rule: "SOME Writers"}
		}, `Policies: policy Writers: implicit meta rule "SOME Writers"`},
		{"bad signature rule", func(t *testing.T, p *Profile) {
			p.Application.Organizations[0].Policies["Admins"] = PolicySpec{Type: "Signature", Rule: "OR('Org1MSP.admin'"}
		}, `org "Org1MSP": Policies: policy Admins: signature rule`},
		{"bad policy name", func(t *testing.T, p *Profile) {
			p.Orderer.Policies["Block Validation"] = specImplicitMeta("ANY Writers")
		}, `Orderer.Policies: policy name "Block Validation" has characters outside`},
		{"unknown channel capability", func(t *testing.T, p *Profile) { p.Capabilities = []string{"V2_5"} },
			`Capabilities[0]: unknown capability "V2_5"`},
		{"unknown orderer capability", func(t *testing.T, p *Profile) { p.Orderer.Capabilities = []string{"V3_0"} },
			`Orderer.Capabilities[0]: unknown capability "V3_0"`},
		{"unknown application capability", func(t *testing.T, p *Profile) { p.Application.Capabilities = []string{"V9"} },
			`Application.Capabilities[0]: unknown capability "V9"`},
		{"no orderer", func(t *testing.T, p *Profile) { p.Orderer = nil }, "Orderer: section is required"},
		{"solo", func(t *testing.T, p *Profile) { p.Orderer.OrdererType = "solo" },
			`Orderer.OrdererType: unsupported orderer type "solo"`},
		{"empty orderer type", func(t *testing.T, p *Profile) { p.Orderer.OrdererType = "" },
			`Orderer.OrdererType: unsupported orderer type ""`},
		{"preferred above absolute", func(t *testing.T, p *Profile) {
			p.Orderer.BatchSize = BatchSizeSpec{MaxMessageCount: 10, AbsoluteMaxBytes: 1024, PreferredMaxBytes: 1048576}
		}, "Orderer.BatchSize.PreferredMaxBytes (1048576) must not exceed AbsoluteMaxBytes (1024)"},
		{"negative batch timeout", func(t *testing.T, p *Profile) { p.Orderer.BatchTimeout = -time.Second },
			"Orderer.BatchTimeout (-1s) must be positive"},
		{"no BlockValidation", func(t *testing.T, p *Profile) { delete(p.Orderer.Policies, "BlockValidation") },
			`Orderer.Policies: required policy "BlockValidation" is missing`},
		{"no etcdraft", func(t *testing.T, p *Profile) { p.Orderer.EtcdRaft = nil },
			"Orderer.EtcdRaft: missing for orderer type etcdraft"},
		{"no consenters", func(t *testing.T, p *Profile) { p.Orderer.EtcdRaft.Consenters = nil },
			"Orderer.EtcdRaft.Consenters: at least one consenter is required"},
		{"consenter without client cert", func(t *testing.T, p *Profile) { p.Orderer.EtcdRaft.Consenters[1].ClientTLSCert = nil },
			"Orderer.EtcdRaft.Consenters[1] (orderer1.example.com:7050).ClientTLSCert: missing certificate"},
		{"consenter server cert not PEM", func(t *testing.T, p *Profile) {
			p.Orderer.EtcdRaft.Consenters[2].ServerTLSCert = []byte("/path/to/server.crt")
		}, "Orderer.EtcdRaft.Consenters[2] (orderer2.example.com:7050).ServerTLSCert: not a PEM CERTIFICATE block"},
		{"consenter port", func(t *testing.T, p *Profile) { p.Orderer.EtcdRaft.Consenters[0].Port = 0 },
			"Orderer.EtcdRaft.Consenters[0].Port 0 is not in 1..65535"},
		{"consenter host", func(t *testing.T, p *Profile) { p.Orderer.EtcdRaft.Consenters[0].Host = "" },
			"Orderer.EtcdRaft.Consenters[0].Host is empty"},
		{"duplicate consenter", func(t *testing.T, p *Profile) {
			p.Orderer.EtcdRaft.Consenters[1].Host = p.Orderer.EtcdRaft.Consenters[0].Host
		}, "Orderer.EtcdRaft.Consenters[1]: duplicate consenter orderer0.example.com:7050"},
		{"election tick", func(t *testing.T, p *Profile) {
			p.Orderer.EtcdRaft.Options.ElectionTick, p.Orderer.EtcdRaft.Options.HeartbeatTick = 2, 2
		}, "Orderer.EtcdRaft.Options.ElectionTick (2) must be greater than HeartbeatTick (2)"},
		{"tick interval", func(t *testing.T, p *Profile) { p.Orderer.EtcdRaft.Options.TickInterval = "500" },
			`Orderer.EtcdRaft.Options.TickInterval "500" is not a positive duration`},
		{"no orderer orgs", func(t *testing.T, p *Profile) { p.Orderer.Organizations = nil },
			"Orderer.Organizations: at least one orderer organization is required"},
		{"no app orgs", func(t *testing.T, p *Profile) { p.Application.Organizations = nil },
			"Application.Organizations: at least one application organization is required"},
		{"missing MSP", func(t *testing.T, p *Profile) { p.Application.Organizations[1].MSP = nil },
			"Application.Organizations[1] (Org2MSP).MSP: missing MSP config"},
		{"MSP name mismatch", func(t *testing.T, p *Profile) { p.Application.Organizations[1].ID = "Org3MSP" },
			`Application.Organizations[1] (Org2MSP).MSP: MSP name "Org2MSP" differs from org ID "Org3MSP"`},
		{"idemix MSP", func(t *testing.T, p *Profile) { p.Application.Organizations[0].MSP.Type = 1 },
			"Application.Organizations[0] (Org1MSP).MSP: MSP type 1 is not supported"},
		{"MSP without roots", func(t *testing.T, p *Profile) {
			b, _ := proto.Marshal(&mspproto.FabricMSPConfig{Name: "Org1MSP"})
			p.Application.Organizations[0].MSP = &mspproto.MSPConfig{Config: b}
		}, "Application.Organizations[0] (Org1MSP).MSP: no root certificates"},
		{"empty MSP ID", func(t *testing.T, p *Profile) { p.Application.Organizations[0].ID = "" },
			"Application.Organizations[0] (Org1MSP).ID (MSP ID) is empty"},
		{"duplicate org name", func(t *testing.T, p *Profile) { p.Application.Organizations[1].Name = "Org1MSP" },
			`Application.Organizations[1] (Org1MSP): duplicate organization name "Org1MSP"`},
		{"duplicate MSP ID", func(t *testing.T, p *Profile) {
			o := p.Application.Organizations[0]
			o.Name = "Org1Again"
			p.Application.Organizations = append(p.Application.Organizations, o)
		}, `Application.Organizations[2] (Org1Again): duplicate MSP ID "Org1MSP"`},
		{"MSP ID redefined across sections", func(t *testing.T, p *Profile) {
			p.Application.Organizations[0].ID = "OrdererMSP"
			p.Application.Organizations[0].MSP = btMSP(t, "OrdererMSP")
			p.Application.Organizations[0].Policies = DefaultOrgPolicies("OrdererMSP")
		}, `MSP ID "OrdererMSP" is defined twice with different MSP configs`},
		{"bad org name", func(t *testing.T, p *Profile) { p.Application.Organizations[0].Name = "Org 1" },
			`Application.Organizations[0].Name: name "Org 1" has characters outside [a-zA-Z0-9.-]`},
		{"empty org name", func(t *testing.T, p *Profile) { p.Orderer.Organizations[0].Name = "" },
			"Orderer.Organizations[0].Name: name is empty"},
		{"reserved org name", func(t *testing.T, p *Profile) { p.Application.Organizations[1].Name = ".." },
			`Application.Organizations[1].Name: name ".." is reserved`},
		{"long org name", func(t *testing.T, p *Profile) { p.Application.Organizations[1].Name = strings.Repeat("o", 250) },
			"is longer than 249 characters"},
		{"consenter cert garbage DER", func(t *testing.T, p *Profile) {
			p.Orderer.EtcdRaft.Consenters[0].ClientTLSCert = []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
		}, "Orderer.EtcdRaft.Consenters[0] (orderer0.example.com:7050).ClientTLSCert: bad certificate"},
		{"org without Writers", func(t *testing.T, p *Profile) { delete(p.Orderer.Organizations[0].Policies, "Writers") },
			`Orderer.Organizations[0] (OrdererOrg).Policies: required policy "Writers" is missing`},
		{"anchor peer port", func(t *testing.T, p *Profile) { p.Application.Organizations[0].AnchorPeers[0].Port = 70000 },
			"Application.Organizations[0] (Org1MSP).AnchorPeers[0].Port 70000 is not in 1..65535"},
		{"anchor peer host", func(t *testing.T, p *Profile) { p.Application.Organizations[0].AnchorPeers[0].Host = "" },
			"Application.Organizations[0] (Org1MSP).AnchorPeers[0].Host is empty"},
		{"empty ACL policy", func(t *testing.T, p *Profile) { p.Application.ACLs = map[string]string{"peer/Propose": ""} },
			"Application.ACLs[peer/Propose]: empty policy reference"},
		{"both global address lists", func(t *testing.T, p *Profile) { p.OrdererAddresses = []string{"x:1"} },
			"OrdererAddresses and Orderer.Addresses are both set"},
		{"V3_0 with global addresses", func(t *testing.T, p *Profile) { p.Capabilities = []string{"V3_0"} },
			"Orderer.Addresses: global orderer addresses are not allowed with channel capability V3_0"},
		{"V3_0 org without endpoints", func(t *testing.T, p *Profile) {
			p.Capabilities = []string{"V3_0"}
			p.Orderer.Addresses = nil
			p.Orderer.Organizations[0].OrdererEndpoints = nil
		}, "Orderer.Organizations[0] (OrdererOrg).OrdererEndpoints: required with channel capability V3_0"},
		{"V1_3 without global addresses", func(t *testing.T, p *Profile) {
			p.Capabilities = []string{"V1_3"}
			p.Orderer.Addresses = nil
		}, "Orderer.Addresses: required unless the channel capability is V1_4_2 or later"},
		{"V1_3 with org endpoints", func(t *testing.T, p *Profile) { p.Capabilities = []string{"V1_3"} },
			"Orderer.Organizations[0] (OrdererOrg).OrdererEndpoints: not allowed before channel capability V1_4_2"},
		{"no endpoints at all", func(t *testing.T, p *Profile) {
			p.Orderer.Addresses = nil
			p.Orderer.Organizations[0].OrdererEndpoints = nil
		}, "Orderer: no orderer endpoints at all"},
		{"empty global address", func(t *testing.T, p *Profile) { p.Orderer.Addresses = []string{""} },
			"Orderer.Addresses[0] is empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := btProfile(t)
			c.mutate(t, p)
			g, err := NewChannelGroup(p)
			if err == nil {
				t.Fatalf("accepted; want error containing %q", c.want)
			}
			if g != nil {
				t.Errorf("returned a group along with error %v", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %q\nwant it to contain %q", err, c.want)
			}
		})
	}
	if _, err := NewChannelGroup(nil); err == nil || !strings.Contains(err.Error(), "profile is nil") {
		t.Errorf("nil profile: err = %v", err)
	}
}

func TestNewChannelGroupVariants(t *testing.T) {
	t.Run("V3_0 with org endpoints only", func(t *testing.T) {
		p := btProfile(t)
		p.Capabilities = []string{"V3_0"}
		p.Orderer.Addresses = nil
		g := btMustBuild(t, p)
		if _, ok := g.GetValues()["OrdererAddresses"]; ok {
			t.Error("OrdererAddresses present although no global addresses were given")
		}
		if got := btCaps(t, g); len(got) != 1 || got[0] != "V3_0" {
			t.Errorf("channel capabilities = %v", got)
		}
	})
	t.Run("legacy Profile.OrdererAddresses", func(t *testing.T) {
		p := btProfile(t)
		p.Orderer.Addresses = nil
		p.OrdererAddresses = []string{"o.example.com:7050"}
		var a common.OrdererAddresses
		btValue(t, btMustBuild(t, p), "OrdererAddresses", &a)
		if len(a.GetAddresses()) != 1 || a.GetAddresses()[0] != "o.example.com:7050" {
			t.Errorf("addresses = %v", a.GetAddresses())
		}
	})
	t.Run("no application, no capabilities values when empty", func(t *testing.T) {
		p := btProfile(t)
		p.Application = nil
		p.Capabilities = []string{"V1_4_2"}
		p.Orderer.Capabilities = nil
		g := btMustBuild(t, p)
		if _, ok := g.GetGroups()["Application"]; ok {
			t.Error("Application group present")
		}
		if _, ok := g.GetGroups()["Orderer"].GetValues()["Capabilities"]; ok {
			t.Error("orderer Capabilities value written for an empty list")
		}
	})
	t.Run("no anchor peers, ACLs, policy mod_policy override", func(t *testing.T) {
		p := btProfile(t)
		p.Application.Organizations[0].AnchorPeers = nil
		p.Application.ACLs = map[string]string{"peer/Propose": "/Channel/Application/Writers", "event/Block": "/Channel/Application/Readers"}
		pol := p.Application.Policies["Endorsement"]
		pol.ModPolicy = "/Channel/Orderer/Admins"
		p.Application.Policies["Endorsement"] = pol
		app := btMustBuild(t, p).GetGroups()["Application"]
		if _, ok := app.GetGroups()["Org1MSP"].GetValues()["AnchorPeers"]; ok {
			t.Error("AnchorPeers written for an org without anchor peers")
		}
		var acls pb.ACLs
		btValue(t, app, "ACLs", &acls)
		if len(acls.GetAcls()) != 2 || acls.GetAcls()["peer/Propose"].GetPolicyRef() != "/Channel/Application/Writers" {
			t.Errorf("ACLs = %v", acls.GetAcls())
		}
		if got := app.GetPolicies()["Endorsement"].GetModPolicy(); got != "/Channel/Orderer/Admins" {
			t.Errorf("Endorsement mod_policy = %q", got)
		}
	})
	t.Run("zero fields take configtxgen defaults and input is untouched", func(t *testing.T) {
		p := btProfile(t)
		p.Orderer.BatchTimeout = 0
		p.Orderer.BatchSize = BatchSizeSpec{}
		p.Orderer.EtcdRaft.Options = EtcdRaftOptions{}
		p.Orderer.MaxChannels = 7
		orderer := btMustBuild(t, p).GetGroups()["Orderer"]
		var bs ab.BatchSize
		btValue(t, orderer, "BatchSize", &bs)
		if bs.GetMaxMessageCount() != 500 || bs.GetAbsoluteMaxBytes() != 10<<20 || bs.GetPreferredMaxBytes() != 2<<20 {
			t.Errorf("BatchSize = %v", &bs)
		}
		var bt ab.BatchTimeout
		btValue(t, orderer, "BatchTimeout", &bt)
		if bt.GetTimeout() != "2s" {
			t.Errorf("BatchTimeout = %q", bt.GetTimeout())
		}
		var cr ab.ChannelRestrictions
		btValue(t, orderer, "ChannelRestrictions", &cr)
		if cr.GetMaxCount() != 7 {
			t.Errorf("ChannelRestrictions = %d", cr.GetMaxCount())
		}
		var ct ab.ConsensusType
		btValue(t, orderer, "ConsensusType", &ct)
		var md etcdraft.ConfigMetadata
		if err := proto.Unmarshal(ct.GetMetadata(), &md); err != nil {
			t.Fatal(err)
		}
		if o := md.GetOptions(); o.GetTickInterval() != "500ms" || o.GetElectionTick() != 10 || o.GetSnapshotIntervalSize() != 16<<20 {
			t.Errorf("options = %v", o)
		}
		if p.Orderer.BatchTimeout != 0 || p.Orderer.BatchSize.MaxMessageCount != 0 || p.Orderer.EtcdRaft.Options.TickInterval != "" {
			t.Error("NewChannelGroup modified its input profile")
		}
	})
	t.Run("deterministic", func(t *testing.T) {
		p := btProfile(t)
		a, _ := proto.MarshalOptions{Deterministic: true}.Marshal(btMustBuild(t, p))
		b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(btMustBuild(t, p))
		if string(a) != string(b) {
			t.Error("two builds of one profile differ")
		}
	})
}

func TestDefaultPolicySets(t *testing.T) {
	for name, c := range map[string]struct {
		got  map[string]PolicySpec
		keys []string
	}{
		"channel":     {DefaultChannelPolicies(), []string{"Admins", "Readers", "Writers"}},
		"orderer":     {DefaultOrdererPolicies(), []string{"Admins", "BlockValidation", "Readers", "Writers"}},
		"application": {DefaultApplicationPolicies(), []string{"Admins", "Endorsement", "LifecycleEndorsement", "Readers", "Writers"}},
		"org":         {DefaultOrgPolicies("X"), []string{"Admins", "Endorsement", "Readers", "Writers"}},
		"orderer org": {DefaultOrdererOrgPolicies("X"), []string{"Admins", "Readers", "Writers"}},
	} {
		if got := btKeys(c.got); strings.Join(got, ",") != strings.Join(c.keys, ",") {
			t.Errorf("%s policies = %v, want %v", name, got, c.keys)
		}
	}
	if r := DefaultOrgPolicies("Org9MSP")["Readers"]; r.Type != PolicyTypeSignature || r.Rule != "OR('Org9MSP.admin', 'Org9MSP.peer', 'Org9MSP.client')" {
		t.Errorf("org Readers = %+v", r)
	}
	// Callers must be able to change the returned maps without affecting
	// later calls.
	DefaultChannelPolicies()["Readers"] = PolicySpec{}
	if DefaultChannelPolicies()["Readers"].Rule != "ANY Readers" {
		t.Error("default channel policies are shared between calls")
	}
}
