package validator

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"weft/channelconfig"
	"weft/ledger/statedb"
	"weft/msp/msptest"
	"weft/peer/txsim"
	"weft/policy"
	"weft/wire/common"
	"weft/wire/ledger/rwset/kvrwset"
	"weft/wire/peer"
)

const testChannel = "mychannel"

func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// fakePolicies evaluates real signature policies per namespace and records
// which namespaces it was asked about.
type fakePolicies struct {
	pols map[string]policy.Policy
	mu   sync.Mutex
	asks []string
	// evals records, per evaluated namespace, the memo the signed data
	// carried and its verification count before and after the evaluation.
	evals []memoUse
	fail  error // returned for every call when set
}

type memoUse struct {
	ns            string
	memo          *policy.VerifyMemo
	before, after int
	signers       int
}

func (f *fakePolicies) CheckEndorsement(ns string, writes *kvrwset.KVRWSet, sd []policy.SignedData) error {
	f.mu.Lock()
	f.asks = append(f.asks, ns)
	f.mu.Unlock()
	if writes == nil {
		return errors.New("nil writes")
	}
	if f.fail != nil {
		return f.fail
	}
	p, ok := f.pols[ns]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownChaincode, ns)
	}
	var memo *policy.VerifyMemo
	if len(sd) > 0 {
		memo = sd[0].Memo()
	}
	before := memo.Verifications()
	err := p.EvaluateSignedData(sd)
	f.mu.Lock()
	f.evals = append(f.evals, memoUse{ns: ns, memo: memo, before: before, after: memo.Verifications(), signers: len(sd)})
	f.mu.Unlock()
	return err
}

type fixture struct {
	bundle   *channelconfig.Bundle
	db       *statedb.DB
	pols     *fakePolicies
	inLedger map[string]bool

	client, peer1, peer2, client1AsEndorser, outsider, untrusted *msptest.Member
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ordOrg := must(msptest.NewOrg("OrdererMSP", false))(t)
	org1 := must(msptest.NewOrg("Org1MSP", true))(t)
	org2 := must(msptest.NewOrg("Org2MSP", false))(t)
	org3 := must(msptest.NewOrg("Org3MSP", false))(t)
	f := &fixture{
		client:            must(org1.Role("User1@org1", msptest.OUClient))(t),
		peer1:             must(org1.Role("peer0.org1", msptest.OUPeer))(t),
		peer2:             must(org2.Role("peer0.org2", msptest.OUPeer))(t),
		client1AsEndorser: must(org1.Role("User2@org1", msptest.OUClient))(t),
		outsider:          must(org3.Role("peer0.org3", msptest.OUPeer))(t),
		inLedger:          map[string]bool{},
	}
	rogue := must(msptest.NewRootCA("rogue"))(t)
	f.untrusted = must(org1.NewMemberFrom(rogue, msptest.CertOpts{CN: "fake", OUs: []string{msptest.OUPeer}}))(t)

	tlsCert, _, err := ordOrg.Root.Issue(msptest.CertOpts{CN: "orderer0.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	tlsPEM := msptest.EncodePEM(tlsCert)
	app := func(o *msptest.Org) channelconfig.Org {
		return channelconfig.Org{Name: o.MSPID, ID: o.MSPID, MSP: must(o.Config())(t), Policies: channelconfig.DefaultOrgPolicies(o.MSPID)}
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
				Name: "OrdererOrg", ID: "OrdererMSP", MSP: must(ordOrg.Config())(t),
				Policies:         channelconfig.DefaultOrdererOrgPolicies("OrdererMSP"),
				OrdererEndpoints: []string{"orderer0.example.com:7050"},
			}},
			Policies:     channelconfig.DefaultOrdererPolicies(),
			Capabilities: channelconfig.DefaultOrdererCapabilities(),
		},
		Application: &channelconfig.ApplicationSpec{
			Organizations: []channelconfig.Org{app(org1), app(org2)},
			Policies:      channelconfig.DefaultApplicationPolicies(),
			Capabilities:  channelconfig.DefaultApplicationCapabilities(),
		},
	}
	group := must(channelconfig.NewChannelGroup(profile))(t)
	genesis := must(channelconfig.GenesisBlock(testChannel, group))(t)
	cfgEnv, _, err := channelconfig.ConfigFromBlock(genesis)
	if err != nil {
		t.Fatal(err)
	}
	f.bundle = must(channelconfig.NewBundle(testChannel, cfgEnv.Config))(t)

	pol := func(s string) policy.Policy {
		return must(policy.NewSignaturePolicy(must(policy.FromString(s))(t), f.bundle.MSPManager()))(t)
	}
	f.pols = &fakePolicies{pols: map[string]policy.Policy{
		"cc":    pol("OR('Org1MSP.peer')"),
		"other": pol("AND('Org1MSP.peer', 'Org2MSP.peer')"),
		"ro":    pol("OR('Org2MSP.admin')"),
	}}

	f.db = must(statedb.Open(filepath.Join(t.TempDir(), "state.db")))(t)
	t.Cleanup(func() { f.db.Close() })
	return f
}

