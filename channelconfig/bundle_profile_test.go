package channelconfig

import (
	"testing"
	"time"
)

// TestBundleFromProfile checks that what the construction side builds is
// accepted here and can then be updated.
func TestBundleFromProfile(t *testing.T) {
	org1, org2, ord := newTestOrg(t, "Org1MSP"), newTestOrg(t, "Org2MSP"), newTestOrg(t, "OrdererMSP")
	p := &Profile{
		Policies:     DefaultChannelPolicies(),
		Capabilities: DefaultChannelCapabilities(),
		Orderer: &OrdererSpec{
			OrdererType:  OrdererTypeEtcdRaft,
			BatchTimeout: 2 * time.Second,
			BatchSize:    BatchSizeSpec{MaxMessageCount: 10, AbsoluteMaxBytes: 1 << 20, PreferredMaxBytes: 1 << 19},
			EtcdRaft: &EtcdRaftSpec{
				Consenters: []Consenter{{Host: "orderer0", Port: 7050, ClientTLSCert: ord.ca.pem, ServerTLSCert: ord.ca.pem}},
				Options:    DefaultEtcdRaftOptions(),
			},
			Organizations: []Org{{
				Name: "OrdererOrg", ID: "OrdererMSP", MSP: ord.mspCfg,
				Policies: DefaultOrdererOrgPolicies("OrdererMSP"), OrdererEndpoints: []string{"orderer0:7050"},
			}},
			Policies:     DefaultOrdererPolicies(),
			Capabilities: DefaultOrdererCapabilities(),
		},
		Application: &ApplicationSpec{
			Organizations: []Org{
				{Name: "Org1MSP", ID: "Org1MSP", MSP: org1.mspCfg, Policies: DefaultOrgPolicies("Org1MSP"), AnchorPeers: []AnchorPeer{{Host: "peer0.org1", Port: 7051}}},
				{Name: "Org2MSP", ID: "Org2MSP", MSP: org2.mspCfg, Policies: DefaultOrgPolicies("Org2MSP")},
			},
			Policies:     DefaultApplicationPolicies(),
			Capabilities: DefaultApplicationCapabilities(),
		},
	}
	group, err := NewChannelGroup(p)
	if err != nil {
		t.Fatal(err)
	}
	block, err := GenesisBlock(testChannel, group)
	if err != nil {
		t.Fatal(err)
	}
	ce, ch, err := ConfigFromBlock(block)
	if err != nil {
		t.Fatal(err)
	}
	if ch != testChannel {
		t.Fatalf("genesis channel %q", ch)
	}
	b, err := NewBundle(testChannel, ce.Config)
	if err != nil {
		t.Fatalf("NewBundle on a profile-built genesis config: %v", err)
	}
	if got := b.OrdererAddresses(); len(got) != 1 || got[0] != "orderer0:7050" {
		t.Fatalf("orderer addresses %v", got)
	}
	if orgs := b.ApplicationOrgs(); len(orgs) != 2 || len(orgs[0].AnchorPeers) != 1 || len(orgs[1].AnchorPeers) != 0 {
		t.Fatalf("application orgs %+v", orgs)
	}

	upd := b.Config()
	upd.ChannelGroup.Groups[ApplicationGroupKey].Groups["Org2MSP"].Values[AnchorPeersKey] =
		upd.ChannelGroup.Groups[ApplicationGroupKey].Groups["Org1MSP"].Values[AnchorPeersKey]
	cu, err := ComputeUpdate(testChannel, b.Config(), upd)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		signers []Signer
		ok      bool
	}{
		{"org2 admin", []Signer{org2.admin}, true},
		{"org1 admin", []Signer{org1.admin}, false},
		{"org2 client", []Signer{org2.client}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := updateTx(t, testChannel, cu, org2.client, tc.signers...)
			out, err := b.ProposeConfigUpdate(env)
			if tc.ok != (err == nil) {
				t.Fatalf("ok=%v, error %v", tc.ok, err)
			}
			if err == nil {
				if err := b.ValidateConfigEnvelope(out); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
