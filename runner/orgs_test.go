package runner

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/gen/network"
	"weft/spec"
	"weft/wire/common"
	pb "weft/wire/peer"
)

// orgFixture generates a network with Org1..Org3 whose channel mychannel
// starts with Org1 and Org2, and returns its runner state and the genesis
// config of the channel.
func orgFixture(t *testing.T) (*up, *common.Config) {
	t.Helper()
	n := spec.Default()
	n.Orderer.Nodes = 1
	n.Orgs = append(n.Orgs, spec.Org{Name: "Org3", Domain: "org3.example.com", Peers: 1, Users: 1})
	n.Chaincodes = nil
	n.SetDefaults()
	dir := t.TempDir()
	ep := network.EndpointsFrom(30050)
	if _, err := network.Generate(n, dir, network.Options{Endpoints: ep}); err != nil {
		t.Fatal(err)
	}
	u := &up{n: n, ep: ep, l: network.Layout{Dir: dir}}
	b, err := u.genesis("mychannel")
	if err != nil {
		t.Fatal(err)
	}
	env, _, err := channelconfig.ConfigFromBlock(b)
	if err != nil {
		t.Fatal(err)
	}
	return u, env.GetConfig()
}

func TestPlanOrgUpdate(t *testing.T) {
	u, genesis := orgFixture(t)
	withOrg3 := func() { u.n.Channels[0].Orgs = []string{"Org1", "Org2", "Org3"} }
	ghost := func(cfg *common.Config) {
		// Org2's group under a key no spec org has: its admin is unknown.
		app := cfg.ChannelGroup.Groups["Application"]
		app.Groups["GhostMSP"] = app.Groups["Org2MSP"]
		delete(app.Groups, "Org2MSP")
	}
	tests := []struct {
		name    string
		spec    func()
		config  func(*common.Config)
		signers []string // admins that sign; nil: all the plan asks for
		wantAdd []string // nil: no plan expected
		wantErr string   // from planning
		propErr bool     // the orderer-side check must reject it
	}{
		{name: "nothing missing", spec: func() {}},
		{name: "add Org3", spec: withOrg3, wantAdd: []string{"Org3MSP"}},
		{name: "one of two admins is no majority", spec: withOrg3, signers: []string{"Org1"}, wantAdd: []string{"Org3MSP"}, propErr: true},
		{name: "new org cannot sign itself in", spec: withOrg3, signers: []string{"Org3"}, wantAdd: []string{"Org3MSP"}, propErr: true},
		{name: "unknown existing org", spec: withOrg3, config: ghost, wantErr: "majority"},
		{name: "no application group", spec: withOrg3, config: func(c *common.Config) { delete(c.ChannelGroup.Groups, "Application") }, wantErr: "no Application group"},
		{name: "removed org is not removed", spec: func() { u.n.Channels[0].Orgs = []string{"Org1"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u.n.Channels[0].Orgs = []string{"Org1", "Org2"}
			tt.spec()
			cur := proto.Clone(genesis).(*common.Config)
			if tt.config != nil {
				tt.config(cur)
			}
			plan, err := u.planOrgUpdate("mychannel", cur)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantAdd == nil {
				if plan != nil {
					t.Fatalf("plan %v, want none", plan.added)
				}
				return
			}
			if plan == nil || strings.Join(plan.added, ",") != strings.Join(tt.wantAdd, ",") {
				t.Fatalf("plan = %+v, want to add %v", plan, tt.wantAdd)
			}
			var admins []*tlsUser
			names := tt.signers
			if names == nil {
				for _, k := range plan.signers {
					names = append(names, u.n.Orgs[k].Name)
				}
			}
			for _, name := range names {
				a, err := u.orgAdmin(testOrgIndex(t, u, name))
				if err != nil {
					t.Fatal(err)
				}
				admins = append(admins, a)
			}
			env, err := signOrgUpdate("mychannel", plan.update, admins)
			if err != nil {
				t.Fatal(err)
			}
			bundle, err := channelconfig.NewBundle("mychannel", cur)
			if err != nil {
				t.Fatal(err)
			}
			next, err := bundle.ProposeConfigUpdate(env)
			if tt.propErr {
				if err == nil {
					t.Fatal("update accepted without a majority of admins")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkOrg3(t, u, next.GetConfig())
		})
	}
}

// checkOrg3 compares the Org3 group of cfg with the one a genesis block of
// the spec channel would carry, anchor peer included.
func checkOrg3(t *testing.T, u *up, cfg *common.Config) {
	t.Helper()
	got := cfg.GetChannelGroup().GetGroups()["Application"].GetGroups()["Org3MSP"]
	if got == nil {
		t.Fatal("Org3MSP not in the new config")
	}
	prof, err := network.ChannelProfile(u.n, "mychannel", u.l, u.ep)
	if err != nil {
		t.Fatal(err)
	}
	want, err := channelconfig.NewChannelGroup(prof)
	if err != nil {
		t.Fatal(err)
	}
	w := proto.Clone(want.Groups["Application"].Groups["Org3MSP"]).(*common.ConfigGroup)
	g := proto.Clone(got).(*common.ConfigGroup)
	// The update stamps version 0 on new elements; compare the content.
	if !proto.Equal(stripVersions(g), stripVersions(w)) {
		t.Fatal("Org3MSP group differs from the one the spec's genesis block would have")
	}
	var ap pb.AnchorPeers
	if err := proto.Unmarshal(got.GetValues()["AnchorPeers"].GetValue(), &ap); err != nil || len(ap.GetAnchorPeers()) != 1 ||
		int(ap.GetAnchorPeers()[0].GetPort()) != u.ep.Peer(2, 0) {
		t.Fatalf("anchor peers %v (%v), want peer0.org3 at %d", ap.GetAnchorPeers(), err, u.ep.Peer(2, 0))
	}
	if cfg.GetChannelGroup().GetGroups()["Application"].GetGroups()["Org1MSP"] == nil {
		t.Fatal("Org1MSP lost")
	}
}

func stripVersions(g *common.ConfigGroup) *common.ConfigGroup {
	g.Version = 0
	for _, s := range g.Groups {
		stripVersions(s)
	}
	for _, v := range g.Values {
		v.Version = 0
	}
	for _, p := range g.Policies {
		p.Version = 0
	}
	return g
}

func testOrgIndex(t *testing.T, u *up, name string) int {
	for k := range u.n.Orgs {
		if u.n.Orgs[k].Name == name {
			return k
		}
	}
	t.Fatalf("no org %s", name)
	return -1
}

func TestMissingAndExtraOrgs(t *testing.T) {
	u, genesis := orgFixture(t)
	u.n.Channels[0].Orgs = []string{"Org1", "Org3"}
	if got := u.missingOrgs("mychannel", genesis); strings.Join(got, ",") != "Org3MSP" {
		t.Fatalf("missing = %v", got)
	}
	if got := u.extraOrgs("mychannel", genesis); strings.Join(got, ",") != "Org2MSP" {
		t.Fatalf("extra = %v", got)
	}
	if got := u.missingOrgs("nochannel", genesis); len(got) != 0 {
		t.Fatalf("missing for an unknown channel = %v", got)
	}
}
