package chain

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/fabcrypto"
	"weft/msp"
	"weft/msp/msptest"
	"weft/wire/common"
	"weft/wire/orderer"
	"weft/wire/orderer/etcdraft"
)

// pki is the orderer organisation of the test channel: one signer and one
// TLS certificate per orderer, plus an admin for config updates.
type pki struct {
	org     *msptest.Org
	mspCfg  *msp.MSP
	admin   *msp.SigningIdentity
	signers []*msp.SigningIdentity
	tls     [][]byte // PEM, used as both client and server TLS cert
}

func newPKI(t testing.TB, n int) *pki {
	t.Helper()
	org, err := msptest.NewOrg("OrdererMSP", false)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := org.Config()
	if err != nil {
		t.Fatal(err)
	}
	m, err := msp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := &pki{org: org, mspCfg: m}
	p.admin = p.identity(t, "Admin@example.com", msptest.OUAdmin)
	for i := 0; i < n; i++ {
		p.signers = append(p.signers, p.identity(t, fmt.Sprintf("orderer%d.example.com", i), msptest.OUOrderer))
		tlsMember, err := org.NewMember(msptest.CertOpts{CN: fmt.Sprintf("tls.orderer%d.example.com", i)})
		if err != nil {
			t.Fatal(err)
		}
		p.tls = append(p.tls, tlsMember.PEM)
	}
	return p
}

func (p *pki) identity(t testing.TB, cn, role string) *msp.SigningIdentity {
	t.Helper()
	mem, err := p.org.Role(cn, role)
	if err != nil {
		t.Fatal(err)
	}
	id, err := p.mspCfg.DeserializeIdentity(mem.Serialized)
	if err != nil {
		t.Fatal(err)
	}
	s, err := fabcrypto.NewSigner(mem.Key)
	if err != nil {
		t.Fatal(err)
	}
	return &msp.SigningIdentity{Identity: id, Signer: s}
}

func (p *pki) consenter(i int) channelconfig.Consenter {
	return channelconfig.Consenter{Host: fmt.Sprintf("orderer%d", i), Port: 7050, ClientTLSCert: p.tls[i], ServerTLSCert: p.tls[i]}
}

