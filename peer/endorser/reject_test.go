package endorser_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"weft/peer/endorser"
	et "weft/peer/endorser/endorsertest"
	"weft/wire/common"
	"weft/wire/peer"
)

// mutate re-signs a proposal after changing its channel header.
func mutate(t *testing.T, s endorser.Signer, sp *peer.SignedProposal, f func(ch *common.ChannelHeader, sh *common.SignatureHeader)) *peer.SignedProposal {
	t.Helper()
	p := &peer.Proposal{}
	h := &common.Header{}
	ch := &common.ChannelHeader{}
	sh := &common.SignatureHeader{}
	for _, x := range []struct {
		b []byte
		m proto.Message
	}{{sp.ProposalBytes, p}} {
		if err := proto.Unmarshal(x.b, x.m); err != nil {
			t.Fatal(err)
		}
	}
	if err := proto.Unmarshal(p.Header, h); err != nil {
		t.Fatal(err)
	}
	if err := proto.Unmarshal(h.ChannelHeader, ch); err != nil {
		t.Fatal(err)
	}
	if err := proto.Unmarshal(h.SignatureHeader, sh); err != nil {
		t.Fatal(err)
	}
	f(ch, sh)
	var err error
	if h.ChannelHeader, err = proto.Marshal(ch); err != nil {
		t.Fatal(err)
	}
	if h.SignatureHeader, err = proto.Marshal(sh); err != nil {
		t.Fatal(err)
	}
	if p.Header, err = proto.Marshal(h); err != nil {
		t.Fatal(err)
	}
	out := &peer.SignedProposal{}
	if out.ProposalBytes, err = proto.Marshal(p); err != nil {
		t.Fatal(err)
	}
	if out.Signature, err = s.Sign(out.ProposalBytes); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRejected covers proposals refused before any chaincode runs: they come
// back as an error plus a status-500 response.
func TestRejected(t *testing.T) {
	v := newEnv(t, et.Options{})
	client := v.net.Org1.Client
	good := func() *peer.SignedProposal {
		return proposal(t, client, endorser.ProposalSpec{Chaincode: "basic", Args: args("get", "k")})
	}
	dup, dupID, err := endorser.NewSignedProposal(client, endorser.ProposalSpec{ChannelID: et.ChannelID, Chaincode: "basic", Args: args("get", "k")})
	if err != nil {
		t.Fatal(err)
	}
	v.ch.AddTx(dupID)
	windowed := *v.e1
	windowed.TimeWindow = time.Minute
	old := proposal(t, client, endorser.ProposalSpec{Chaincode: "basic", Args: args("get", "k"), Timestamp: time.Now().Add(-time.Hour)})

	cases := []struct {
		name string
		e    *endorser.Endorser
		sp   *peer.SignedProposal
		want string
	}{
		{"nil proposal", v.e1, nil, "proposal_bytes is empty"},
		{"garbage", v.e1, &peer.SignedProposal{ProposalBytes: []byte{0xff, 0xff}, Signature: []byte{1}}, "proposal_bytes"},
		{"no chaincode name", v.e1, proposalWithoutName(t, client), "chaincode_id"},
		{"bad header type", v.e1, mutate(t, client, good(), func(ch *common.ChannelHeader, _ *common.SignatureHeader) {
			ch.Type = int32(common.HeaderType_MESSAGE)
		}), "invalid header type"},
		{"epoch", v.e1, mutate(t, client, good(), func(ch *common.ChannelHeader, _ *common.SignatureHeader) { ch.Epoch = 3 }), "epoch"},
		{"wrong tx id", v.e1, mutate(t, client, good(), func(ch *common.ChannelHeader, _ *common.SignatureHeader) { ch.TxId = "abc" }), "incorrectly computed txid"},
		{"empty nonce", v.e1, mutate(t, client, good(), func(_ *common.ChannelHeader, sh *common.SignatureHeader) { sh.Nonce = nil }), "nonce is empty"},
		{"bad signature", v.e1, func() *peer.SignedProposal {
			sp := good()
			sp.Signature = append([]byte{}, sp.Signature...)
			sp.Signature[len(sp.Signature)-1] ^= 1
			return sp
		}(), "access denied"},
		{"signed by someone else", v.e1, func() *peer.SignedProposal {
			sp := good()
			sp.Signature, _ = v.net.Org2.Client.Sign(sp.ProposalBytes)
			return sp
		}(), "access denied"},
		{"outsider", v.e1, proposal(t, v.net.Outsider, endorser.ProposalSpec{Chaincode: "basic", Args: args("get", "k")}), "creator org unknown"},
		{"duplicate", v.e1, dup, "duplicate transaction found"},
		{"not a writer", v.e1, proposal(t, v.net.Org1.Peer, endorser.ProposalSpec{Chaincode: "basic", Args: args("get", "k")}), "peer/Propose"},
		{"stale timestamp", &windowed, old, "timestamp"},
		{"channel-less by another org", v.e1, proposal(t, v.net.Org2.Admin, endorser.ProposalSpec{ChannelID: "", Type: common.HeaderType_ENDORSER_TRANSACTION,
			Chaincode: endorser.LifecycleName, Args: args("InstallChaincode", "pkg")}), "creator org unknown"},
		{"qscc for an unknown channel reaches the chaincode", v.e1, proposal(t, v.net.Org1.Admin, endorser.ProposalSpec{ChannelID: "", Type: common.HeaderType_ENDORSER_TRANSACTION,
			Chaincode: endorser.QSCCName, Args: args("GetChainInfo", "otherchannel")}), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pr, err := c.e.ProcessProposal(context.Background(), c.sp)
			if c.want == "" {
				// Allowed through the ACL; the chaincode decides.
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to mention %q", err, c.want)
			}
			if pr == nil || pr.Response.GetStatus() != 500 || pr.Endorsement != nil || pr.Payload != nil {
				t.Fatalf("response %v", pr)
			}
		})
	}
	if len(v.calls) != 1 {
		t.Fatalf("system chaincodes ran %d times, want only the allowed qscc call", len(v.calls))
	}
}

