// Package endorsertest provides fixtures for tests of the endorser and the
// gateway: a two-org channel with signing members, and in-memory fakes of the
// ledger-facing interfaces.
package endorsertest

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/msp"
	"weft/msp/msptest"
	"weft/wire/common"
	mspproto "weft/wire/msp"
)

// ChannelID is the channel every fixture builds.
const ChannelID = "mychannel"

// Member is a test identity usable as endorser.Signer.
type Member struct{ *msptest.Member }

// Serialize returns the marshaled SerializedIdentity.
func (m Member) Serialize() []byte { return m.Serialized }

// Org is one organisation of the fixture network.
type Org struct {
	*msptest.Org
	// TLSCA issues the org's TLS certificates; its PEM is in the MSP's
	// tls_root_certs.
	TLSCA  *msptest.CA
	Client Member
	Admin  Member
	Peer   Member
	// LocalMSP is the org's MSP as a peer of the org loads it.
	LocalMSP *msp.MSP
}

// Network is a channel with application orgs Org1MSP and Org2MSP and the
// orderer org OrdererMSP.
type Network struct {
	Org1, Org2, Orderer *Org
	// Outsider belongs to an org that is not in the channel.
	Outsider Member
	Bundle   *channelconfig.Bundle
	Genesis  *common.Block
}

// Options tune the channel config.
type Options struct {
	// Anchors by MSP ID.
	Anchors          map[string][]channelconfig.AnchorPeer
	OrdererEndpoints []string
	ACLs             map[string]string
	// AppPolicies replaces the Application group policies.
	AppPolicies map[string]channelconfig.PolicySpec
}

// must(f())(t) fails the test when f returned an error.
func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func newOrg(t testing.TB, mspID string) *Org {
	t.Helper()
	o := &Org{Org: must(msptest.NewOrg(mspID, false))(t)}
	o.TLSCA = must(msptest.NewRootCA("tlsca." + mspID))(t)
	role := func(cn, ou string) Member { return Member{must(o.Role(cn, ou))(t)} }
	o.Client = role("User1@"+mspID, msptest.OUClient)
	o.Admin = role("Admin@"+mspID, msptest.OUAdmin)
	o.Peer = role("peer0."+mspID, msptest.OUPeer)
	o.LocalMSP = must(msp.New(o.MSPConfig(t)))(t)
	return o
}

// MSPConfig is the org's channel MSP config including its TLS root.
func (o *Org) MSPConfig(t testing.TB) *mspproto.MSPConfig {
	fc := o.FabricConfig()
	fc.TlsRootCerts = [][]byte{o.TLSCA.PEM}
	raw := must(proto.Marshal(fc))(t)
	return &mspproto.MSPConfig{Type: 0, Config: raw}
}

// NewNetwork builds the fixture channel.
func NewNetwork(t testing.TB, opts Options) *Network {
	t.Helper()
	n := &Network{Org1: newOrg(t, "Org1MSP"), Org2: newOrg(t, "Org2MSP"), Orderer: newOrg(t, "OrdererMSP")}
	other := newOrg(t, "Org3MSP")
	n.Outsider = other.Client
	endpoints := opts.OrdererEndpoints
	if endpoints == nil {
		endpoints = []string{"orderer0.example.com:7050"}
	}
	tlsCert, _, err := n.Orderer.TLSCA.Issue(msptest.CertOpts{CN: "orderer0.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	tlsPEM := msptest.EncodePEM(tlsCert)
	appOrg := func(o *Org) channelconfig.Org {
		return channelconfig.Org{Name: o.MSPID, ID: o.MSPID, MSP: o.MSPConfig(t), Policies: channelconfig.DefaultOrgPolicies(o.MSPID),
			AnchorPeers: opts.Anchors[o.MSPID]}
	}
	appPolicies := opts.AppPolicies
	if appPolicies == nil {
		appPolicies = channelconfig.DefaultApplicationPolicies()
	}
	profile := &channelconfig.Profile{
		Policies:     channelconfig.DefaultChannelPolicies(),
		Capabilities: channelconfig.DefaultChannelCapabilities(),
		Orderer: &channelconfig.OrdererSpec{
			OrdererType: channelconfig.OrdererTypeEtcdRaft,
			EtcdRaft: &channelconfig.EtcdRaftSpec{
				Consenters: []channelconfig.Consenter{{Host: "orderer0.example.com", Port: 7050, ClientTLSCert: tlsPEM, ServerTLSCert: tlsPEM}},
				Options:    channelconfig.DefaultEtcdRaftOptions(),
			},
			Organizations: []channelconfig.Org{{
				Name: "OrdererOrg", ID: "OrdererMSP", MSP: n.Orderer.MSPConfig(t),
				Policies:         channelconfig.DefaultOrdererOrgPolicies("OrdererMSP"),
				OrdererEndpoints: endpoints,
			}},
			Policies:     channelconfig.DefaultOrdererPolicies(),
			Capabilities: channelconfig.DefaultOrdererCapabilities(),
		},
		Application: &channelconfig.ApplicationSpec{
			Organizations: []channelconfig.Org{appOrg(n.Org1), appOrg(n.Org2)},
			Policies:      appPolicies,
			Capabilities:  channelconfig.DefaultApplicationCapabilities(),
			ACLs:          opts.ACLs,
		},
	}
	group := must(channelconfig.NewChannelGroup(profile))(t)
	n.Genesis = must(channelconfig.GenesisBlock(ChannelID, group))(t)
	env, _, err := channelconfig.ConfigFromBlock(n.Genesis)
	if err != nil {
		t.Fatal(err)
	}
	n.Bundle = must(channelconfig.NewBundle(ChannelID, env.Config))(t)
	return n
}
