package channel

import (
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"weft/channelconfig"
	"weft/fabcrypto"
	"weft/ledger/statedb"
	"weft/msp"
	"weft/msp/msptest"
	"weft/peer/validator"
	"weft/policy"
	"weft/wire/common"
	"weft/wire/ledger/rwset"
	"weft/wire/ledger/rwset/kvrwset"
	mspproto "weft/wire/msp"
	"weft/wire/peer"
)

const testChannel = "mychannel"

var quiet = slog.New(slog.DiscardHandler)

// must keeps fixture construction readable; a failure is a broken test
// setup, reported with its stack.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// tlsPair is a PEM TLS certificate and key.
type tlsPair struct{ cert, key []byte }

func issueTLS(t testing.TB, ca *fabcrypto.CA, cn string) tlsPair {
	t.Helper()
	key := must(fabcrypto.GenerateKey())
	cert := must(ca.Issue(fabcrypto.CertSpec{
		CommonName:  cn,
		SANs:        []string{"localhost", "127.0.0.1"},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		PublicKey:   &key.PublicKey,
	}))
	return tlsPair{cert: fabcrypto.EncodeCertPEM(cert), key: must(fabcrypto.MarshalPrivateKeyPEM(key))}
}

// fixture is a channel with one orderer org (two orderer endpoints) and one
// application org, with the identities and TLS material of both sides.
type fixture struct {
	ordOrg, org1 *msptest.Org
	ordTLSCA     *fabcrypto.CA
	peerTLSCA    *fabcrypto.CA
	peerTLS      tlsPair
	// orderer signs blocks; rogue is an org1 peer, a valid identity that
	// the BlockValidation policy does not accept.
	orderer, ordAdmin, rogue *msp.SigningIdentity
	client, endorser         *msptest.Member
	peerID                   *msp.SigningIdentity
	listeners                []net.Listener
	genesis                  *common.Block
	bundle                   *channelconfig.Bundle
	profile                  *channelconfig.Profile
}

