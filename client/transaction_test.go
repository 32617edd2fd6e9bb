package client

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"net"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"weft/comm"
	"weft/fabcrypto"
	"weft/wire/common"
	gatewaypb "weft/wire/gateway"
	pb "weft/wire/peer"
)

type keySigner struct {
	*fabcrypto.KeySigner
	pub *ecdsa.PublicKey
}

func (k keySigner) Serialize() []byte { return []byte("creator") }

func newSigner(t *testing.T) keySigner {
	t.Helper()
	key, err := fabcrypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := fabcrypto.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	return keySigner{s, &key.PublicKey}
}

// fakeGateway checks every client signature and answers from its fields.
type fakeGateway struct {
	gatewaypb.UnimplementedGatewayServer
	pub                   *ecdsa.PublicKey
	prepared              []byte
	endorseErr, submitErr error
	result                pb.TxValidationCode

	gotOrgs   []string
	submitted *common.Envelope
	statusReq *gatewaypb.CommitStatusRequest
}

func (f *fakeGateway) Endorse(_ context.Context, r *gatewaypb.EndorseRequest) (*gatewaypb.EndorseResponse, error) {
	if err := fabcrypto.Verify(f.pub, r.GetProposedTransaction().GetProposalBytes(), r.GetProposedTransaction().GetSignature()); err != nil {
		return nil, status.Error(codes.PermissionDenied, err.Error())
	}
	f.gotOrgs = r.GetEndorsingOrganizations()
	if f.endorseErr != nil {
		return nil, f.endorseErr
	}
	return &gatewaypb.EndorseResponse{PreparedTransaction: &common.Envelope{Payload: f.prepared}}, nil
}

func (f *fakeGateway) Submit(_ context.Context, r *gatewaypb.SubmitRequest) (*gatewaypb.SubmitResponse, error) {
	env := r.GetPreparedTransaction()
	if err := fabcrypto.Verify(f.pub, env.GetPayload(), env.GetSignature()); err != nil {
		return nil, status.Error(codes.PermissionDenied, err.Error())
	}
	f.submitted = env
	if f.submitErr != nil {
		return nil, f.submitErr
	}
	return &gatewaypb.SubmitResponse{}, nil
}

func (f *fakeGateway) CommitStatus(_ context.Context, r *gatewaypb.SignedCommitStatusRequest) (*gatewaypb.CommitStatusResponse, error) {
	if err := fabcrypto.Verify(f.pub, r.GetRequest(), r.GetSignature()); err != nil {
		return nil, status.Error(codes.PermissionDenied, err.Error())
	}
	f.statusReq = &gatewaypb.CommitStatusRequest{}
	if err := proto.Unmarshal(r.GetRequest(), f.statusReq); err != nil {
		return nil, err
	}
	return &gatewaypb.CommitStatusResponse{Result: f.result, BlockNumber: 7}, nil
}

