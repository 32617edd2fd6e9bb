package channelconfig

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/wire/common"
	"weft/wire/peer"
)

// stripVersions zeroes every version so that content can be compared
// independently of version bumps.
func stripVersions(g *common.ConfigGroup) *common.ConfigGroup {
	g = proto.Clone(g).(*common.ConfigGroup)
	var walk func(*common.ConfigGroup)
	walk = func(g *common.ConfigGroup) {
		g.Version = 0
		for _, v := range g.Values {
			v.Version = 0
		}
		for _, p := range g.Policies {
			p.Version = 0
		}
		for _, c := range g.Groups {
			walk(c)
		}
	}
	walk(g)
	return g
}

func TestComputeUpdateShape(t *testing.T) {
	s := newScenario(t)
	t.Run("value change touches only the value", func(t *testing.T) {
		cu := s.compute(t, s.newAnchor)
		if cu.ChannelId != testChannel {
			t.Fatalf("channel ID %q", cu.ChannelId)
		}
		wantRead := &common.ConfigGroup{Groups: map[string]*common.ConfigGroup{
			ApplicationGroupKey: {Groups: map[string]*common.ConfigGroup{"Org1MSP": {}}},
		}}
		if !proto.Equal(cu.ReadSet, wantRead) {
			t.Fatalf("read set\n%v\nwant\n%v", cu.ReadSet, wantRead)
		}
		org1 := cu.WriteSet.Groups[ApplicationGroupKey].Groups["Org1MSP"]
		if org1.Version != 0 || len(org1.Values) != 1 || len(org1.Policies) != 0 || len(org1.Groups) != 0 {
			t.Fatalf("write set Org1MSP: %v", org1)
		}
		v := org1.Values[AnchorPeersKey]
		want := s.newAnchor.ChannelGroup.Groups[ApplicationGroupKey].Groups["Org1MSP"].Values[AnchorPeersKey]
		if v.Version != 1 || v.ModPolicy != "Admins" || string(v.Value) != string(want.Value) {
			t.Fatalf("write set AnchorPeers: %v", v)
		}
	})
	t.Run("new group rewrites the parent at version+1", func(t *testing.T) {
		cu := s.compute(t, s.addOrg3)
		wApp := cu.WriteSet.Groups[ApplicationGroupKey]
		rApp := cu.ReadSet.Groups[ApplicationGroupKey]
		if wApp.Version != 1 || wApp.ModPolicy != "Admins" || rApp.Version != 0 {
			t.Fatalf("Application write v%d mod %q, read v%d", wApp.Version, wApp.ModPolicy, rApp.Version)
		}
		for _, org := range []string{"Org1MSP", "Org2MSP"} {
			if !proto.Equal(wApp.Groups[org], &common.ConfigGroup{}) || !proto.Equal(rApp.Groups[org], &common.ConfigGroup{}) {
				t.Fatalf("%s must be listed version-only in both sets: write %v read %v", org, wApp.Groups[org], rApp.Groups[org])
			}
		}
		if len(wApp.Policies) != 5 || len(rApp.Policies) != 5 || len(wApp.Values) != 1 {
			t.Fatalf("unchanged Application policies/values must be listed: %d/%d/%d", len(wApp.Policies), len(rApp.Policies), len(wApp.Values))
		}
		org3 := wApp.Groups["Org3MSP"]
		if org3.Version != 0 || len(org3.Values) != 2 || len(org3.Policies) != 4 || org3.ModPolicy != "Admins" {
			t.Fatalf("Org3 write set: %v", org3)
		}
		if _, ok := rApp.Groups["Org3MSP"]; ok {
			t.Fatal("new group must not be in the read set")
		}
	})
	t.Run("group mod_policy change bumps the group", func(t *testing.T) {
		upd := cloneCfg(s.n.cfg, func(r *common.ConfigGroup) { r.Groups[OrdererGroupKey].ModPolicy = "/Channel/Admins" })
		cu := s.compute(t, upd)
		if g := cu.WriteSet.Groups[OrdererGroupKey]; g.Version != 1 || g.ModPolicy != "/Channel/Admins" {
			t.Fatalf("orderer write set: v%d %q", g.Version, g.ModPolicy)
		}
	})
}

