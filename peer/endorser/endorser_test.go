package endorser_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"weft/peer/endorser"
	et "weft/peer/endorser/endorsertest"
	"weft/wire/ledger/rwset"
	"weft/wire/ledger/rwset/kvrwset"
	"weft/wire/peer"
)

type env struct {
	net *et.Network
	ch  *et.Channel
	e1  *endorser.Endorser // Org1's peer
	e2  *endorser.Endorser // Org2's peer
	sys map[string]endorser.SystemChaincode
	// calls records system chaincode invocations.
	calls []*endorser.SysStub
}

func newEnv(t *testing.T, opts et.Options) *env {
	t.Helper()
	v := &env{net: et.NewNetwork(t, opts)}
	v.ch = et.NewChannel(v.net.Bundle)
	echo := endorser.SystemChaincodeFunc(func(ctx context.Context, stub *endorser.SysStub) *peer.Response {
		v.calls = append(v.calls, stub)
		if stub.Simulator() != nil {
			if err := stub.Simulator().PutState("_lifecycle", "touched", []byte("yes")); err != nil {
				return &peer.Response{Status: 500, Message: err.Error()}
			}
		}
		return &peer.Response{Status: 200, Payload: []byte("sys:" + string(stub.Args()[0]))}
	})
	v.sys = map[string]endorser.SystemChaincode{endorser.LifecycleName: echo, endorser.QSCCName: echo, endorser.CSCCName: echo}
	mk := func(o *et.Org) *endorser.Endorser {
		return &endorser.Endorser{
			Channels:         et.Channels{et.ChannelID: v.ch},
			LocalMSP:         o.LocalMSP,
			Signer:           o.Peer,
			SystemChaincodes: v.sys,
			Lifecycle:        et.Lifecycle{},
			Executor:         et.ExecFunc(et.KVChaincode),
		}
	}
	v.e1, v.e2 = mk(v.net.Org1), mk(v.net.Org2)
	et.DefineChaincode(v.ch.State, endorser.Definition{Name: "basic", Version: "1.0", Sequence: 1},
		map[string]string{"Org1MSP": "basic:abc", "Org2MSP": "basic:abc"})
	return v
}