// newFixture builds the channel; with nOrderers > 0 it also opens that many
// loopback listeners whose addresses become the orderer endpoints.
func newFixture(t testing.TB, nOrderers int) *fixture {
	t.Helper()
	f := &fixture{
		ordOrg: must(msptest.NewOrg("OrdererMSP", false)),
		org1:   must(msptest.NewOrg("Org1MSP", false)),
	}
	f.ordTLSCA = must(fabcrypto.NewRootCA(fabcrypto.RootSpec{Subject: fabcrypto.Subject{CommonName: "tlsca.example.com"}}))
	f.peerTLSCA = must(fabcrypto.NewRootCA(fabcrypto.RootSpec{Subject: fabcrypto.Subject{CommonName: "tlsca.org1.example.com"}}))
	f.peerTLS = issueTLS(t, f.peerTLSCA, "peer0.org1.example.com")

	endpoints := []string{"127.0.0.1:1"}
	if nOrderers > 0 {
		endpoints = nil
	}
	for range nOrderers {
		l := must(net.Listen("tcp", "127.0.0.1:0"))
		t.Cleanup(func() { l.Close() })
		f.listeners = append(f.listeners, l)
		endpoints = append(endpoints, l.Addr().String())
	}
	ordMSP := f.ordOrg.FabricConfig()
	ordMSP.TlsRootCerts = [][]byte{fabcrypto.EncodeCertPEM(f.ordTLSCA.Cert)}
	org1MSP := f.org1.FabricConfig()
	org1MSP.TlsRootCerts = [][]byte{fabcrypto.EncodeCertPEM(f.peerTLSCA.Cert)}
	mspConf := func(c proto.Message) *mspproto.MSPConfig {
		return &mspproto.MSPConfig{Type: 0, Config: must(proto.Marshal(c))}
	}
	consenterTLS := issueTLS(t, f.ordTLSCA, "orderer0.example.com")
	f.profile = &channelconfig.Profile{
		Policies:     channelconfig.DefaultChannelPolicies(),
		Capabilities: channelconfig.DefaultChannelCapabilities(),
		Orderer: &channelconfig.OrdererSpec{
			OrdererType:  channelconfig.OrdererTypeEtcdRaft,
			BatchTimeout: 2 * time.Second,
			BatchSize:    channelconfig.BatchSizeSpec{MaxMessageCount: 10, AbsoluteMaxBytes: 1 << 20, PreferredMaxBytes: 1 << 19},
			EtcdRaft: &channelconfig.EtcdRaftSpec{
				Consenters: []channelconfig.Consenter{{Host: "orderer0.example.com", Port: 7050, ClientTLSCert: consenterTLS.cert, ServerTLSCert: consenterTLS.cert}},
				Options:    channelconfig.DefaultEtcdRaftOptions(),
			},
			Organizations: []channelconfig.Org{{
				Name: "OrdererOrg", ID: "OrdererMSP", MSP: mspConf(ordMSP),
				Policies: channelconfig.DefaultOrdererOrgPolicies("OrdererMSP"), OrdererEndpoints: endpoints,
			}},
			Policies:     channelconfig.DefaultOrdererPolicies(),
			Capabilities: channelconfig.DefaultOrdererCapabilities(),
		},
		Application: &channelconfig.ApplicationSpec{
			Organizations: []channelconfig.Org{{
				Name: "Org1MSP", ID: "Org1MSP", MSP: mspConf(org1MSP), Policies: channelconfig.DefaultOrgPolicies("Org1MSP"),
			}},
			Policies:     channelconfig.DefaultApplicationPolicies(),
			Capabilities: channelconfig.DefaultApplicationCapabilities(),
		},
	}
	group := must(channelconfig.NewChannelGroup(f.profile))
	f.genesis = must(channelconfig.GenesisBlock(testChannel, group))
	cfgEnv, _, err := channelconfig.ConfigFromBlock(f.genesis)
	if err != nil {
		t.Fatal(err)
	}
	f.bundle = must(channelconfig.NewBundle(testChannel, cfgEnv.Config))
	f.orderer = f.signing(t, f.ordOrg, "orderer0.example.com", msptest.OUOrderer)
	f.ordAdmin = f.signing(t, f.ordOrg, "Admin@example.com", msptest.OUAdmin)
	f.rogue = f.signing(t, f.org1, "peer1.org1.example.com", msptest.OUPeer)
	f.peerID = f.signing(t, f.org1, "peer0.org1.example.com", msptest.OUPeer)
	f.client = must(f.org1.Role("User1@org1.example.com", msptest.OUClient))
	f.endorser = must(f.org1.Role("peer0.org1.example.com", msptest.OUPeer))
	return f
}

func (f *fixture) signing(t testing.TB, org *msptest.Org, cn, role string) *msp.SigningIdentity {
	t.Helper()
	m := must(org.Role(cn, role))
	id := must(f.bundle.MSPManager().DeserializeIdentity(m.Serialized))
	return &msp.SigningIdentity{Identity: id, Signer: must(fabcrypto.NewSigner(m.Key))}
}

func (f *fixture) deps() Deps {
	return Deps{
		Signer: f.peerID, TLSCertPEM: f.peerTLS.cert, TLSKeyPEM: f.peerTLS.key, Logger: quiet,
		PolicyChecker: func(*statedb.DB, *channelconfig.Bundle) validator.PolicyChecker { return acceptAll{} },
		RetryMin:      20 * time.Millisecond, RetryMax: 100 * time.Millisecond, DialTimeout: 2 * time.Second,
	}
}

// acceptAll is an endorsement policy checker satisfied by any endorsement
// except for namespace "denied".
type acceptAll struct{}

func (acceptAll) CheckEndorsement(ns string, _ *kvrwset.KVRWSet, _ []policy.SignedData) error {
	if ns == "denied" {
		return fmt.Errorf("namespace %q: endorsement policy not satisfied", ns)
	}
	return nil
}