func serve(t *testing.T, f *fakeGateway) *grpc.ClientConn {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := comm.NewGRPCServer(nil, comm.ServerOptions{})
	gatewaypb.RegisterGatewayServer(srv, f)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	conn, err := comm.Dial(context.Background(), lis.Addr().String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestEndorseSubmitCommitStatus(t *testing.T) {
	s := newSigner(t)
	f := &fakeGateway{pub: s.pub, prepared: []byte("prepared payload"), result: pb.TxValidationCode_VALID}
	g := &Gateway{Conn: serve(t, f), Signer: s}
	ctx := context.Background()

	tx, err := g.Endorse(ctx, "ch", "cc", []string{"Org1MSP", "Org2MSP"}, []byte("put"), []byte("k"), []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	if tx.ID == "" || tx.Channel != "ch" || !bytes.Equal(tx.Envelope.GetPayload(), f.prepared) || strings.Join(f.gotOrgs, ",") != "Org1MSP,Org2MSP" {
		t.Fatalf("transaction %+v, orgs %v", tx, f.gotOrgs)
	}
	if err := g.SubmitAsync(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if f.submitted == nil || !bytes.Equal(f.submitted.GetSignature(), tx.Envelope.GetSignature()) {
		t.Fatalf("submitted %v", f.submitted)
	}
	st, err := g.CommitStatus(ctx, "ch", tx.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Valid() || st.Block != 7 || f.statusReq.GetTransactionId() != tx.ID || f.statusReq.GetChannelId() != "ch" || string(f.statusReq.GetIdentity()) != "creator" {
		t.Fatalf("status %+v, request %v", st, f.statusReq)
	}

	f.result = pb.TxValidationCode_MVCC_READ_CONFLICT
	if st, err := g.CommitStatus(ctx, "ch", tx.ID); err != nil || st.Valid() || st.Code != pb.TxValidationCode_MVCC_READ_CONFLICT {
		t.Fatalf("conflict status %+v %v", st, err)
	}
}

func TestTransactionErrors(t *testing.T) {
	s := newSigner(t)
	ctx := context.Background()
	f := &fakeGateway{pub: s.pub, prepared: []byte("p"), endorseErr: status.Error(codes.Aborted, "policy not met")}
	g := &Gateway{Conn: serve(t, f), Signer: s}
	if _, err := g.Endorse(ctx, "ch", "cc", nil, []byte("put")); status.Code(errors.Unwrap(err)) != codes.Aborted || !strings.Contains(err.Error(), "cc/put") {
		t.Errorf("endorse failure: %v", err)
	}
	f.endorseErr, f.prepared = nil, nil
	if _, err := g.Endorse(ctx, "ch", "cc", nil, []byte("put")); err == nil || !strings.Contains(err.Error(), "no prepared transaction") {
		t.Errorf("empty prepared transaction: %v", err)
	}
	if _, err := g.Endorse(ctx, "ch", "", nil); err == nil {
		t.Error("empty chaincode name accepted")
	}
	if _, err := (&Gateway{Conn: g.Conn}).Endorse(ctx, "ch", "cc", nil); err == nil {
		t.Error("endorse without a signer accepted")
	}

	f.submitErr = status.Error(codes.Unavailable, "no orderer")
	tx := &Transaction{ID: "t1", Channel: "ch", Envelope: &common.Envelope{Payload: []byte("x")}}
	tx.Envelope.Signature, _ = s.Sign(tx.Envelope.Payload)
	if err := g.SubmitAsync(ctx, tx); status.Code(errors.Unwrap(err)) != codes.Unavailable || !strings.Contains(err.Error(), "t1") {
		t.Errorf("submit failure: %v", err)
	}
	bad := &Transaction{ID: "t2", Channel: "ch", Envelope: &common.Envelope{Payload: []byte("y"), Signature: tx.Envelope.Signature}}
	if err := g.SubmitAsync(ctx, bad); status.Code(errors.Unwrap(err)) != codes.PermissionDenied {
		t.Errorf("wrongly signed envelope: %v", err)
	}
	for _, tx := range []*Transaction{nil, {ID: "t", Channel: "ch"}, {Channel: "ch", Envelope: tx.Envelope}, {ID: "t", Envelope: tx.Envelope}} {
		if err := g.SubmitAsync(ctx, tx); err == nil {
			t.Errorf("incomplete transaction %+v accepted", tx)
		}
	}

	if _, err := g.CommitStatus(ctx, "", "t"); err == nil || !strings.Contains(err.Error(), "channel") {
		t.Errorf("empty channel: %v", err)
	}
	if _, err := g.CommitStatus(ctx, "ch", ""); err == nil {
		t.Error("empty transaction id accepted")
	}
	other := &Gateway{Conn: g.Conn, Signer: newSigner(t)}
	if _, err := other.CommitStatus(ctx, "ch", "t"); status.Code(errors.Unwrap(err)) != codes.PermissionDenied {
		t.Errorf("foreign signer: %v", err)
	}
}
