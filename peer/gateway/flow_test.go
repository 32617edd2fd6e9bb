package gateway_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	"weft/peer/endorser"
	et "weft/peer/endorser/endorsertest"
	"weft/wire/common"
	gp "weft/wire/gateway"
	"weft/wire/orderer"
	"weft/wire/peer"
)

// signed endorses and client-signs a transaction.
func (f *fx) signed(t *testing.T, cc string, a ...string) (*common.Envelope, string) {
	t.Helper()
	sp, txID := f.proposal(t, cc, a...)
	resp, err := f.gw.Endorse(context.Background(), &gp.EndorseRequest{TransactionId: txID, ChannelId: et.ChannelID, ProposedTransaction: sp})
	if err != nil {
		t.Fatal(err)
	}
	env := resp.PreparedTransaction
	if env.Signature, err = f.net.Org1.Client.Sign(env.Payload); err != nil {
		t.Fatal(err)
	}
	return env, txID
}

func TestSubmit(t *testing.T) {
	ctx := context.Background()
	t.Run("accepted after a dead orderer", func(t *testing.T) {
		f := newFx(t, fxOptions{deadOrderer: true})
		env, txID := f.signed(t, "basic", "put", "k", "x")
		if _, err := f.gw.Submit(ctx, &gp.SubmitRequest{TransactionId: txID, ChannelId: et.ChannelID, PreparedTransaction: env}); err != nil {
			t.Fatal(err)
		}
		if f.ord[0].count() != 1 || !proto.Equal(f.ord[0].received[0], env) {
			t.Fatal("orderer did not get the signed envelope")
		}
		for addr, roots := range f.dialed {
			if addr != "127.0.0.1:0" && len(roots) == 0 {
				t.Fatalf("dialled %s without TLS roots", addr)
			}
		}
	})
	t.Run("client error is final", func(t *testing.T) {
		f := newFx(t, fxOptions{ordererStatus: []common.Status{common.Status_BAD_REQUEST, common.Status_BAD_REQUEST}})
		env, _ := f.signed(t, "basic", "put", "k", "x")
		_, err := f.gw.Submit(ctx, &gp.SubmitRequest{ChannelId: et.ChannelID, PreparedTransaction: env})
		wantStatus(t, err, codes.Aborted, "received unsuccessful response from orderer: status=BAD_REQUEST, info=fake")
		if f.ord[0].count()+f.ord[1].count() != 1 {
			t.Fatal("a 4xx answer was retried on another orderer")
		}
	})
	t.Run("all unavailable", func(t *testing.T) {
		f := newFx(t, fxOptions{ordererStatus: []common.Status{common.Status_SERVICE_UNAVAILABLE}, deadOrderer: true})
		env, _ := f.signed(t, "basic", "put", "k", "x")
		_, err := f.gw.Submit(ctx, &gp.SubmitRequest{ChannelId: et.ChannelID, PreparedTransaction: env})
		ds := wantStatus(t, err, codes.Unavailable, "no orderers could successfully process transaction")
		if len(ds) != 2 {
			t.Fatalf("details %v", ds)
		}
		for _, d := range ds {
			if d.MspId != "OrdererMSP" || d.Address == "" {
				t.Fatalf("detail %v", d)
			}
		}
	})
	t.Run("bad requests", func(t *testing.T) {
		f := newFx(t, fxOptions{})
		env, _ := f.signed(t, "basic", "put", "k", "x")
		for _, c := range []struct {
			req  *gp.SubmitRequest
			code codes.Code
			msg  string
		}{
			{nil, codes.InvalidArgument, "a submit request is required"},
			{&gp.SubmitRequest{ChannelId: et.ChannelID}, codes.InvalidArgument, "a prepared transaction is required"},
			{&gp.SubmitRequest{ChannelId: et.ChannelID, PreparedTransaction: &common.Envelope{Payload: env.Payload}}, codes.InvalidArgument, "must be signed"},
			{&gp.SubmitRequest{ChannelId: "other", PreparedTransaction: env}, codes.FailedPrecondition, "channel 'other' not found"},
		} {
			_, err := f.gw.Submit(ctx, c.req)
			wantStatus(t, err, c.code, c.msg)
		}
		if f.ord[0].count() != 0 {
			t.Fatal("bad request reached the orderer")
		}
	})
}

func commitStatusRequest(t *testing.T, s endorser.Signer, channel, txID string) *gp.SignedCommitStatusRequest {
	t.Helper()
	raw, err := proto.Marshal(&gp.CommitStatusRequest{TransactionId: txID, ChannelId: channel, Identity: s.Serialize()})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := s.Sign(raw)
	if err != nil {
		t.Fatal(err)
	}
	return &gp.SignedCommitStatusRequest{Request: raw, Signature: sig}
}

