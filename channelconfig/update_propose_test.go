package channelconfig

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/wire/common"
	mspproto "weft/wire/msp"
	"weft/wire/orderer"
	"weft/wire/peer"
)

// scenario holds configs derived from the base test network.
type scenario struct {
	n                               *testNet
	b                               *Bundle
	addOrg3, newAnchor, newBatch    *common.Config
	badModPolicy, danglingModPolicy *common.Config
	brokenMSP, badBatch             *common.Config
}

func newScenario(t testing.TB) *scenario {
	n := newTestNet(t)
	s := &scenario{n: n, b: n.bundle(t)}
	org3 := n.org3.appOrgGroup(t, 11051)
	s.addOrg3 = cloneCfg(n.cfg, func(r *common.ConfigGroup) { r.Groups[ApplicationGroupKey].Groups["Org3MSP"] = org3 })
	s.newAnchor = cloneCfg(n.cfg, func(r *common.ConfigGroup) {
		r.Groups[ApplicationGroupKey].Groups["Org1MSP"].Values[AnchorPeersKey] =
			cfgValue(t, &peer.AnchorPeers{AnchorPeers: []*peer.AnchorPeer{{Host: "peer1.Org1MSP", Port: 8051}}})
	})
	s.newBatch = cloneCfg(n.cfg, func(r *common.ConfigGroup) {
		r.Groups[OrdererGroupKey].Values["BatchSize"] =
			cfgValue(t, &orderer.BatchSize{MaxMessageCount: 100, AbsoluteMaxBytes: 10 << 20, PreferredMaxBytes: 4 << 20})
	})
	s.badBatch = cloneCfg(n.cfg, func(r *common.ConfigGroup) {
		r.Groups[OrdererGroupKey].Values["BatchSize"] =
			cfgValue(t, &orderer.BatchSize{MaxMessageCount: 100, AbsoluteMaxBytes: 1 << 20, PreferredMaxBytes: 4 << 20})
	})
	s.badModPolicy = cloneCfg(n.cfg, func(r *common.ConfigGroup) {
		v := cfgValue(t, &peer.AnchorPeers{})
		v.ModPolicy = "Bad Path!"
		r.Groups[ApplicationGroupKey].Groups["Org1MSP"].Values[AnchorPeersKey] = v
	})
	s.danglingModPolicy = cloneCfg(n.cfg, func(r *common.ConfigGroup) {
		v := cfgValue(t, &peer.AnchorPeers{})
		v.ModPolicy = "/Channel/Nowhere/Admins"
		r.Groups[ApplicationGroupKey].Groups["Org1MSP"].Values[AnchorPeersKey] = v
	})
	s.brokenMSP = cloneCfg(n.cfg, func(r *common.ConfigGroup) {
		broken := &mspproto.FabricMSPConfig{Name: "Org1MSP", RootCerts: [][]byte{[]byte("not a certificate")}}
		r.Groups[ApplicationGroupKey].Groups["Org1MSP"].Values[MSPKey] =
			cfgValue(t, &mspproto.MSPConfig{Config: mustMarshal(t, broken)})
	})
	return s
}

func (s *scenario) compute(t testing.TB, updated *common.Config) *common.ConfigUpdate {
	t.Helper()
	cu, err := ComputeUpdate(testChannel, s.n.cfg, updated)
	if err != nil {
		t.Fatalf("ComputeUpdate: %v", err)
	}
	return cu
}