func proposal(t *testing.T, s endorser.Signer, spec endorser.ProposalSpec) *peer.SignedProposal {
	t.Helper()
	if spec.ChannelID == "" && spec.Type == 0 {
		spec.ChannelID = et.ChannelID
	}
	sp, _, err := endorser.NewSignedProposal(s, spec)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func args(ss ...string) [][]byte {
	var out [][]byte
	for _, s := range ss {
		out = append(out, []byte(s))
	}
	return out
}

// action decodes the ChaincodeAction of a response payload.
func action(t *testing.T, payload []byte) (*peer.ProposalResponsePayload, *peer.ChaincodeAction) {
	t.Helper()
	prp := &peer.ProposalResponsePayload{}
	if err := proto.Unmarshal(payload, prp); err != nil {
		t.Fatal(err)
	}
	ca := &peer.ChaincodeAction{}
	if err := proto.Unmarshal(prp.Extension, ca); err != nil {
		t.Fatal(err)
	}
	return prp, ca
}

func nsRWSet(t *testing.T, results []byte, ns string) *kvrwset.KVRWSet {
	t.Helper()
	rws := &rwset.TxReadWriteSet{}
	if err := proto.Unmarshal(results, rws); err != nil {
		t.Fatal(err)
	}
	for _, n := range rws.NsRwset {
		if n.Namespace == ns {
			kv := &kvrwset.KVRWSet{}
			if err := proto.Unmarshal(n.Rwset, kv); err != nil {
				t.Fatal(err)
			}
			return kv
		}
	}
	return nil
}

func TestEndorseSuccess(t *testing.T) {
	v := newEnv(t, et.Options{})
	sp := proposal(t, v.net.Org1.Client, endorser.ProposalSpec{Chaincode: "basic", Args: args("put", "k1", "v1"),
		Transient: map[string][]byte{"secret": []byte("x")}})
	pr, err := v.e1.ProcessProposal(context.Background(), sp)
	if err != nil {
		t.Fatal(err)
	}
	if pr.Version != 1 || pr.Response.Status != 200 || string(pr.Response.Payload) != "ok" || pr.Endorsement == nil || pr.Timestamp == nil {
		t.Fatalf("unexpected response %v", pr)
	}
	up, err := endorser.Unpack(sp)
	if err != nil {
		t.Fatal(err)
	}
	prp, ca := action(t, pr.Payload)
	if !bytes.Equal(prp.ProposalHash, up.Hash) {
		t.Fatal("proposal hash mismatch")
	}
	// The hash leaves the transient map out: recompute it by hand.
	if want := manualHash(t, up); !bytes.Equal(up.Hash, want) {
		t.Fatal("proposal hash is not SHA-256(chdr || shdr || payload without transient map)")
	}
	if ca.ChaincodeId.GetName() != "basic" || ca.ChaincodeId.GetVersion() != "1.0" {
		t.Fatalf("chaincode id %v", ca.ChaincodeId)
	}
	if len(ca.Events) != 0 {
		t.Fatal("unexpected event bytes")
	}
	kv := nsRWSet(t, ca.Results, "basic")
	if kv == nil || len(kv.Writes) != 1 || kv.Writes[0].Key != "k1" || string(kv.Writes[0].Value) != "v1" {
		t.Fatalf("rwset %v", kv)
	}
	if lc := nsRWSet(t, ca.Results, "_lifecycle"); lc == nil || len(lc.Reads) != 1 || lc.Reads[0].Key != "definitions/basic" {
		t.Fatalf("definition read not recorded (and approvals must not be): %v", lc)
	}
	if !bytes.Equal(pr.Endorsement.Endorser, v.net.Org1.Peer.Serialized) {
		t.Fatal("endorser identity is not the peer's")
	}
	id, err := v.net.Bundle.MSPManager().DeserializeIdentity(pr.Endorsement.Endorser)
	if err != nil {
		t.Fatal(err)
	}
	if err := id.Verify(append(append([]byte{}, pr.Payload...), pr.Endorsement.Endorser...), pr.Endorsement.Signature); err != nil {
		t.Fatalf("endorsement signature: %v", err)
	}
	if pr.Interest == nil || len(pr.Interest.Chaincodes) != 1 || pr.Interest.Chaincodes[0].Name != "basic" {
		t.Fatalf("interest %v", pr.Interest)
	}
	for _, s := range v.ch.Simulators() {
		if s.Closed == 0 {
			t.Fatal("simulator not released")
		}
	}

	// Another org's peer simulating the same proposal yields the same bytes.
	pr2, err := v.e2.ProcessProposal(context.Background(), sp)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pr.Payload, pr2.Payload) {
		t.Fatal("payloads of two endorsers differ")
	}
	if bytes.Equal(pr.Endorsement.Endorser, pr2.Endorsement.Endorser) {
		t.Fatal("both endorsements carry the same endorser")
	}
}

func manualHash(t *testing.T, p *endorser.Proposal) []byte {
	t.Helper()
	if len(p.Payload.TransientMap) == 0 {
		t.Fatal("test proposal should carry transient data")
	}
	// Field 1 (input), wire type 2: tag 0x0a, varint length, bytes.
	stripped := protowire.AppendBytes([]byte{0x0a}, p.Payload.Input)
	d := sha256.New()
	d.Write(p.Header.ChannelHeader)
	d.Write(p.Header.SignatureHeader)
	d.Write(stripped)
	return d.Sum(nil)
}

func TestEndorseEvent(t *testing.T) {
	v := newEnv(t, et.Options{})
	sp, txID, err := endorser.NewSignedProposal(v.net.Org1.Client, endorser.ProposalSpec{ChannelID: et.ChannelID, Chaincode: "basic", Args: args("event", "created")})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := v.e1.ProcessProposal(context.Background(), sp)
	if err != nil || pr.Endorsement == nil {
		t.Fatalf("%v %v", pr, err)
	}
	_, ca := action(t, pr.Payload)
	ev := &peer.ChaincodeEvent{}
	if err := proto.Unmarshal(ca.Events, ev); err != nil {
		t.Fatal(err)
	}
	if ev.ChaincodeId != "basic" || ev.TxId != txID || ev.EventName != "created" || string(ev.Payload) != "evt" {
		t.Fatalf("event %v", ev)
	}
}