// signBlock finishes b: data hash and the SIGNATURES metadata signed by
// signer, recording lastConfig.
func signBlock(t testing.TB, b *common.Block, signer *msp.SigningIdentity, lastConfig uint64) *common.Block {
	t.Helper()
	b.Header.DataHash = channelconfig.BlockDataHash(b.Data)
	value := must(proto.Marshal(&common.OrdererBlockMetadata{LastConfig: &common.LastConfig{Index: lastConfig}}))
	shdr := must(proto.Marshal(&common.SignatureHeader{Creator: signer.Serialize(), Nonce: channelconfig.NewNonce()}))
	msg := append(append(append([]byte{}, value...), shdr...), channelconfig.BlockHeaderBytes(b.Header)...)
	sig := must(signer.Sign(msg))
	b.Metadata.Metadata[common.BlockMetadataIndex_SIGNATURES] = must(proto.Marshal(&common.Metadata{
		Value: value, Signatures: []*common.MetadataSignature{{SignatureHeader: shdr, Signature: sig}},
	}))
	b.Metadata.Metadata[common.BlockMetadataIndex_LAST_CONFIG] = must(proto.Marshal(&common.Metadata{
		Value: must(proto.Marshal(&common.LastConfig{Index: lastConfig})),
	}))
	return b
}

// newBlock builds block num after prev holding envs, signed by signer.
func newBlock(t testing.TB, num uint64, prev *common.Block, envs [][]byte, signer *msp.SigningIdentity, lastConfig uint64) *common.Block {
	t.Helper()
	b := channelconfig.NewBlock(num, channelconfig.BlockHeaderHash(prev.Header))
	b.Data.Data = envs
	return signBlock(t, b, signer, lastConfig)
}

// kvWrite is one write of a test transaction; value nil deletes.
type kvWrite struct {
	key   string
	value []byte
}

// txOpts shape a test endorser transaction.
type txOpts struct {
	ns     string
	writes []kvWrite
	reads  []*kvrwset.KVRead
	meta   []*kvrwset.KVMetadataWrite
	event  *peer.ChaincodeEvent
	// badSig corrupts the creator's envelope signature.
	badSig bool
}

