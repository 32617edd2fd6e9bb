package broadcast

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/msp"
	"weft/msp/msptest"
	"weft/wire/common"
	"weft/wire/orderer"
	"weft/wire/peer"
)

// configUpdate builds a CONFIG_UPDATE turning the fixture's config into the
// result of edit, approved by approvers and submitted by submitter.
func configUpdate(t *testing.T, f *fixture, edit func(root *common.ConfigGroup), submitter *msptest.Member, approvers ...*msptest.Member) *common.Envelope {
	t.Helper()
	orig := f.bundle.Config()
	upd := proto.Clone(orig).(*common.Config)
	edit(upd.ChannelGroup)
	cu := must(channelconfig.ComputeUpdate(testChannel, orig, upd))
	raw := must(proto.Marshal(cu))
	var sigs []*common.ConfigSignature
	for _, a := range approvers {
		sigs = append(sigs, must(channelconfig.SignConfigUpdate(raw, memberSigner{a})))
	}
	cue := must(channelconfig.NewConfigUpdateEnvelope(raw, sigs...))
	return must(channelconfig.ConfigUpdateTx(testChannel, cue, memberSigner{submitter}))
}

func setValue(t *testing.T, g *common.ConfigGroup, key string, m proto.Message) {
	t.Helper()
	g.Values[key].Value = must(proto.Marshal(m))
}

func newBatch(t *testing.T) func(*common.ConfigGroup) {
	return func(root *common.ConfigGroup) {
		setValue(t, root.Groups[channelconfig.OrdererGroupKey], "BatchSize",
			&orderer.BatchSize{MaxMessageCount: 77, AbsoluteMaxBytes: testMaxBytes, PreferredMaxBytes: testPreferredBytes})
	}
}

func newAnchors(t *testing.T) func(*common.ConfigGroup) {
	return func(root *common.ConfigGroup) {
		setValue(t, root.Groups[channelconfig.ApplicationGroupKey].Groups["Org1MSP"], channelconfig.AnchorPeersKey,
			&peer.AnchorPeers{AnchorPeers: []*peer.AnchorPeer{{Host: "peer1.org1.example.com", Port: 8051}}})
	}
}

func TestProcessConfigUpdate(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	now := time.Date(2030, 1, 2, 3, 4, 5, 600, time.UTC)
	ordAdmin, admin, client := f.member(t, "ordAdmin"), f.member(t, "admin"), f.member(t, "client")

	cases := []struct {
		name      string
		env       func(t *testing.T) *common.Envelope
		signer    *msp.SigningIdentity
		configure func(context.Context, *common.Envelope) error
		status    common.Status
		info      string
		check     func(t *testing.T, b *channelconfig.Bundle)
	}{
		{
			name:   "batch size by orderer admin",
			env:    func(t *testing.T) *common.Envelope { return configUpdate(t, f, newBatch(t), ordAdmin, ordAdmin) },
			status: common.Status_SUCCESS,
			check: func(t *testing.T, b *channelconfig.Bundle) {
				if got := b.BatchSize().GetMaxMessageCount(); got != 77 {
					t.Fatalf("MaxMessageCount %d after update, want 77", got)
				}
			},
		},
		{
			name:   "anchor peers by org admin, submitted by a client",
			env:    func(t *testing.T) *common.Envelope { return configUpdate(t, f, newAnchors(t), client, admin) },
			status: common.Status_SUCCESS,
			check: func(t *testing.T, b *channelconfig.Bundle) {
				ap := b.ApplicationOrgs()[0].AnchorPeers
				if len(ap) != 1 || ap[0].Port != 8051 {
					t.Fatalf("anchor peers after update: %v", ap)
				}
			},
		},
		{
			name:   "batch size approved only by an application admin",
			env:    func(t *testing.T) *common.Envelope { return configUpdate(t, f, newBatch(t), admin, admin) },
			status: common.Status_BAD_REQUEST,
			info:   `mod_policy "/Channel/Orderer/Admins" not satisfied`,
		},
		{
			name:   "anchor peers without approval",
			env:    func(t *testing.T) *common.Envelope { return configUpdate(t, f, newAnchors(t), client) },
			status: common.Status_BAD_REQUEST,
			info:   "config update rejected",
		},
		{
			name: "update data is garbage",
			env: func(t *testing.T) *common.Envelope {
				return tx(t, client, func(p *txParts) {
					p.ch.Type = int32(common.HeaderType_CONFIG_UPDATE)
					p.data = []byte{0xff, 0x01}
				})
			},
			status: common.Status_BAD_REQUEST,
			info:   "config update rejected",
		},
		{
			name: "submitter not a writer",
			env: func(t *testing.T) *common.Envelope {
				return configUpdate(t, f, newAnchors(t), f.member(t, "peer"), admin)
			},
			status: common.Status_FORBIDDEN,
			info:   "/Channel/Writers",
		},
		{
			name:   "orderer has no signer",
			env:    func(t *testing.T) *common.Envelope { return configUpdate(t, f, newAnchors(t), client, admin) },
			signer: &msp.SigningIdentity{},
			status: common.Status_INTERNAL_SERVER_ERROR,
			info:   "no signing identity",
		},
		{
			name: "Configure reports no leader",
			env:  func(t *testing.T) *common.Envelope { return configUpdate(t, f, newAnchors(t), client, admin) },
			configure: func(context.Context, *common.Envelope) error {
				return errors.Join(ErrUnavailable, errors.New("no leader"))
			},
			status: common.Status_SERVICE_UNAVAILABLE,
			info:   "no leader",
		},
		{
			name:      "Configure fails",
			env:       func(t *testing.T) *common.Envelope { return configUpdate(t, f, newAnchors(t), client, admin) },
			configure: func(context.Context, *common.Envelope) error { return errors.New("wal broken") },
			status:    common.Status_INTERNAL_SERVER_ERROR,
			info:      "wal broken",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := f.support()
			if tc.signer != nil {
				s.signer = tc.signer
			}
			s.configure = tc.configure
			h := f.handler(s)
			h.Now = func() time.Time { return now }
			update := tc.env(t)
			resp := h.Process(context.Background(), update)
			if resp.Status != tc.status || !strings.Contains(resp.Info, tc.info) {
				t.Fatalf("got %v %q, want %v containing %q", resp.Status, resp.Info, tc.status, tc.info)
			}
			ordered, configured := s.counts()
			if ordered != 0 {
				t.Fatal("config update reached Order")
			}
			wantConfigure := tc.status == common.Status_SUCCESS || tc.configure != nil
			if (configured == 1) != wantConfigure {
				t.Fatalf("Configure called %d times", configured)
			}
			if tc.status != common.Status_SUCCESS {
				return
			}
			if s.seqs[0] != f.bundle.Sequence() {
				t.Fatalf("Configure got sequence %d, want %d", s.seqs[0], f.bundle.Sequence())
			}
			checkConfigTx(t, f, s.configured[0], update, now, tc.check)
		})
	}
}