func TestComputeUpdateErrors(t *testing.T) {
	s := newScenario(t)
	cases := []struct {
		name      string
		channel   string
		orig, upd *common.Config
		wantErr   string
	}{
		{"identical", testChannel, s.n.cfg, proto.Clone(s.n.cfg).(*common.Config), "no differences"},
		{"only versions differ", testChannel, s.n.cfg, &common.Config{ChannelGroup: stripVersions(func() *common.ConfigGroup {
			g := proto.Clone(s.n.cfg.ChannelGroup).(*common.ConfigGroup)
			g.Groups[OrdererGroupKey].Values["BatchSize"].Version = 7
			return g
		}())}, "no differences"},
		{"nil original", testChannel, nil, s.newAnchor, "original config has no channel group"},
		{"nil updated", testChannel, s.n.cfg, &common.Config{}, "updated config has no channel group"},
		{"bad channel", "Bad_Channel", s.n.cfg, s.newAnchor, `channel ID "Bad_Channel"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ComputeUpdate(tc.channel, tc.orig, tc.upd)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
			if tc.wantErr == "no differences" && !errors.Is(err, ErrNoDifferences) {
				t.Fatalf("error %v is not ErrNoDifferences", err)
			}
		})
	}
}

// TestComputeProposeRoundTrip checks that an update computed between two
// configs, once authorised, reproduces the updated config exactly (apart
// from the version numbers the update assigns).
func TestComputeProposeRoundTrip(t *testing.T) {
	s := newScenario(t)
	n := s.n
	cases := map[string]*common.Config{
		"add org":      s.addOrg3,
		"anchor peers": s.newAnchor,
		"batch size":   s.newBatch,
		"remove org":   cloneCfg(n.cfg, func(r *common.ConfigGroup) { delete(r.Groups[ApplicationGroupKey].Groups, "Org2MSP") }),
		"remove value": cloneCfg(n.cfg, func(r *common.ConfigGroup) {
			delete(r.Groups[ApplicationGroupKey].Groups["Org1MSP"].Values, AnchorPeersKey)
		}),
		"change policy": cloneCfg(n.cfg, func(r *common.ConfigGroup) {
			r.Groups[ApplicationGroupKey].Policies["Endorsement"] = implicitMeta(t, common.ImplicitMetaPolicy_ANY, "Endorsement")
		}),
		"policy mod_policy": cloneCfg(n.cfg, func(r *common.ConfigGroup) { r.Policies["Writers"].ModPolicy = "/Channel/Orderer/Admins" }),
		"group mod_policy":  cloneCfg(n.cfg, func(r *common.ConfigGroup) { r.Groups[OrdererGroupKey].ModPolicy = "/Channel/Admins" }),
		"several at once": cloneCfg(s.addOrg3, func(r *common.ConfigGroup) {
			r.Groups[OrdererGroupKey].Values["BatchSize"] = s.newBatch.ChannelGroup.Groups[OrdererGroupKey].Values["BatchSize"]
			r.Groups[ApplicationGroupKey].Groups["Org2MSP"].Values[AnchorPeersKey] =
				cfgValue(t, &peer.AnchorPeers{AnchorPeers: []*peer.AnchorPeer{{Host: "a", Port: 1}, {Host: "b", Port: 2}}})
		}),
	}
	all := []Signer{n.org1.admin, n.org2.admin, n.ord.admin}
	for name, upd := range cases {
		t.Run(name, func(t *testing.T) {
			env := updateTx(t, testChannel, s.compute(t, upd), n.org1.client, all...)
			out, err := s.b.ProposeConfigUpdate(env)
			if err != nil {
				t.Fatalf("ProposeConfigUpdate: %v", err)
			}
			if !proto.Equal(stripVersions(out.Config.ChannelGroup), stripVersions(upd.ChannelGroup)) {
				t.Fatalf("result differs from the updated config\n got %v\nwant %v", out.Config.ChannelGroup, upd.ChannelGroup)
			}
			// The result's own versions must make a second round trip a no-op.
			if _, err := ComputeUpdate(testChannel, out.Config, upd); !errors.Is(err, ErrNoDifferences) {
				t.Fatalf("recompute against result: %v", err)
			}
			if err := s.b.ValidateConfigEnvelope(out); err != nil {
				t.Fatalf("ValidateConfigEnvelope: %v", err)
			}
		})
	}
}
