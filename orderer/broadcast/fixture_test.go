package broadcast

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"weft/channelconfig"
	"weft/fabcrypto"
	"weft/msp"
	"weft/msp/msptest"
	"weft/wire/common"
)

const testChannel = "mychannel"

// Limits of the test channel: small enough that an oversized envelope is
// cheap to build.
const (
	testMaxBytes       = 64 * 1024
	testPreferredBytes = 32 * 1024
)

// fixture is a channel with one orderer org and one application org, plus
// identities inside and outside it.
type fixture struct {
	bundle  *channelconfig.Bundle
	ordOrg  *msptest.Org
	org1    *msptest.Org
	signer  *msp.SigningIdentity // the orderer node
	members map[string]*msptest.Member
}

type fixtureOpts struct {
	// org1Writers replaces the Writers rule of Org1MSP.
	org1Writers string
}

// must keeps fixture construction readable; a failure here is a broken
// test setup, reported with its stack.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func newFixture(tb testing.TB, opts fixtureOpts) *fixture {
	tb.Helper()
	f := &fixture{members: map[string]*msptest.Member{}}
	f.ordOrg = must(msptest.NewOrg("OrdererMSP", false))
	f.org1 = must(msptest.NewOrg("Org1MSP", true))
	outsider := must(msptest.NewOrg("Org9MSP", false))

	f.members["orderer"] = must(f.ordOrg.Role("orderer0", msptest.OUOrderer))
	f.members["ordAdmin"] = must(f.ordOrg.Role("Admin@orderer", msptest.OUAdmin))
	f.members["client"] = must(f.org1.Role("User1@org1", msptest.OUClient))
	f.members["admin"] = must(f.org1.Role("Admin@org1", msptest.OUAdmin))
	f.members["peer"] = must(f.org1.Role("peer0.org1", msptest.OUPeer))
	f.members["expired"] = must(f.org1.NewMember(msptest.CertOpts{
		CN: "Old@org1", OUs: []string{msptest.OUClient},
		NotBefore: time.Now().Add(-2 * msptest.Year), NotAfter: time.Now().Add(-time.Hour),
	}))
	f.members["outsider"] = must(outsider.Role("User1@org9", msptest.OUClient))
	// Claims Org1MSP but is issued by a CA Org1MSP does not trust.
	f.members["forged"] = must(f.org1.NewMemberFrom(outsider.Root, msptest.CertOpts{CN: "Mallory", OUs: []string{msptest.OUClient}}))

	tlsCert, _, err := f.ordOrg.Root.Issue(msptest.CertOpts{CN: "orderer0.example.com"})
	if err != nil {
		tb.Fatal(err)
	}
	tlsPEM := msptest.EncodePEM(tlsCert)
	org1Pol := channelconfig.DefaultOrgPolicies("Org1MSP")
	if opts.org1Writers != "" {
		org1Pol["Writers"] = channelconfig.PolicySpec{Type: channelconfig.PolicyTypeSignature, Rule: opts.org1Writers}
	}
	p := &channelconfig.Profile{
		Policies:     channelconfig.DefaultChannelPolicies(),
		Capabilities: channelconfig.DefaultChannelCapabilities(),
		Orderer: &channelconfig.OrdererSpec{
			OrdererType:  channelconfig.OrdererTypeEtcdRaft,
			BatchTimeout: time.Second,
			BatchSize:    channelconfig.BatchSizeSpec{MaxMessageCount: 10, AbsoluteMaxBytes: testMaxBytes, PreferredMaxBytes: testPreferredBytes},
			EtcdRaft: &channelconfig.EtcdRaftSpec{
				Consenters: []channelconfig.Consenter{{Host: "orderer0.example.com", Port: 7050, ClientTLSCert: tlsPEM, ServerTLSCert: tlsPEM}},
				Options:    channelconfig.DefaultEtcdRaftOptions(),
			},
			Organizations: []channelconfig.Org{{
				Name: "OrdererOrg", ID: "OrdererMSP", MSP: must(f.ordOrg.Config()),
				Policies: channelconfig.DefaultOrdererOrgPolicies("OrdererMSP"), OrdererEndpoints: []string{"orderer0.example.com:7050"},
			}},
			Policies:     channelconfig.DefaultOrdererPolicies(),
			Capabilities: channelconfig.DefaultOrdererCapabilities(),
		},
		Application: &channelconfig.ApplicationSpec{
			Organizations: []channelconfig.Org{{
				Name: "Org1MSP", ID: "Org1MSP", MSP: must(f.org1.Config()), Policies: org1Pol,
				AnchorPeers: []channelconfig.AnchorPeer{{Host: "peer0.org1.example.com", Port: 7051}},
			}},
			Policies:     channelconfig.DefaultApplicationPolicies(),
			Capabilities: channelconfig.DefaultApplicationCapabilities(),
		},
	}
	group := must(channelconfig.NewChannelGroup(p))
	block := must(channelconfig.GenesisBlock(testChannel, group))
	var ce *common.ConfigEnvelope
	ce, _, err = channelconfig.ConfigFromBlock(block)
	if err != nil {
		tb.Fatal(err)
	}
	f.bundle = must(channelconfig.NewBundle(testChannel, ce.Config))

	ord := f.members["orderer"]
	id := must(f.bundle.MSPManager().DeserializeIdentity(ord.Serialized))
	f.signer = &msp.SigningIdentity{Identity: id, Signer: must(fabcrypto.NewSigner(ord.Key))}
	return f
}