func TestProposeConfigUpdate(t *testing.T) {
	s := newScenario(t)
	n := s.n
	app := func(cu *common.ConfigUpdate) *common.ConfigGroup { return cu.WriteSet.Groups[ApplicationGroupKey] }
	cases := []struct {
		name    string
		update  func(t *testing.T) *common.ConfigUpdate
		header  string // channel ID in the envelope header; default testChannel
		signers []Signer
		wantErr string // empty: must succeed
		check   func(t *testing.T, b *Bundle)
	}{
		{
			name:    "add org, both org admins sign (MAJORITY of 2)",
			update:  func(t *testing.T) *common.ConfigUpdate { return s.compute(t, s.addOrg3) },
			signers: []Signer{n.org1.admin, n.org2.admin},
			check: func(t *testing.T, b *Bundle) {
				orgs := b.ApplicationOrgs()
				if len(orgs) != 3 || orgs[2].MSPID != "Org3MSP" || orgs[2].AnchorPeers[0].Port != 11051 {
					t.Fatalf("application orgs after adding Org3: %+v", orgs)
				}
				if _, ok := b.MSPManager().MSP("Org3MSP"); !ok {
					t.Fatal("Org3MSP missing from MSP manager")
				}
			},
		},
		{
			name:    "add org, only one of two org admins signs",
			update:  func(t *testing.T) *common.ConfigUpdate { return s.compute(t, s.addOrg3) },
			signers: []Signer{n.org1.admin},
			wantErr: `/Channel/Application: mod_policy "/Channel/Application/Admins" not satisfied`,
		},
		{
			name:    "add org, one admin signs twice",
			update:  func(t *testing.T) *common.ConfigUpdate { return s.compute(t, s.addOrg3) },
			signers: []Signer{n.org1.admin, n.org1.admin},
			wantErr: `mod_policy "/Channel/Application/Admins" not satisfied`,
		},
		{
			name:    "change anchor peers, org admin signs",
			update:  func(t *testing.T) *common.ConfigUpdate { return s.compute(t, s.newAnchor) },
			signers: []Signer{n.org1.admin},
			check: func(t *testing.T, b *Bundle) {
				ap := b.ApplicationOrgs()[0].AnchorPeers
				if len(ap) != 1 || ap[0].Host != "peer1.Org1MSP" || ap[0].Port != 8051 {
					t.Fatalf("anchor peers: %v", ap)
				}
				v := b.config.ChannelGroup.Groups[ApplicationGroupKey].Groups["Org1MSP"].Values[AnchorPeersKey]
				if v.Version != 1 {
					t.Fatalf("AnchorPeers version %d, want 1", v.Version)
				}
			},
		},
		{
			name:    "change anchor peers, no signature",
			update:  func(t *testing.T) *common.ConfigUpdate { return s.compute(t, s.newAnchor) },
			wantErr: `/Channel/Application/Org1MSP/Values/AnchorPeers: mod_policy "/Channel/Application/Org1MSP/Admins" not satisfied`,
		},
		{
			name:    "change anchor peers, admin of another member org",
			update:  func(t *testing.T) *common.ConfigUpdate { return s.compute(t, s.newAnchor) },
			signers: []Signer{n.org2.admin},
			wantErr: `mod_policy "/Channel/Application/Org1MSP/Admins" not satisfied`,
		},
		{
			name:    "change anchor peers, admin of an MSP not in the channel",
			update:  func(t *testing.T) *common.ConfigUpdate { return s.compute(t, s.newAnchor) },
			signers: []Signer{n.org3.admin},
			wantErr: `mod_policy "/Channel/Application/Org1MSP/Admins" not satisfied`,
		},
		{
			name:    "change anchor peers, peer instead of admin",
			update:  func(t *testing.T) *common.ConfigUpdate { return s.compute(t, s.newAnchor) },
			signers: []Signer{n.org1.peer},
			wantErr: `mod_policy "/Channel/Application/Org1MSP/Admins" not satisfied`,
		},
		{
			name:    "change anchor peers, expired admin cert",
			update:  func(t *testing.T) *common.ConfigUpdate { return s.compute(t, s.newAnchor) },
			signers: []Signer{n.org1.expired},
			wantErr: `mod_policy "/Channel/Application/Org1MSP/Admins" not satisfied`,
		},
		{
			name:    "change anchor peers, revoked admin cert",
			update:  func(t *testing.T) *common.ConfigUpdate { return s.compute(t, s.newAnchor) },
			signers: []Signer{n.org1.revoked},
			wantErr: `mod_policy "/Channel/Application/Org1MSP/Admins" not satisfied`,
		},
		{
			name:    "change batch size, orderer admin signs",
			update:  func(t *testing.T) *common.ConfigUpdate { return s.compute(t, s.newBatch) },
			signers: []Signer{n.ord.admin},
			check: func(t *testing.T, b *Bundle) {
				if got := b.BatchSize().GetMaxMessageCount(); got != 100 {
					t.Fatalf("max message count %d, want 100", got)
				}
			},
		},
		{
			name:    "change batch size, application admins only",
			update:  func(t *testing.T) *common.ConfigUpdate { return s.compute(t, s.newBatch) },
			signers: []Signer{n.org1.admin, n.org2.admin},
			wantErr: `/Channel/Orderer/Values/BatchSize: mod_policy "/Channel/Orderer/Admins" not satisfied`,
		},
		{
			name: "wrong write-set version",
			update: func(t *testing.T) *common.ConfigUpdate {
				cu := s.compute(t, s.newAnchor)
				app(cu).Groups["Org1MSP"].Values[AnchorPeersKey].Version = 2
				return cu
			},
			signers: []Signer{n.org1.admin},
			wantErr: `config update for channel "mychannel": /Channel/Application/Org1MSP/Values/AnchorPeers: version 2 in write set, expected 1`,
		},
		{
			name: "new element with version > 0",
			update: func(t *testing.T) *common.ConfigUpdate {
				cu := s.compute(t, s.addOrg3)
				app(cu).Groups["Org3MSP"].Version = 1
				return cu
			},
			signers: []Signer{n.org1.admin, n.org2.admin},
			wantErr: `/Channel/Application/Org3MSP: version 1 in write set for an element that does not exist, expected 0`,
		},
		{
			name: "read set version not current",
			update: func(t *testing.T) *common.ConfigUpdate {
				cu := s.compute(t, s.newAnchor)
				cu.ReadSet.Groups[ApplicationGroupKey].Groups["Org1MSP"].Version = 3
				return cu
			},
			signers: []Signer{n.org1.admin},
			wantErr: `/Channel/Application/Org1MSP: version 3 in read set, current version is 0`,
		},
		{
			name: "read set names a missing element",
			update: func(t *testing.T) *common.ConfigUpdate {
				cu := s.compute(t, s.newAnchor)
				cu.ReadSet.Groups[ApplicationGroupKey].Groups["Org9MSP"] = &common.ConfigGroup{}
				return cu
			},
			signers: []Signer{n.org1.admin},
			wantErr: `/Channel/Application/Org9MSP: in read set but not in current config`,
		},
		{
			name: "config update for another channel",
			update: func(t *testing.T) *common.ConfigUpdate {
				cu := s.compute(t, s.newAnchor)
				cu.ChannelId = "otherchannel"
				return cu
			},
			signers: []Signer{n.org1.admin},
			wantErr: `config update: channel ID "otherchannel" does not match`,
		},
		{
			name:    "envelope header for another channel",
			update:  func(t *testing.T) *common.ConfigUpdate { return s.compute(t, s.newAnchor) },
			header:  "otherchannel",
			signers: []Signer{n.org1.admin},
			wantErr: `channel header: channel ID "otherchannel" does not match`,
		},
		{
			name: "empty delta",
			update: func(t *testing.T) *common.ConfigUpdate {
				cu := s.compute(t, s.newAnchor)
				cu.WriteSet = proto.Clone(cu.ReadSet).(*common.ConfigGroup)
				return cu
			},
			signers: []Signer{n.org1.admin},
			wantErr: `empty delta`,
		},
		{
			name: "write set with bad key",
			update: func(t *testing.T) *common.ConfigUpdate {
				cu := s.compute(t, s.newAnchor)
				app(cu).Groups["Org1MSP"].Values["bad key"] = &common.ConfigValue{ModPolicy: "Admins"}
				return cu
			},
			signers: []Signer{n.org1.admin},
			wantErr: `write set: /Channel/Application/Org1MSP/Values/bad key: key "bad key"`,
		},
		{
			name:    "bad mod_policy path",
			update:  func(t *testing.T) *common.ConfigUpdate { return s.compute(t, s.badModPolicy) },
			signers: []Signer{n.org1.admin},
			wantErr: `/Channel/Application/Org1MSP/Values/AnchorPeers: mod_policy "Bad Path!": path element 0`,
		},
		{
			name:    "mod_policy naming no policy",
			update:  func(t *testing.T) *common.ConfigUpdate { return s.compute(t, s.danglingModPolicy) },
			signers: []Signer{n.org1.admin},
			wantErr: `mod_policy "/Channel/Nowhere/Admins": policy not found in resulting config`,
		},
		{
			name: "new element not listed by its parent group",
			update: func(t *testing.T) *common.ConfigUpdate {
				cu := s.compute(t, s.newAnchor)
				app(cu).Groups["Org1MSP"].Values["Extra"] = &common.ConfigValue{ModPolicy: "Admins"}
				return cu
			},
			signers: []Signer{n.org1.admin},
			wantErr: `/Channel/Application/Org1MSP/Values/Extra: in write set but its parent group does not list it`,
		},
		{
			name:    "result has an invalid MSP",
			update:  func(t *testing.T) *common.ConfigUpdate { return s.compute(t, s.brokenMSP) },
			signers: []Signer{n.org1.admin},
			wantErr: `resulting config is invalid: /Channel/Application: Org1MSP/Values/MSP`,
		},
		{
			name:    "result has an invalid batch size",
			update:  func(t *testing.T) *common.ConfigUpdate { return s.compute(t, s.badBatch) },
			signers: []Signer{n.ord.admin},
			wantErr: `preferred_max_bytes 4194304 is greater than absolute_max_bytes 1048576`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			header := tc.header
			if header == "" {
				header = testChannel
			}
			env := updateTx(t, header, tc.update(t), n.org1.client, tc.signers...)
			out, err := s.b.ProposeConfigUpdate(env)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("update accepted, want error containing %q", tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %q\nwant it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ProposeConfigUpdate: %v", err)
			}
			if out.Config.Sequence != 1 || !proto.Equal(out.LastUpdate, env) {
				t.Fatalf("sequence %d, last_update equal %v", out.Config.Sequence, proto.Equal(out.LastUpdate, env))
			}
			next, err := s.b.ApplyConfigEnvelope(out)
			if err != nil {
				t.Fatalf("ApplyConfigEnvelope of the proposed result: %v", err)
			}
			if tc.check != nil {
				tc.check(t, next)
			}
		})
	}
}