// checkConfigTx verifies the CONFIG envelope handed to Configure the way a
// peer would: orderer signature, headers, and a ConfigEnvelope whose
// last_update is the client's envelope and validates against the old config.
func checkConfigTx(t *testing.T, f *fixture, env, update *common.Envelope, now time.Time, check func(*testing.T, *channelconfig.Bundle)) {
	t.Helper()
	ce, ch, err := channelconfig.ConfigFromEnvelope(env)
	if err != nil {
		t.Fatalf("Configure got an envelope that is not a config transaction: %v", err)
	}
	if common.HeaderType(ch.Type) != common.HeaderType_CONFIG || ch.ChannelId != testChannel || ch.Epoch != 0 {
		t.Fatalf("channel header %v", ch)
	}
	if ch.Timestamp.AsTime() != now.Truncate(time.Second) {
		t.Fatalf("timestamp %v, want %v", ch.Timestamp.AsTime(), now.Truncate(time.Second))
	}
	_, _, sh, err := channelconfig.EnvelopeHeaders(env)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(&common.SignatureHeader{Creator: f.signer.Serialize(), Nonce: sh.Nonce}, sh) || len(sh.Nonce) == 0 {
		t.Fatalf("signature header creator is not the orderer or nonce empty")
	}
	if ch.TxId != channelconfig.ComputeTxID(sh.Nonce, sh.Creator) {
		t.Fatalf("tx id %q not derived from nonce and creator", ch.TxId)
	}
	if err := f.signer.Verify(env.Payload, env.Signature); err != nil {
		t.Fatalf("orderer signature: %v", err)
	}
	if !proto.Equal(ce.LastUpdate, update) {
		t.Fatal("last_update is not the client's envelope")
	}
	if err := f.bundle.ValidateConfigEnvelope(ce); err != nil {
		t.Fatalf("ValidateConfigEnvelope: %v", err)
	}
	next, err := f.bundle.ApplyConfigEnvelope(ce)
	if err != nil {
		t.Fatal(err)
	}
	if next.Sequence() != f.bundle.Sequence()+1 {
		t.Fatalf("new sequence %d", next.Sequence())
	}
	if check != nil {
		check(t, next)
	}
}

// TestProcessMaintenanceMode checks that, as in Fabric, a channel whose
// consensus type is being migrated refuses transactions but still takes
// config updates (the way out of maintenance).
func TestProcessMaintenanceMode(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	cfg := f.bundle.Config()
	og := cfg.ChannelGroup.Groups[channelconfig.OrdererGroupKey]
	ct := &orderer.ConsensusType{}
	if err := proto.Unmarshal(og.Values["ConsensusType"].Value, ct); err != nil {
		t.Fatal(err)
	}
	ct.State = orderer.ConsensusType_STATE_MAINTENANCE
	setValue(t, og, "ConsensusType", ct)
	f.bundle = must(channelconfig.NewBundle(testChannel, cfg))

	s := f.support()
	h := f.handler(s)
	resp := h.Process(context.Background(), tx(t, f.member(t, "client"), nil))
	if resp.Status != common.Status_SERVICE_UNAVAILABLE || !strings.Contains(resp.Info, "maintenance") {
		t.Fatalf("transaction in maintenance mode: %v %q", resp.Status, resp.Info)
	}
	resp = h.Process(context.Background(), configUpdate(t, f, newAnchors(t), f.member(t, "client"), f.member(t, "admin")))
	if resp.Status != common.Status_SUCCESS {
		t.Fatalf("config update in maintenance mode: %v %q", resp.Status, resp.Info)
	}
	if ordered, configured := s.counts(); ordered != 0 || configured != 1 {
		t.Fatalf("Order %d / Configure %d calls, want 0 / 1", ordered, configured)
	}
}