func proposalWithoutName(t *testing.T, s endorser.Signer) *peer.SignedProposal {
	sp := proposal(t, s, endorser.ProposalSpec{Chaincode: "basic"})
	return mutate(t, s, sp, func(ch *common.ChannelHeader, _ *common.SignatureHeader) { ch.Extension = nil })
}

// TestFailedExecution covers failures after the checks: a status-500
// response, no error, no endorsement.
func TestFailedExecution(t *testing.T) {
	v := newEnv(t, et.Options{})
	et.DefineChaincode(v.ch.State, endorser.Definition{Name: "unapproved", Version: "1", Sequence: 2}, map[string]string{"Org2MSP": "x:1"})
	et.DefineChaincode(v.ch.State, endorser.Definition{Name: "uninstalled", Version: "1", Sequence: 1}, map[string]string{"Org1MSP": ""})
	client := v.net.Org1.Client
	cases := []struct {
		name, channel, cc string
		args              [][]byte
		want              string
	}{
		{"unknown channel", "nochannel", "basic", args("get", "k"), "channel 'nochannel' not found"},
		{"undefined chaincode", et.ChannelID, "nothere", args("get", "k"), "nothere has been successfully defined"},
		{"not approved by this org", et.ChannelID, "unapproved", args("get", "k"), "not yet been approved by this org"},
		{"not installed", et.ChannelID, "uninstalled", args("get", "k"), "not installed"},
		{"execution error", et.ChannelID, "basic", args("crash"), "chaincode stream terminated"},
		{"called as init", et.ChannelID, "basic", nil, "does not require initialization"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sp := proposal(t, client, endorser.ProposalSpec{ChannelID: c.channel, Chaincode: c.cc, Args: c.args, IsInit: c.args == nil})
			pr, err := v.e1.ProcessProposal(context.Background(), sp)
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if pr.Response.Status != 500 || !strings.Contains(pr.Response.Message, c.want) || pr.Payload != nil || pr.Endorsement != nil {
				t.Fatalf("response %v, want 500 mentioning %q", pr, c.want)
			}
		})
	}
	t.Run("simulator unavailable", func(t *testing.T) {
		v.ch.SimErr = errTest
		defer func() { v.ch.SimErr = nil }()
		pr, err := v.e1.ProcessProposal(context.Background(), proposal(t, client, endorser.ProposalSpec{Chaincode: "basic", Args: args("get", "k")}))
		if err != nil || pr.Response.Status != 500 || !strings.Contains(pr.Response.Message, "simulator") {
			t.Fatalf("%v %v", pr, err)
		}
	})
}

type testErr string

func (e testErr) Error() string { return string(e) }

const errTest = testErr("boom")