// genesis builds block 0 of an orderer-only channel with consenters 0..n-1.
func (p *pki) genesis(t testing.TB, n int, batch uint32, timeout time.Duration) *common.Block {
	t.Helper()
	cfg, err := p.org.Config()
	if err != nil {
		t.Fatal(err)
	}
	var cons []channelconfig.Consenter
	for i := 0; i < n; i++ {
		cons = append(cons, p.consenter(i))
	}
	prof := &channelconfig.Profile{
		Policies:     channelconfig.DefaultChannelPolicies(),
		Capabilities: channelconfig.DefaultChannelCapabilities(),
		Orderer: &channelconfig.OrdererSpec{
			OrdererType:  channelconfig.OrdererTypeEtcdRaft,
			BatchTimeout: timeout,
			BatchSize:    channelconfig.BatchSizeSpec{MaxMessageCount: batch, AbsoluteMaxBytes: 1 << 20, PreferredMaxBytes: 512 << 10},
			EtcdRaft: &channelconfig.EtcdRaftSpec{
				Consenters: cons,
				Options: channelconfig.EtcdRaftOptions{
					TickInterval: "20ms", ElectionTick: 10, HeartbeatTick: 1, MaxInflightBlocks: 5, SnapshotIntervalSize: 1 << 20,
				},
			},
			Organizations: []channelconfig.Org{{
				Name: "OrdererOrg", ID: "OrdererMSP", MSP: cfg,
				Policies: channelconfig.DefaultOrdererOrgPolicies("OrdererMSP"), OrdererEndpoints: []string{"orderer0:7050"},
			}},
			Policies:     channelconfig.DefaultOrdererPolicies(),
			Capabilities: channelconfig.DefaultOrdererCapabilities(),
		},
	}
	g, err := channelconfig.NewChannelGroup(prof)
	if err != nil {
		t.Fatal(err)
	}
	b, err := channelconfig.GenesisBlock(testChannel, g)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// configEnvelope turns a modified copy of the bundle's config into the
// CONFIG transaction a broadcast handler would hand to Configure.
func (p *pki) configEnvelope(t testing.TB, b *channelconfig.Bundle, mutate func(*common.Config)) *common.Envelope {
	t.Helper()
	upd := b.Config()
	mutate(upd)
	cu, err := channelconfig.ComputeUpdate(testChannel, b.Config(), upd)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := proto.Marshal(cu)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := channelconfig.SignConfigUpdate(raw, p.admin)
	if err != nil {
		t.Fatal(err)
	}
	cue, err := channelconfig.NewConfigUpdateEnvelope(raw, sig)
	if err != nil {
		t.Fatal(err)
	}
	utx, err := channelconfig.ConfigUpdateTx(testChannel, cue, p.admin)
	if err != nil {
		t.Fatal(err)
	}
	ce, err := b.ProposeConfigUpdate(utx)
	if err != nil {
		t.Fatal(err)
	}
	data, err := proto.Marshal(ce)
	if err != nil {
		t.Fatal(err)
	}
	return signedEnvelope(t, p.signers[0], common.HeaderType_CONFIG, data)
}

func signedEnvelope(t testing.TB, s *msp.SigningIdentity, typ common.HeaderType, data []byte) *common.Envelope {
	t.Helper()
	nonce := channelconfig.NewNonce()
	ch, err := proto.Marshal(&common.ChannelHeader{
		Type: int32(typ), ChannelId: testChannel, TxId: channelconfig.ComputeTxID(nonce, s.Serialize()),
	})
	if err != nil {
		t.Fatal(err)
	}
	sh, err := proto.Marshal(&common.SignatureHeader{Creator: s.Serialize(), Nonce: nonce})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := proto.Marshal(&common.Payload{Header: &common.Header{ChannelHeader: ch, SignatureHeader: sh}, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	return &common.Envelope{Payload: payload, Signature: sig}
}

// txEnvelope is a cheap unique normal transaction (no real signature; the
// chain does not check them).
func txEnvelope(t testing.TB, tag string) *common.Envelope {
	t.Helper()
	var r [8]byte
	_, _ = rand.Read(r[:])
	ch, _ := proto.Marshal(&common.ChannelHeader{Type: int32(common.HeaderType_ENDORSER_TRANSACTION), ChannelId: testChannel, TxId: tag + "-" + hex.EncodeToString(r[:])})
	payload, _ := proto.Marshal(&common.Payload{Header: &common.Header{ChannelHeader: ch}, Data: []byte(tag)})
	return &common.Envelope{Payload: payload, Signature: []byte("sig")}
}

func setConsenters(t testing.TB, cons []*etcdraft.Consenter) func(*common.Config) {
	return func(c *common.Config) {
		v := c.ChannelGroup.Groups[channelconfig.OrdererGroupKey].Values["ConsensusType"]
		ct := &orderer.ConsensusType{}
		if err := proto.Unmarshal(v.Value, ct); err != nil {
			t.Fatal(err)
		}
		md := &etcdraft.ConfigMetadata{}
		if err := proto.Unmarshal(ct.Metadata, md); err != nil {
			t.Fatal(err)
		}
		md.Consenters = cons
		var err error
		if ct.Metadata, err = proto.Marshal(md); err != nil {
			t.Fatal(err)
		}
		if v.Value, err = proto.Marshal(ct); err != nil {
			t.Fatal(err)
		}
	}
}

func toRaftConsenter(c channelconfig.Consenter) *etcdraft.Consenter {
	return &etcdraft.Consenter{Host: c.Host, Port: uint32(c.Port), ClientTlsCert: c.ClientTLSCert, ServerTlsCert: c.ServerTLSCert}
}