// endorserTx builds a signed, endorsed ENDORSER_TRANSACTION from the
// client of org1 and returns its bytes and tx id.
func (f *fixture) endorserTx(t testing.TB, o txOpts) ([]byte, string) {
	t.Helper()
	if o.ns == "" {
		o.ns = "basic"
	}
	nonce := channelconfig.NewNonce()
	txID := channelconfig.ComputeTxID(nonce, f.client.Serialized)
	ccID := &peer.ChaincodeID{Name: o.ns}
	chdr := must(proto.Marshal(&common.ChannelHeader{
		Type: int32(common.HeaderType_ENDORSER_TRANSACTION), ChannelId: testChannel, TxId: txID,
		Timestamp: timestamppb.Now(), Extension: must(proto.Marshal(&peer.ChaincodeHeaderExtension{ChaincodeId: ccID})),
	}))
	shdr := must(proto.Marshal(&common.SignatureHeader{Creator: f.client.Serialized, Nonce: nonce}))
	input := must(proto.Marshal(&peer.ChaincodeInvocationSpec{ChaincodeSpec: &peer.ChaincodeSpec{
		Type: peer.ChaincodeSpec_NODE, ChaincodeId: ccID, Input: &peer.ChaincodeInput{Args: [][]byte{[]byte("invoke")}},
	}}))
	ccpp := must(proto.Marshal(&peer.ChaincodeProposalPayload{Input: input}))
	h := sha256.New()
	h.Write(chdr)
	h.Write(shdr)
	h.Write(ccpp)
	kv := &kvrwset.KVRWSet{Reads: o.reads, MetadataWrites: o.meta}
	for _, w := range o.writes {
		kv.Writes = append(kv.Writes, &kvrwset.KVWrite{Key: w.key, Value: w.value, IsDelete: w.value == nil})
	}
	results := must(proto.Marshal(&rwset.TxReadWriteSet{
		DataModel: rwset.TxReadWriteSet_KV,
		NsRwset:   []*rwset.NsReadWriteSet{{Namespace: o.ns, Rwset: must(proto.Marshal(kv))}},
	}))
	var events []byte
	if o.event != nil {
		ev := proto.Clone(o.event).(*peer.ChaincodeEvent)
		ev.TxId = txID
		events = must(proto.Marshal(ev))
	}
	prp := must(proto.Marshal(&peer.ProposalResponsePayload{
		ProposalHash: h.Sum(nil),
		Extension: must(proto.Marshal(&peer.ChaincodeAction{
			Results: results, Events: events, Response: &peer.Response{Status: 200},
			ChaincodeId: &peer.ChaincodeID{Name: o.ns, Version: "1.0"},
		})),
	}))
	esig := must(f.endorser.Sign(append(append([]byte{}, prp...), f.endorser.Serialized...)))
	cp := must(proto.Marshal(&peer.ChaincodeActionPayload{
		ChaincodeProposalPayload: ccpp,
		Action: &peer.ChaincodeEndorsedAction{
			ProposalResponsePayload: prp,
			Endorsements:            []*peer.Endorsement{{Endorser: f.endorser.Serialized, Signature: esig}},
		},
	}))
	tx := must(proto.Marshal(&peer.Transaction{Actions: []*peer.TransactionAction{{Header: shdr, Payload: cp}}}))
	payload := must(proto.Marshal(&common.Payload{Header: &common.Header{ChannelHeader: chdr, SignatureHeader: shdr}, Data: tx}))
	sig := must(f.client.Sign(payload))
	if o.badSig {
		sig = must(f.endorser.Sign(payload))
	}
	return must(proto.Marshal(&common.Envelope{Payload: payload, Signature: sig})), txID
}

// configTx builds the CONFIG transaction an orderer would order for an
// update that sets the batch timeout to timeout, signed by the orderer admin.
func (f *fixture) configTx(t testing.TB, current *channelconfig.Bundle, timeout time.Duration) []byte {
	t.Helper()
	p := *f.profile
	ord := *p.Orderer
	ord.BatchTimeout = timeout
	p.Orderer = &ord
	updated := &common.Config{ChannelGroup: must(channelconfig.NewChannelGroup(&p))}
	update := must(channelconfig.ComputeUpdate(testChannel, current.Config(), updated))
	raw := must(proto.Marshal(update))
	sig := must(channelconfig.SignConfigUpdate(raw, f.ordAdmin))
	upEnv := must(channelconfig.NewConfigUpdateEnvelope(raw, sig))
	tx := must(channelconfig.ConfigUpdateTx(testChannel, upEnv, f.ordAdmin))
	cfgEnv := must(current.ProposeConfigUpdate(tx))
	return f.wrapConfig(t, cfgEnv)
}

// wrapConfig signs cfgEnv into a CONFIG transaction as the orderer.
func (f *fixture) wrapConfig(t testing.TB, cfgEnv *common.ConfigEnvelope) []byte {
	t.Helper()
	chdr := must(proto.Marshal(&common.ChannelHeader{Type: int32(common.HeaderType_CONFIG), ChannelId: testChannel, Timestamp: timestamppb.Now()}))
	shdr := must(proto.Marshal(&common.SignatureHeader{Creator: f.orderer.Serialize(), Nonce: channelconfig.NewNonce()}))
	payload := must(proto.Marshal(&common.Payload{Header: &common.Header{ChannelHeader: chdr, SignatureHeader: shdr}, Data: must(proto.Marshal(cfgEnv))}))
	return must(proto.Marshal(&common.Envelope{Payload: payload, Signature: must(f.orderer.Sign(payload))}))
}
