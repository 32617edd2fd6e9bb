package gateway_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"weft/peer/endorser"
	et "weft/peer/endorser/endorsertest"
	"weft/wire/common"
	gp "weft/wire/gateway"
	"weft/wire/peer"
)

// wantStatus checks err's gRPC code and message and returns its details.
func wantStatus(t *testing.T, err error, code codes.Code, msg string) []*gp.ErrorDetail {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok || st.Code() != code || !strings.Contains(st.Message(), msg) {
		t.Fatalf("error %v, want code %s with %q", err, code, msg)
	}
	var out []*gp.ErrorDetail
	for _, d := range st.Details() {
		ed, ok := d.(*gp.ErrorDetail)
		if !ok {
			t.Fatalf("detail %T is not an ErrorDetail", d)
		}
		out = append(out, ed)
	}
	return out
}

func TestEvaluate(t *testing.T) {
	f := newFx(t, fxOptions{})
	ctx := context.Background()
	sp, txID := f.proposal(t, "basic", "get", "k")
	resp, err := f.gw.Evaluate(ctx, &gp.EvaluateRequest{TransactionId: txID, ChannelId: et.ChannelID, ProposedTransaction: sp})
	if err != nil || resp.Result.Status != 200 || string(resp.Result.Payload) != "v" {
		t.Fatalf("%v %v", resp, err)
	}
	if f.remote.n() != 0 {
		t.Fatal("evaluate called a remote peer")
	}
	// Targeting Org2 goes to its anchor peer with Org2's TLS roots.
	sp, _ = f.proposal(t, "basic", "get", "k")
	resp, err = f.gw.Evaluate(ctx, &gp.EvaluateRequest{ProposedTransaction: sp, TargetOrganizations: []string{"Org2MSP"}})
	if err != nil || string(resp.Result.Payload) != "v" || f.remote.n() != 1 {
		t.Fatalf("targeted evaluate: %v %v calls=%d", resp, err, f.remote.n())
	}
	for addr, roots := range f.dialed {
		if len(roots) != 1 || !bytes.Equal(roots[0], f.net.Org2.TLSCA.PEM) {
			t.Fatalf("dialled %s trusting %d roots, want Org2's TLS CA", addr, len(roots))
		}
	}

	sp, _ = f.proposal(t, "basic", "fail", "broken")
	_, err = f.gw.Evaluate(ctx, &gp.EvaluateRequest{ProposedTransaction: sp})
	ds := wantStatus(t, err, codes.Unknown, "chaincode response 500, broken")
	if len(ds) != 1 || ds[0].MspId != "Org1MSP" || ds[0].Address != "peer0.org1:7051" || !strings.Contains(ds[0].Message, "broken") {
		t.Fatalf("details %v", ds)
	}
	sp, _ = f.proposal(t, "nothere", "get", "k")
	_, err = f.gw.Evaluate(ctx, &gp.EvaluateRequest{ProposedTransaction: sp})
	wantStatus(t, err, codes.Aborted, "failed to evaluate transaction")

	_, err = f.gw.Evaluate(ctx, nil)
	wantStatus(t, err, codes.InvalidArgument, "an evaluate request is required")
	_, err = f.gw.Evaluate(ctx, &gp.EvaluateRequest{ProposedTransaction: &peer.SignedProposal{ProposalBytes: []byte{0xff}}})
	wantStatus(t, err, codes.InvalidArgument, "failed to unpack")
	other, _, _ := endorser.NewSignedProposal(f.net.Org1.Client, endorser.ProposalSpec{ChannelID: "other", Chaincode: "basic", Args: args("get", "k")})
	_, err = f.gw.Evaluate(ctx, &gp.EvaluateRequest{ProposedTransaction: other})
	wantStatus(t, err, codes.FailedPrecondition, "channel 'other' not found")
	sp, _ = f.proposal(t, "basic", "get", "k")
	_, err = f.gw.Evaluate(ctx, &gp.EvaluateRequest{ProposedTransaction: sp, TargetOrganizations: []string{"Org9MSP"}})
	wantStatus(t, err, codes.FailedPrecondition, "no endorsing peers")
}