// seed commits key=value pairs of ns "cc" as block num, one tx per pair.
func (f *fixture) seed(t testing.TB, num uint64, kvs ...string) {
	t.Helper()
	b := statedb.NewUpdateBatch()
	for i := 0; i+1 < len(kvs); i += 2 {
		b.Put("cc", kvs[i], []byte(kvs[i+1]), nil, statedb.Version{BlockNum: num, TxNum: uint64(i / 2)})
	}
	if err := f.db.Commit(b, num); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) input(blk *common.Block) Input {
	return Input{
		Block: blk, Bundle: f.bundle, State: f.db, Policies: f.pols,
		TxExists: func(id string) (bool, error) { return f.inLedger[id], nil },
	}
}

// simulate runs ops on a fresh simulator and returns the marshaled results.
func (f *fixture) simulate(t testing.TB, ops func(s *txsim.Simulator) error) []byte {
	t.Helper()
	s := txsim.New(f.db, "sim")
	defer s.Done()
	if err := ops(s); err != nil {
		t.Fatal(err)
	}
	return must(s.ResultsBytes())(t)
}

func writes(kvs ...string) func(s *txsim.Simulator) error {
	return func(s *txsim.Simulator) error {
		for i := 0; i+1 < len(kvs); i += 2 {
			if err := s.PutState("cc", kvs[i], []byte(kvs[i+1])); err != nil {
				return err
			}
		}
		return nil
	}
}

// txSpec describes an endorser transaction; the hooks corrupt one stage.
type txSpec struct {
	creator   *msptest.Member
	cc        string
	results   []byte
	endorsers []*msptest.Member
	events    []byte

	chdr         func(*common.ChannelHeader)
	action       func(*peer.ChaincodeAction)
	prp          func(*peer.ProposalResponsePayload)
	signed       func(prpBytes []byte, es []*peer.Endorsement) // sees the endorsements as signed
	endorsements func([]*peer.Endorsement) []*peer.Endorsement
	tx           func(*peer.Transaction)
	payload      func(*common.Payload)
	envelope     func(*common.Envelope)
}