// memberSigner lets a test member sign config updates.
type memberSigner struct{ *msptest.Member }

func (m memberSigner) Serialize() []byte { return m.Serialized }

// txParts are the pieces of a transaction envelope a test may tamper with
// before it is encoded and signed.
type txParts struct {
	ch      *common.ChannelHeader
	sh      *common.SignatureHeader
	data    []byte
	signer  *msptest.Member
	payload func([]byte) []byte // rewrites the encoded payload before signing
}

// tx builds a correctly signed ENDORSER_TRANSACTION from m after edit.
func tx(tb testing.TB, m *msptest.Member, edit func(*txParts)) *common.Envelope {
	tb.Helper()
	nonce := channelconfig.NewNonce()
	p := &txParts{
		ch: &common.ChannelHeader{
			Type: int32(common.HeaderType_ENDORSER_TRANSACTION), ChannelId: testChannel,
			TxId:      channelconfig.ComputeTxID(nonce, m.Serialized),
			Timestamp: timestamppb.New(time.Now()),
		},
		sh:     &common.SignatureHeader{Creator: m.Serialized, Nonce: nonce},
		data:   []byte("transaction"),
		signer: m,
	}
	if edit != nil {
		edit(p)
	}
	payload := must(proto.Marshal(&common.Payload{
		Header: &common.Header{
			ChannelHeader:   must(proto.Marshal(p.ch)),
			SignatureHeader: must(proto.Marshal(p.sh)),
		},
		Data: p.data,
	}))
	if p.payload != nil {
		payload = p.payload(payload)
	}
	return &common.Envelope{Payload: payload, Signature: must(p.signer.Sign(payload))}
}

// fakeSupport records what reaches the chain.
type fakeSupport struct {
	bundle *channelconfig.Bundle
	signer *msp.SigningIdentity

	// order, when set, decides Order's result; configure likewise.
	order     func(ctx context.Context, env *common.Envelope) error
	configure func(ctx context.Context, env *common.Envelope) error

	mu         sync.Mutex
	ordered    []*common.Envelope
	configured []*common.Envelope
	seqs       []uint64
}

func (s *fakeSupport) Bundle() *channelconfig.Bundle { return s.bundle }
func (s *fakeSupport) Signer() *msp.SigningIdentity  { return s.signer }

func (s *fakeSupport) Order(ctx context.Context, env *common.Envelope, seq uint64) error {
	s.mu.Lock()
	s.ordered = append(s.ordered, env)
	s.seqs = append(s.seqs, seq)
	s.mu.Unlock()
	if s.order != nil {
		return s.order(ctx, env)
	}
	return nil
}

func (s *fakeSupport) Configure(ctx context.Context, env *common.Envelope, seq uint64) error {
	s.mu.Lock()
	s.configured = append(s.configured, env)
	s.seqs = append(s.seqs, seq)
	s.mu.Unlock()
	if s.configure != nil {
		return s.configure(ctx, env)
	}
	return nil
}

func (s *fakeSupport) counts() (ordered, configured int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ordered), len(s.configured)
}

type fakeRegistrar map[string]Support

func (r fakeRegistrar) Support(ch string) (Support, bool) {
	s, ok := r[ch]
	return s, ok
}

func (f *fixture) handler(s *fakeSupport) *Handler {
	return &Handler{Registrar: fakeRegistrar{testChannel: s}, Logger: discardLogger()}
}

func (f *fixture) support() *fakeSupport { return &fakeSupport{bundle: f.bundle, signer: f.signer} }

func (f *fixture) member(tb testing.TB, name string) *msptest.Member {
	tb.Helper()
	m, ok := f.members[name]
	if !ok {
		tb.Fatalf("no test member %q", name)
	}
	return m
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func txID(nonce, creator []byte) string { return channelconfig.ComputeTxID(nonce, creator) }

func envHeaders(env *common.Envelope) (*common.Payload, *common.ChannelHeader, *common.SignatureHeader, error) {
	return channelconfig.EnvelopeHeaders(env)
}