// decodeTx opens a prepared transaction.
func decodeTx(t *testing.T, env *common.Envelope) (*common.Payload, *peer.ChaincodeActionPayload, *peer.TransactionAction) {
	t.Helper()
	pl := &common.Payload{}
	tx := &peer.Transaction{}
	cap := &peer.ChaincodeActionPayload{}
	if err := proto.Unmarshal(env.Payload, pl); err != nil {
		t.Fatal(err)
	}
	if err := proto.Unmarshal(pl.Data, tx); err != nil {
		t.Fatal(err)
	}
	if len(tx.Actions) != 1 {
		t.Fatalf("%d actions", len(tx.Actions))
	}
	if err := proto.Unmarshal(tx.Actions[0].Payload, cap); err != nil {
		t.Fatal(err)
	}
	return pl, cap, tx.Actions[0]
}

func TestEndorse(t *testing.T) {
	f := newFx(t, fxOptions{})
	ctx := context.Background()
	sp, txID := f.proposal(t, "basic", "put", "k2", "v2")
	resp, err := f.gw.Endorse(ctx, &gp.EndorseRequest{TransactionId: txID, ChannelId: et.ChannelID, ProposedTransaction: sp})
	if err != nil {
		t.Fatal(err)
	}
	env := resp.PreparedTransaction
	if len(env.Signature) != 0 {
		t.Fatal("prepared transaction is signed")
	}
	pl, cap, action := decodeTx(t, env)
	up, err := endorser.Unpack(sp)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pl.Header.ChannelHeader, up.Header.ChannelHeader) || !bytes.Equal(pl.Header.SignatureHeader, up.Header.SignatureHeader) ||
		!bytes.Equal(action.Header, up.Header.SignatureHeader) {
		t.Fatal("transaction headers differ from the proposal's")
	}
	cpp := &peer.ChaincodeProposalPayload{}
	if err := proto.Unmarshal(cap.ChaincodeProposalPayload, cpp); err != nil {
		t.Fatal(err)
	}
	if len(cpp.TransientMap) != 0 || !bytes.Equal(cpp.Input, up.Payload.Input) {
		t.Fatal("transient data leaked into the transaction or input changed")
	}
	// MAJORITY of two orgs: both peers endorsed the same payload.
	ends := cap.Action.Endorsements
	if len(ends) != 2 || f.remote.n() != 1 {
		t.Fatalf("%d endorsements, %d remote calls", len(ends), f.remote.n())
	}
	mg := f.net.Bundle.MSPManager()
	seen := map[string]bool{}
	for _, e := range ends {
		id, err := mg.DeserializeIdentity(e.Endorser)
		if err != nil {
			t.Fatal(err)
		}
		seen[id.MSPID] = true
		if err := id.Verify(append(append([]byte{}, cap.Action.ProposalResponsePayload...), e.Endorser...), e.Signature); err != nil {
			t.Fatalf("endorsement by %s does not cover the payload: %v", id.MSPID, err)
		}
	}
	if !seen["Org1MSP"] || !seen["Org2MSP"] {
		t.Fatalf("endorsers %v", seen)
	}

	// A policy the local peer satisfies alone needs no remote call.
	sp, _ = f.proposal(t, "mine", "put", "a", "b")
	resp, err = f.gw.Endorse(ctx, &gp.EndorseRequest{ProposedTransaction: sp})
	if err != nil {
		t.Fatal(err)
	}
	if _, cap, _ = decodeTx(t, resp.PreparedTransaction); len(cap.Action.Endorsements) != 1 || f.remote.n() != 1 {
		t.Fatalf("local-only policy: %d endorsements, %d remote calls", len(cap.Action.Endorsements), f.remote.n())
	}

	// Client-chosen orgs: exactly those, no policy check.
	sp, _ = f.proposal(t, "basic", "put", "k3", "v3")
	resp, err = f.gw.Endorse(ctx, &gp.EndorseRequest{ProposedTransaction: sp, EndorsingOrganizations: []string{"Org1MSP"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, cap, _ = decodeTx(t, resp.PreparedTransaction); len(cap.Action.Endorsements) != 1 {
		t.Fatalf("chosen orgs: %d endorsements", len(cap.Action.Endorsements))
	}
	sp, _ = f.proposal(t, "basic", "put", "k3", "v3")
	_, err = f.gw.Endorse(ctx, &gp.EndorseRequest{ProposedTransaction: sp, EndorsingOrganizations: []string{"Org3MSP"}})
	wantStatus(t, err, codes.Unavailable, "no endorsing peers found for organization Org3MSP")
}

func TestEndorseFailures(t *testing.T) {
	ctx := context.Background()
	t.Run("remote peer down: policy not satisfied", func(t *testing.T) {
		f := newFx(t, fxOptions{deadAnchor: true})
		sp, _ := f.proposal(t, "basic", "put", "k", "x")
		_, err := f.gw.Endorse(ctx, &gp.EndorseRequest{ProposedTransaction: sp})
		ds := wantStatus(t, err, codes.Aborted, "failed to collect enough transaction endorsements")
		if len(ds) != 1 || ds[0].MspId != "Org2MSP" || !strings.HasPrefix(ds[0].Address, "127.0.0.1:") {
			t.Fatalf("details %v", ds)
		}
	})
	t.Run("mismatched payloads", func(t *testing.T) {
		f := newFx(t, fxOptions{})
		f.org2Ch.State.Put("basic", "k", []byte("different"))
		sp, _ := f.proposal(t, "basic", "get", "k")
		_, err := f.gw.Endorse(ctx, &gp.EndorseRequest{ProposedTransaction: sp})
		ds := wantStatus(t, err, codes.Aborted, "failed to collect enough transaction endorsements")
		if len(ds) != 1 || ds[0].Message != "ProposalResponsePayloads do not match" || ds[0].MspId != "Org2MSP" {
			t.Fatalf("details %v", ds)
		}
		// With the orgs chosen by the client the mismatch is fatal too.
		sp, _ = f.proposal(t, "basic", "get", "k")
		_, err = f.gw.Endorse(ctx, &gp.EndorseRequest{ProposedTransaction: sp, EndorsingOrganizations: []string{"Org1MSP", "Org2MSP"}})
		wantStatus(t, err, codes.Aborted, "failed to collect enough")
	})
	t.Run("remote chaincode error", func(t *testing.T) {
		f := newFx(t, fxOptions{})
		// Org2 has not approved "mine"-like chaincode "solo".
		et.DefineChaincode(f.org1Ch.State, endorser.Definition{Name: "solo", Version: "1", Sequence: 1}, map[string]string{"Org1MSP": "solo:1"})
		et.DefineChaincode(f.org2Ch.State, endorser.Definition{Name: "solo", Version: "1", Sequence: 1}, map[string]string{"Org1MSP": "solo:1"})
		sp, _ := f.proposal(t, "solo", "put", "k", "x")
		_, err := f.gw.Endorse(ctx, &gp.EndorseRequest{ProposedTransaction: sp})
		ds := wantStatus(t, err, codes.Aborted, "failed to collect enough")
		if len(ds) != 1 || !strings.Contains(ds[0].Message, "not yet been approved") {
			t.Fatalf("details %v", ds)
		}
	})
	t.Run("local chaincode error", func(t *testing.T) {
		f := newFx(t, fxOptions{})
		sp, _ := f.proposal(t, "basic", "fail", "oops")
		_, err := f.gw.Endorse(ctx, &gp.EndorseRequest{ProposedTransaction: sp})
		ds := wantStatus(t, err, codes.Aborted, "failed to endorse transaction")
		if len(ds) != 1 || ds[0].Message != "chaincode response 500, oops" || ds[0].MspId != "Org1MSP" {
			t.Fatalf("details %v", ds)
		}
		if f.remote.n() != 0 {
			t.Fatal("remote peer asked after the local endorsement failed")
		}
	})
	t.Run("rejected proposal", func(t *testing.T) {
		f := newFx(t, fxOptions{})
		sp, _ := f.proposal(t, "basic", "get", "k")
		sp.Signature = []byte("bad")
		_, err := f.gw.Endorse(ctx, &gp.EndorseRequest{ProposedTransaction: sp})
		ds := wantStatus(t, err, codes.Aborted, "failed to endorse transaction")
		if len(ds) != 1 || !strings.Contains(ds[0].Message, "access denied") {
			t.Fatalf("details %v", ds)
		}
	})
	t.Run("bad requests", func(t *testing.T) {
		f := newFx(t, fxOptions{})
		_, err := f.gw.Endorse(ctx, nil)
		wantStatus(t, err, codes.InvalidArgument, "an endorse request is required")
		_, err = f.gw.Endorse(ctx, &gp.EndorseRequest{})
		wantStatus(t, err, codes.InvalidArgument, "must contain a signed proposal")
		other, _, _ := endorser.NewSignedProposal(f.net.Org1.Client, endorser.ProposalSpec{ChannelID: "other", Chaincode: "basic"})
		_, err = f.gw.Endorse(ctx, &gp.EndorseRequest{ProposedTransaction: other})
		wantStatus(t, err, codes.FailedPrecondition, "channel 'other' not found")
	})
}