// TestChaincodeErrors: status ≥ 500 keeps the payload, 400..499 only the
// response, neither is endorsed.
func TestChaincodeErrors(t *testing.T) {
	v := newEnv(t, et.Options{})
	client := v.net.Org1.Client
	pr, err := v.e1.ProcessProposal(context.Background(), proposal(t, client, endorser.ProposalSpec{Chaincode: "basic", Args: args("fail", "bad thing")}))
	if err != nil || pr.Response.Status != 500 || pr.Response.Message != "bad thing" || pr.Payload == nil || pr.Endorsement != nil {
		t.Fatalf("500: %v %v", pr, err)
	}
	_, ca := action(t, pr.Payload)
	if ca.Response.GetStatus() != 500 {
		t.Fatal("payload does not carry the chaincode response")
	}
	pr, err = v.e1.ProcessProposal(context.Background(), proposal(t, client, endorser.ProposalSpec{Chaincode: "basic", Args: args("reject", "nope")}))
	if err != nil || pr.Response.Status != 400 || pr.Payload != nil || pr.Endorsement != nil {
		t.Fatalf("400: %v %v", pr, err)
	}
}

func TestInitRequired(t *testing.T) {
	v := newEnv(t, et.Options{})
	et.DefineChaincode(v.ch.State, endorser.Definition{Name: "needsinit", Version: "2.0", Sequence: 1, InitRequired: true},
		map[string]string{"Org1MSP": "needsinit:1"})
	client := v.net.Org1.Client
	pr, err := v.e1.ProcessProposal(context.Background(), proposal(t, client, endorser.ProposalSpec{Chaincode: "needsinit", Args: args("init")}))
	if err != nil || pr.Response.Status != 500 || !strings.Contains(pr.Response.Message, "must call as init first") {
		t.Fatalf("invoke before init: %v %v", pr, err)
	}
	pr, err = v.e1.ProcessProposal(context.Background(), proposal(t, client, endorser.ProposalSpec{Chaincode: "needsinit", Args: args("init"), IsInit: true}))
	if err != nil || pr.Response.Status != 200 || string(pr.Response.Payload) != "true" {
		t.Fatalf("init: %v %v", pr, err)
	}
	_, ca := action(t, pr.Payload)
	kv := nsRWSet(t, ca.Results, "needsinit")
	if kv == nil || len(kv.Writes) != 1 || kv.Writes[0].Key != endorser.InitializedKey || string(kv.Writes[0].Value) != "2.0" {
		t.Fatalf("initialized key not written: %v", kv)
	}
	// Once committed, a second init is refused and normal calls work.
	v.ch.State.Put("needsinit", endorser.InitializedKey, []byte("2.0"))
	pr, _ = v.e1.ProcessProposal(context.Background(), proposal(t, client, endorser.ProposalSpec{Chaincode: "needsinit", Args: args("init"), IsInit: true}))
	if pr.Response.Status != 500 || !strings.Contains(pr.Response.Message, "already initialized") {
		t.Fatalf("second init: %v", pr)
	}
	pr, _ = v.e1.ProcessProposal(context.Background(), proposal(t, client, endorser.ProposalSpec{Chaincode: "needsinit", Args: args("init")}))
	if pr.Response.Status != 200 || string(pr.Response.Payload) != "false" {
		t.Fatalf("invoke after init: %v", pr)
	}
}