// envelope builds the transaction the way the gateway client and endorsers
// do, applying the hooks along the way.
func (f *fixture) envelope(t testing.TB, s txSpec) []byte {
	t.Helper()
	if s.creator == nil {
		s.creator = f.client
	}
	if s.cc == "" {
		s.cc = "cc"
	}
	if s.endorsers == nil {
		s.endorsers = []*msptest.Member{f.peer1}
	}
	nonce := make([]byte, 24)
	rand.Read(nonce)
	chdr := &common.ChannelHeader{
		Type: int32(common.HeaderType_ENDORSER_TRANSACTION), ChannelId: testChannel,
		TxId:      channelconfig.ComputeTxID(nonce, s.creator.Serialized),
		Timestamp: timestamppb.Now(),
		Extension: must(proto.Marshal(&peer.ChaincodeHeaderExtension{ChaincodeId: &peer.ChaincodeID{Name: s.cc}}))(t),
	}
	if s.chdr != nil {
		s.chdr(chdr)
	}
	chdrBytes := must(proto.Marshal(chdr))(t)
	shdrBytes := must(proto.Marshal(&common.SignatureHeader{Creator: s.creator.Serialized, Nonce: nonce}))(t)
	cppBytes := must(proto.Marshal(&peer.ChaincodeProposalPayload{Input: []byte("invocation spec")}))(t)
	hash := sha256.Sum256(append(append(append([]byte{}, chdrBytes...), shdrBytes...), cppBytes...))

	action := &peer.ChaincodeAction{
		Results: s.results, Events: s.events,
		Response:    &peer.Response{Status: 200},
		ChaincodeId: &peer.ChaincodeID{Name: s.cc, Version: "1.0"},
	}
	if s.action != nil {
		s.action(action)
	}
	prp := &peer.ProposalResponsePayload{ProposalHash: hash[:], Extension: must(proto.Marshal(action))(t)}
	if s.prp != nil {
		s.prp(prp)
	}
	prpBytes := must(proto.Marshal(prp))(t)
	var ends []*peer.Endorsement
	for _, e := range s.endorsers {
		sig := must(e.Sign(append(append([]byte{}, prpBytes...), e.Serialized...)))(t)
		ends = append(ends, &peer.Endorsement{Endorser: e.Serialized, Signature: sig})
	}
	if s.signed != nil {
		s.signed(prpBytes, ends)
	}
	if s.endorsements != nil {
		ends = s.endorsements(ends)
	}
	capBytes := must(proto.Marshal(&peer.ChaincodeActionPayload{
		ChaincodeProposalPayload: cppBytes,
		Action:                   &peer.ChaincodeEndorsedAction{ProposalResponsePayload: prpBytes, Endorsements: ends},
	}))(t)
	tx := &peer.Transaction{Actions: []*peer.TransactionAction{{Header: shdrBytes, Payload: capBytes}}}
	if s.tx != nil {
		s.tx(tx)
	}
	payload := &common.Payload{
		Header: &common.Header{ChannelHeader: chdrBytes, SignatureHeader: shdrBytes},
		Data:   must(proto.Marshal(tx))(t),
	}
	if s.payload != nil {
		s.payload(payload)
	}
	return f.sign(t, s.creator, payload, s.envelope)
}

// sign wraps payload in an envelope signed by m.
func (f *fixture) sign(t testing.TB, m *msptest.Member, payload *common.Payload, hook func(*common.Envelope)) []byte {
	t.Helper()
	pb := must(proto.Marshal(payload))(t)
	env := &common.Envelope{Payload: pb, Signature: must(m.Sign(pb))(t)}
	if hook != nil {
		hook(env)
	}
	return must(proto.Marshal(env))(t)
}

func block(num uint64, txs ...[]byte) *common.Block {
	b := channelconfig.NewBlock(num, nil)
	b.Data.Data = txs
	b.Header.DataHash = channelconfig.BlockDataHash(b.Data)
	return b
}

func txIDOf(t testing.TB, env []byte) string {
	t.Helper()
	e := &common.Envelope{}
	if err := proto.Unmarshal(env, e); err != nil {
		t.Fatal(err)
	}
	_, ch, _, err := channelconfig.EnvelopeHeaders(e)
	if err != nil {
		t.Fatal(err)
	}
	return ch.GetTxId()
}

// newBatchWithMeta is a batch putting cc/key=value with metadata at {1, 0}.
func newBatchWithMeta(t testing.TB, key, value string, meta map[string][]byte) *statedb.UpdateBatch {
	t.Helper()
	raw := must(txsim.MarshalMetadata(meta))(t)
	b := statedb.NewUpdateBatch()
	b.Put("cc", key, []byte(value), raw, statedb.Version{BlockNum: 1})
	return b
}

func txIDFor(sh *common.SignatureHeader) string {
	return channelconfig.ComputeTxID(sh.GetNonce(), sh.GetCreator())
}