func TestCommitStatus(t *testing.T) {
	f := newFx(t, fxOptions{})
	ctx := context.Background()
	env, txID := f.signed(t, "basic", "put", "k", "x")
	other, otherID := f.signed(t, "basic", "put", "k", "y")
	f.ledger.commit([]*common.Envelope{other}, []peer.TxValidationCode{peer.TxValidationCode_MVCC_READ_CONFLICT})

	resp, err := f.gw.CommitStatus(ctx, commitStatusRequest(t, f.net.Org1.Client, et.ChannelID, otherID))
	if err != nil || resp.Result != peer.TxValidationCode_MVCC_READ_CONFLICT || resp.BlockNumber != 0 {
		t.Fatalf("committed: %v %v", resp, err)
	}
	// Not yet committed: the call waits for the block.
	done := make(chan *gp.CommitStatusResponse, 1)
	go func() {
		r, err := f.gw.CommitStatus(ctx, commitStatusRequest(t, f.net.Org2.Peer, et.ChannelID, txID))
		if err != nil {
			t.Error(err)
		}
		done <- r
	}()
	select {
	case r := <-done:
		t.Fatalf("returned before commit: %v", r)
	case <-time.After(50 * time.Millisecond):
	}
	f.ledger.commit([]*common.Envelope{env}, []peer.TxValidationCode{peer.TxValidationCode_VALID})
	select {
	case r := <-done:
		if r == nil || r.Result != peer.TxValidationCode_VALID || r.BlockNumber != 1 {
			t.Fatalf("after commit: %v", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("CommitStatus did not return after the commit")
	}

	badSig := commitStatusRequest(t, f.net.Org1.Client, et.ChannelID, txID)
	badSig.Signature[len(badSig.Signature)-1] ^= 1
	forged := commitStatusRequest(t, f.net.Org1.Client, et.ChannelID, txID)
	forged.Signature, _ = f.net.Org2.Client.Sign(forged.Request)
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	for _, c := range []struct {
		name string
		ctx  context.Context
		req  *gp.SignedCommitStatusRequest
		code codes.Code
		msg  string
	}{
		{"bad signature", ctx, badSig, codes.PermissionDenied, "gateway/CommitStatus"},
		{"signed by another identity", ctx, forged, codes.PermissionDenied, "gateway/CommitStatus"},
		{"outsider", ctx, commitStatusRequest(t, f.net.Outsider, et.ChannelID, txID), codes.PermissionDenied, "gateway/CommitStatus"},
		{"unknown channel", ctx, commitStatusRequest(t, f.net.Org1.Client, "other", txID), codes.NotFound, "channel 'other' not found"},
		{"empty", ctx, &gp.SignedCommitStatusRequest{}, codes.InvalidArgument, "a commit status request is required"},
		{"garbage", ctx, &gp.SignedCommitStatusRequest{Request: []byte{0xff}}, codes.InvalidArgument, "invalid status request"},
		{"no tx id", ctx, commitStatusRequest(t, f.net.Org1.Client, et.ChannelID, ""), codes.InvalidArgument, "transaction ID should not be empty"},
		{"deadline", short, commitStatusRequest(t, f.net.Org1.Client, et.ChannelID, "never"), codes.DeadlineExceeded, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.gw.CommitStatus(c.ctx, c.req)
			wantStatus(t, err, c.code, c.msg)
		})
	}
}

// startGateway serves the gateway over loopback gRPC and returns a client.
func startGateway(t *testing.T, f *fx) gp.GatewayClient {
	t.Helper()
	l, addr, _ := listen(t)
	serve(t, l, func(s *grpc.Server) { gp.RegisterGatewayServer(s, f.gw) })
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return gp.NewGatewayClient(conn)
}

// TestErrorDetailsOverGRPC checks the details survive the wire, where the
// fabric-gateway client reads them from grpc-status-details-bin.
func TestErrorDetailsOverGRPC(t *testing.T) {
	f := newFx(t, fxOptions{})
	client := startGateway(t, f)
	sp, _ := f.proposal(t, "basic", "fail", "remote broken")
	_, err := client.Evaluate(context.Background(), &gp.EvaluateRequest{ProposedTransaction: sp})
	ds := wantStatus(t, err, codes.Unknown, "chaincode response 500, remote broken")
	if len(ds) != 1 || ds[0].MspId != "Org1MSP" {
		t.Fatalf("details %v", ds)
	}
}

func eventsRequest(t *testing.T, s endorser.Signer, r *gp.ChaincodeEventsRequest) *gp.SignedChaincodeEventsRequest {
	t.Helper()
	r.Identity = s.Serialize()
	raw, err := proto.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := s.Sign(raw)
	if err != nil {
		t.Fatal(err)
	}
	return &gp.SignedChaincodeEventsRequest{Request: raw, Signature: sig}
}

func TestChaincodeEvents(t *testing.T) {
	f := newFx(t, fxOptions{})
	client := startGateway(t, f)
	e1, tx1 := f.signed(t, "basic", "event", "one")
	e2, tx2 := f.signed(t, "basic", "event", "two")
	bad, _ := f.signed(t, "basic", "event", "invalid")
	plain, _ := f.signed(t, "basic", "put", "k", "v")
	mine, _ := f.signed(t, "mine", "event", "other-chaincode")
	f.ledger.commit([]*common.Envelope{e1, bad, plain, e2}, []peer.TxValidationCode{0, peer.TxValidationCode_MVCC_READ_CONFLICT, 0, 0})
	f.ledger.commit([]*common.Envelope{mine}, []peer.TxValidationCode{0})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	recv := func(req *gp.SignedChaincodeEventsRequest) (gp.Gateway_ChaincodeEventsClient, error) {
		return client.ChaincodeEvents(ctx, req)
	}
	names := func(r *gp.ChaincodeEventsResponse) []string {
		var out []string
		for _, e := range r.Events {
			out = append(out, e.EventName+"@"+e.TxId[:4])
		}
		return out
	}
	// From block 0: only the valid "basic" events of block 0.
	s, err := recv(eventsRequest(t, f.net.Org1.Client, &gp.ChaincodeEventsRequest{ChannelId: et.ChannelID, ChaincodeId: "basic",
		StartPosition: &orderer.SeekPosition{Type: &orderer.SeekPosition_Specified{Specified: &orderer.SeekSpecified{Number: 0}}}}))
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if r.BlockNumber != 0 || len(r.Events) != 2 || r.Events[0].TxId != tx1 || r.Events[1].TxId != tx2 || r.Events[0].ChaincodeId != "basic" {
		t.Fatalf("block 0 events %v", names(r))
	}
	// The next "basic" event arrives with a new block; block 1 is skipped.
	e3, tx3 := f.signed(t, "basic", "event", "three")
	f.ledger.commit([]*common.Envelope{e3}, []peer.TxValidationCode{0})
	if r, err = s.Recv(); err != nil || r.BlockNumber != 2 || len(r.Events) != 1 || r.Events[0].TxId != tx3 {
		t.Fatalf("block 2: %v %v", r, err)
	}

	// After tx1: resumes inside block 0 after it.
	s, err = recv(eventsRequest(t, f.net.Org1.Client, &gp.ChaincodeEventsRequest{ChannelId: et.ChannelID, ChaincodeId: "basic", AfterTransactionId: tx1}))
	if err != nil {
		t.Fatal(err)
	}
	if r, err = s.Recv(); err != nil || r.BlockNumber != 0 || len(r.Events) != 1 || r.Events[0].TxId != tx2 {
		t.Fatalf("after tx1: %v %v", r, err)
	}

	// Refusals arrive as the stream's status.
	for _, c := range []struct {
		name string
		req  *gp.SignedChaincodeEventsRequest
		code codes.Code
	}{
		{"outsider", eventsRequest(t, f.net.Outsider, &gp.ChaincodeEventsRequest{ChannelId: et.ChannelID, ChaincodeId: "basic"}), codes.PermissionDenied},
		{"unknown channel", eventsRequest(t, f.net.Org1.Client, &gp.ChaincodeEventsRequest{ChannelId: "other", ChaincodeId: "basic"}), codes.NotFound},
		{"oldest is not supported", eventsRequest(t, f.net.Org1.Client, &gp.ChaincodeEventsRequest{ChannelId: et.ChannelID, ChaincodeId: "basic",
			StartPosition: &orderer.SeekPosition{Type: &orderer.SeekPosition_Oldest{Oldest: &orderer.SeekOldest{}}}}), codes.InvalidArgument},
		{"empty", &gp.SignedChaincodeEventsRequest{}, codes.InvalidArgument},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := recv(c.req)
			if err == nil {
				_, err = s.Recv()
			}
			if errors.Is(err, io.EOF) || err == nil {
				t.Fatalf("stream ended without error")
			}
			wantStatus(t, err, c.code, "")
		})
	}
}