func TestSystemChaincodes(t *testing.T) {
	v := newEnv(t, et.Options{})
	admin := v.net.Org1.Admin
	// Channel-less install by a local admin: response only.
	pr, err := v.e1.ProcessProposal(context.Background(), proposal(t, admin, endorser.ProposalSpec{Type: common.HeaderType_ENDORSER_TRANSACTION,
		Chaincode: endorser.LifecycleName, Args: args("InstallChaincode", "pkg")}))
	if err != nil || pr.Response.Status != 200 || pr.Payload != nil || pr.Endorsement != nil {
		t.Fatalf("install: %v %v", pr, err)
	}
	stub := v.calls[len(v.calls)-1]
	if stub.Simulator() != nil || stub.ChannelID() != "" || stub.Creator().MSPID != "Org1MSP" || stub.LocalMSPID() != "Org1MSP" || stub.Bundle() != nil {
		t.Fatal("channel-less stub is wrong")
	}
	// cscc JoinChain: CONFIG header, empty channel.
	pr, err = v.e1.ProcessProposal(context.Background(), proposal(t, admin, endorser.ProposalSpec{Type: common.HeaderType_CONFIG,
		Chaincode: endorser.CSCCName, Args: args("JoinChain", "block")}))
	if err != nil || pr.Response.Status != 200 || string(pr.Response.Payload) != "sys:JoinChain" {
		t.Fatalf("join: %v %v", pr, err)
	}
	// Approve on the channel: endorsed, version syscc, simulator given.
	pr, err = v.e1.ProcessProposal(context.Background(), proposal(t, admin, endorser.ProposalSpec{Chaincode: endorser.LifecycleName,
		Args: args("ApproveChaincodeDefinitionForMyOrg", "x")}))
	if err != nil || pr.Endorsement == nil {
		t.Fatalf("approve: %v %v", pr, err)
	}
	_, ca := action(t, pr.Payload)
	if ca.ChaincodeId.GetVersion() != endorser.SysCCVersion || nsRWSet(t, ca.Results, "_lifecycle") == nil {
		t.Fatalf("approve action %v", ca)
	}
	if pr.Interest != nil {
		t.Fatal("system namespaces must not appear in the interest")
	}
	// Approve by a client is refused (local admins only).
	if pr, _ := v.e1.ProcessProposal(context.Background(), proposal(t, v.net.Org1.Client, endorser.ProposalSpec{Chaincode: endorser.LifecycleName,
		Args: args("ApproveChaincodeDefinitionForMyOrg", "x")})); pr.GetResponse().GetStatus() != 500 || pr.GetEndorsement() != nil {
		t.Fatalf("approve by a client: %v", pr)
	}
	// qscc reads: channel readers, no simulator. A peer identity is a reader.
	n := len(v.calls)
	pr, err = v.e1.ProcessProposal(context.Background(), proposal(t, v.net.Org2.Peer, endorser.ProposalSpec{Chaincode: endorser.QSCCName,
		Args: args("GetChainInfo", et.ChannelID)}))
	if err != nil || pr.Response.Status != 200 || len(v.calls) != n+1 || v.calls[n].Simulator() != nil || v.calls[n].Bundle() == nil {
		t.Fatalf("qscc: %v %v", pr, err)
	}
	if _, err := v.e1.ProcessProposal(context.Background(), proposal(t, v.net.Outsider, endorser.ProposalSpec{Chaincode: endorser.QSCCName,
		Args: args("GetChainInfo", et.ChannelID)})); err == nil {
		t.Fatal("qscc by outsider accepted")
	}
}

func TestChannelACLOverride(t *testing.T) {
	v := newEnv(t, et.Options{ACLs: map[string]string{"peer/Propose": "Readers"}})
	// Peers are readers, so with the override a peer identity may propose.
	pr, err := v.e1.ProcessProposal(context.Background(), proposal(t, v.net.Org1.Peer, endorser.ProposalSpec{Chaincode: "basic", Args: args("get", "k")}))
	if err != nil || pr.Endorsement == nil {
		t.Fatalf("%v %v", pr, err)
	}
	v = newEnv(t, et.Options{ACLs: map[string]string{"peer/Propose": "/Channel/Application/Admins"}})
	if _, err := v.e1.ProcessProposal(context.Background(), proposal(t, v.net.Org1.Client, endorser.ProposalSpec{Chaincode: "basic", Args: args("get", "k")})); err == nil ||
		!strings.Contains(err.Error(), "/Channel/Application/Admins") {
		t.Fatalf("client passed an Admins ACL: %v", err)
	}
}

func TestChaincodeToChaincode(t *testing.T) {
	v := newEnv(t, et.Options{})
	et.DefineChaincode(v.ch.State, endorser.Definition{Name: "other", Version: "3", Sequence: 1}, map[string]string{"Org1MSP": "other:1"})
	client := v.net.Org1.Client
	pr, err := v.e1.ProcessProposal(context.Background(), proposal(t, client, endorser.ProposalSpec{Chaincode: "basic", Args: args("call", "other", "put", "k", "v")}))
	if err != nil || pr.Response.Status != 200 || pr.Endorsement == nil {
		t.Fatalf("%v %v", pr, err)
	}
	_, ca := action(t, pr.Payload)
	if kv := nsRWSet(t, ca.Results, "other"); kv == nil || len(kv.Writes) != 1 {
		t.Fatalf("callee writes missing: %v", kv)
	}
	for _, c := range []struct{ name, want string }{
		{"basic", "call stack"},
		{endorser.QSCCName, "system chaincode"},
		{"nothere", "successfully defined"},
	} {
		pr, _ := v.e1.ProcessProposal(context.Background(), proposal(t, client, endorser.ProposalSpec{Chaincode: "basic", Args: args("call", c.name, "get", "k")}))
		if pr.Response.Status != 500 || !strings.Contains(pr.Response.Message, c.want) {
			t.Fatalf("call %s: %v", c.name, pr)
		}
	}
}
