package channelconfig

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/wire/common"
	"weft/wire/orderer"
	"weft/wire/peer"
)

func TestProposeRejectsReplayAndStaleUpdates(t *testing.T) {
	s := newScenario(t)
	n := s.n
	addOrg3 := updateTx(t, testChannel, s.compute(t, s.addOrg3), n.org1.client, n.org1.admin, n.org2.admin)
	out, err := s.b.ProposeConfigUpdate(addOrg3)
	if err != nil {
		t.Fatal(err)
	}
	b1, err := s.b.ApplyConfigEnvelope(out)
	if err != nil {
		t.Fatal(err)
	}
	if b1.Sequence() != 1 {
		t.Fatalf("sequence %d, want 1", b1.Sequence())
	}
	cases := []struct {
		name    string
		env     func() *common.Envelope
		wantErr string
	}{
		{"replayed update", func() *common.Envelope { return addOrg3 },
			`/Channel/Application: version 0 in read set, current version is 1`},
		{"update computed against an older config", func() *common.Envelope {
			// Parents of a changed element are pinned in the read set at
			// their version, so a sibling org joining makes this stale.
			return updateTx(t, testChannel, s.compute(t, s.newAnchor), n.org1.client, n.org1.admin)
		}, `/Channel/Application: version 0 in read set, current version is 1`},
		{"update recomputed against the current config", func() *common.Envelope {
			cfg := b1.Config()
			upd := proto.Clone(cfg).(*common.Config)
			upd.ChannelGroup.Groups[ApplicationGroupKey].Groups["Org1MSP"].Values[AnchorPeersKey] =
				s.newAnchor.ChannelGroup.Groups[ApplicationGroupKey].Groups["Org1MSP"].Values[AnchorPeersKey]
			cu, err := ComputeUpdate(testChannel, cfg, upd)
			if err != nil {
				t.Fatal(err)
			}
			return updateTx(t, testChannel, cu, n.org1.client, n.org1.admin)
		}, ""},
		{"group change computed against an older config", func() *common.Envelope {
			removeOrg2 := cloneCfg(n.cfg, func(r *common.ConfigGroup) { delete(r.Groups[ApplicationGroupKey].Groups, "Org2MSP") })
			return updateTx(t, testChannel, s.compute(t, removeOrg2), n.org1.client, n.org1.admin, n.org2.admin)
		}, `/Channel/Application: version 0 in read set, current version is 1`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := b1.ProposeConfigUpdate(tc.env())
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestProposeConfigUpdateMalformedEnvelope(t *testing.T) {
	s := newScenario(t)
	n := s.n
	good := updateTx(t, testChannel, s.compute(t, s.newAnchor), n.org1.client, n.org1.admin)
	payload := &common.Payload{}
	if err := proto.Unmarshal(good.Payload, payload); err != nil {
		t.Fatal(err)
	}
	withHeader := func(ch *common.ChannelHeader) *common.Envelope {
		p := proto.Clone(payload).(*common.Payload)
		p.Header.ChannelHeader = mustMarshal(t, ch)
		return &common.Envelope{Payload: mustMarshal(t, p)}
	}
	cases := []struct {
		name    string
		env     *common.Envelope
		wantErr string
	}{
		{"nil envelope", nil, "envelope is nil"},
		{"garbage payload", &common.Envelope{Payload: []byte{0xff, 0xff}}, "envelope payload"},
		{"no header", &common.Envelope{Payload: mustMarshal(t, &common.Payload{Data: payload.Data})}, "header missing"},
		{"CONFIG instead of CONFIG_UPDATE", withHeader(&common.ChannelHeader{Type: int32(common.HeaderType_CONFIG), ChannelId: testChannel}),
			"type 1, expected CONFIG_UPDATE (2)"},
		{"garbage data", &common.Envelope{Payload: mustMarshal(t, &common.Payload{Header: payload.Header, Data: []byte{0x0a, 0x05}})},
			"config update envelope"},
		{"garbage signature header", func() *common.Envelope {
			cue := &common.ConfigUpdateEnvelope{}
			if err := proto.Unmarshal(payload.Data, cue); err != nil {
				t.Fatal(err)
			}
			cue.Signatures[0].SignatureHeader = []byte{0x0a, 0x09}
			return &common.Envelope{Payload: mustMarshal(t, &common.Payload{Header: payload.Header, Data: mustMarshal(t, cue)})}
		}(), "config signature 0: signature header"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.b.ProposeConfigUpdate(tc.env)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestValidateConfigEnvelope(t *testing.T) {
	s := newScenario(t)
	n := s.n
	env := updateTx(t, testChannel, s.compute(t, s.newAnchor), n.org1.client, n.org1.admin)
	good, err := s.b.ProposeConfigUpdate(env)
	if err != nil {
		t.Fatal(err)
	}
	tamper := func(f func(ce *common.ConfigEnvelope)) *common.ConfigEnvelope {
		ce := proto.Clone(good).(*common.ConfigEnvelope)
		f(ce)
		return ce
	}
	cases := []struct {
		name    string
		env     *common.ConfigEnvelope
		wantErr string
	}{
		{"as proposed", good, ""},
		{"nil", nil, "envelope is nil"},
		{"no config", tamper(func(ce *common.ConfigEnvelope) { ce.Config = nil }), "config is nil"},
		{"no last update", tamper(func(ce *common.ConfigEnvelope) { ce.LastUpdate = nil }), "last_update is nil"},
		{"sequence skipped", tamper(func(ce *common.ConfigEnvelope) { ce.Config.Sequence = 2 }), "sequence 2, expected 1"},
		{"config differs from update result", tamper(func(ce *common.ConfigEnvelope) {
			ce.Config.ChannelGroup.Groups[OrdererGroupKey].Values["BatchTimeout"] = cfgValue(t, &orderer.BatchTimeout{Timeout: "1s"})
		}), "does not match the result of applying its last_update"},
		{"version not bumped", tamper(func(ce *common.ConfigEnvelope) {
			ce.Config.ChannelGroup.Groups[ApplicationGroupKey].Groups["Org1MSP"].Values[AnchorPeersKey].Version = 0
		}), "does not match"},
		{"unauthorised last update", tamper(func(ce *common.ConfigEnvelope) {
			ce.LastUpdate = updateTx(t, testChannel, s.compute(t, s.newAnchor), n.org1.client, n.org2.admin)
		}), "not satisfied"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := s.b.ValidateConfigEnvelope(tc.env)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("ValidateConfigEnvelope: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// TestLegacyEmptyModPolicy covers configs from before mod_policies were
// mandatory: such elements cannot be modified, and a rebuilt config with
// orderer capabilities gets "Admins" filled in, as Fabric does.
func TestLegacyEmptyModPolicy(t *testing.T) {
	for _, withOrdererCaps := range []bool{true, false} {
		n := newTestNet(t)
		n.cfg.ChannelGroup.Groups[ApplicationGroupKey].Groups["Org2MSP"].Values[AnchorPeersKey].ModPolicy = ""
		if !withOrdererCaps {
			delete(n.cfg.ChannelGroup.Groups[OrdererGroupKey].Values, CapabilitiesKey)
		}
		b := n.bundle(t)
		s := &scenario{n: n, b: b}
		anchor := func(org string) *common.Config {
			return cloneCfg(n.cfg, func(r *common.ConfigGroup) {
				r.Groups[ApplicationGroupKey].Groups[org].Values[AnchorPeersKey] =
					cfgValue(t, &peer.AnchorPeers{AnchorPeers: []*peer.AnchorPeer{{Host: "x", Port: 1}}})
			})
		}
		_, err := b.ProposeConfigUpdate(updateTx(t, testChannel, s.compute(t, anchor("Org2MSP")), n.org2.client, n.org2.admin))
		if err == nil || !strings.Contains(err.Error(), "/Channel/Application/Org2MSP/Values/AnchorPeers: existing element has no mod_policy") {
			t.Fatalf("orderer caps %v: modifying an element without mod_policy: %v", withOrdererCaps, err)
		}
		out, err := b.ProposeConfigUpdate(updateTx(t, testChannel, s.compute(t, anchor("Org1MSP")), n.org1.client, n.org1.admin))
		if err != nil {
			t.Fatal(err)
		}
		got := out.Config.ChannelGroup.Groups[ApplicationGroupKey].Groups["Org2MSP"].Values[AnchorPeersKey].ModPolicy
		want := ""
		if withOrdererCaps {
			want = "Admins"
		}
		if got != want {
			t.Fatalf("orderer caps %v: untouched legacy mod_policy became %q, want %q", withOrdererCaps, got, want)
		}
		if err := b.ValidateConfigEnvelope(out); err != nil {
			t.Fatal(err)
		}
	}
}
