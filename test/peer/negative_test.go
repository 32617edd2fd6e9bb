package peer_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"weft/client"
	"weft/deliver"
	"weft/msp/msptest"
	"weft/peer/endorser"
	"weft/test/harness"
	"weft/wire/common"
	gp "weft/wire/gateway"
	"weft/wire/orderer"
	pb "weft/wire/peer"
	lcpb "weft/wire/peer/lifecycle"
)

// tamperedSigner signs something other than what it is given: a well-formed
// signature by a member that does not verify.
type tamperedSigner struct{ client.Signer }

func (s tamperedSigner) Sign(msg []byte) ([]byte, error) {
	return s.Signer.Sign(append(append([]byte{}, msg...), "tampered"...))
}

// memberSigner adapts an msptest.Member to client.Signer.
type memberSigner struct{ *msptest.Member }

func (m memberSigner) Serialize() []byte { return m.Serialized }

// outsiders are identities the channel must refuse: a client certificate
// from a CA nobody trusts that claims Org1MSP, and one of an MSP that is not
// in the channel.
func outsiders(t *testing.T) (claimsOrg1, foreignMSP client.Signer) {
	t.Helper()
	rogue, err := msptest.NewOrg("Org1MSP", false)
	if err != nil {
		t.Fatal(err)
	}
	m, err := rogue.Role("mallory", msptest.OUClient)
	if err != nil {
		t.Fatal(err)
	}
	other, err := msptest.NewOrg("Org9MSP", false)
	if err != nil {
		t.Fatal(err)
	}
	o, err := other.Role("oscar", msptest.OUClient)
	if err != nil {
		t.Fatal(err)
	}
	return memberSigner{m}, memberSigner{o}
}

// errText is everything a refusal says: the gRPC status message, the
// messages of its gateway ErrorDetails, or a proposal response's message.
func errText(resp *pb.ProposalResponse, err error) string {
	if err != nil {
		st, _ := status.FromError(err)
		parts := []string{st.Code().String() + ": " + st.Message()}
		for _, d := range st.Details() {
			if ed, ok := d.(*gp.ErrorDetail); ok {
				parts = append(parts, ed.GetMspId()+"@"+ed.GetAddress()+": "+ed.GetMessage())
			}
		}
		return strings.Join(parts, " | ")
	}
	if s := resp.GetResponse().GetStatus(); s < 200 || s >= 400 {
		return resp.GetResponse().GetMessage()
	}
	return ""
}

// refused fails unless got is a refusal containing every one of want
// (case-insensitive).
func refused(t *testing.T, what, got string, want ...string) {
	t.Helper()
	if got == "" {
		t.Errorf("%s: accepted, want a refusal mentioning %q", what, want)
		return
	}
	for _, w := range want {
		if !strings.Contains(strings.ToLower(got), strings.ToLower(w)) {
			t.Errorf("%s: refusal %q does not mention %q", what, got, w)
		}
	}
	t.Logf("%s: %s", what, got)
}

func TestPeerRefusesBadRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a network of processes")
	}
	// Build first: ports are checked free when the network is generated,
	// and the build would widen the window in which others can take them.
	harness.Binary(t)
	nw := harness.NewNetwork(t)
	nw.StartOrderers(t)
	nw.StartPeers(t)
	d := harness.DeployBasic(t, nw)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	user := d.User(t, nw, 0)
	if _, _, err := user.Submit(ctx, harness.Channel, "basic", nil, []byte("CreateAsset"), []byte("neg1"), []byte("red"), []byte("1"), []byte("Ann")); err != nil {
		t.Fatalf("CreateAsset: %v", err)
	}
	// serving checks that both peers still endorse, evaluate and commit.
	serving := func(t *testing.T) {
		t.Helper()
		for k := range d.Conns {
			gw := d.User(t, nw, k)
			got, err := gw.Evaluate(ctx, harness.Channel, "basic", []byte("ReadAsset"), []byte("neg1"))
			if err != nil || !strings.Contains(string(got), `"ID":"neg1"`) {
				t.Fatalf("org %d no longer serves: ReadAsset gave %s, %v", k, got, err)
			}
		}
	}
	mallory, oscar := outsiders(t)
	bad := tamperedSigner{user.Signer}
	conn := d.Conns[0]

	t.Run("Endorser", func(t *testing.T) {
		t.Cleanup(func() { serving(t) })
		testEndorserRefusals(ctx, t, conn, user.Signer, bad, mallory, oscar)
	})
	t.Run("CreatorCausesLogged", func(t *testing.T) {
		// The refusals above gave clients no cause; operators get it.
		log := nw.Peers[0].Tail(1000)
		for _, cause := range []string{"ECDSA signature does not verify", "certificate signed by unknown authority", `MSP \"Org9MSP\" is not known to this channel`} {
			if !strings.Contains(log, cause) {
				t.Errorf("peer log does not give the cause %q", cause)
			}
		}
	})
	t.Run("Gateway", func(t *testing.T) {
		t.Cleanup(func() { serving(t) })
		testGatewayRefusals(ctx, t, conn, user.Signer, bad, mallory, oscar)
	})
	t.Run("Deliver", func(t *testing.T) {
		t.Cleanup(func() { serving(t) })
		testDeliverRefusals(ctx, t, conn, user.Signer, bad, mallory, oscar)
	})
	t.Run("Admin", func(t *testing.T) {
		t.Cleanup(func() { serving(t) })
		testAdminRefusals(ctx, t, nw, d, user.Signer)
	})
	t.Run("CommitNotApprovedByEnoughOrgs", func(t *testing.T) {
		t.Cleanup(func() { serving(t) })
		def := client.Definition{Name: "basic2", Version: "1.0", Sequence: 1}
		if err := d.Admins[0].Approve(ctx, harness.Channel, d.MSPIDs[0], def, d.PackageID); err != nil {
			t.Fatalf("org1 approve basic2: %v", err)
		}
		nw.WaitHeight(t, 1, 0, nw.PeerHeight(0, 0), 30*time.Second)
		err := d.Admins[0].Commit(ctx, harness.Channel, def)
		refused(t, "commit approved by org1 only", errText(nil, err), "LifecycleEndorsement", "not agreed to by this org (Org2MSP)")
		// Nothing was committed: basic2 cannot be invoked.
		_, err = user.Evaluate(ctx, harness.Channel, "basic2", []byte("ReadAsset"), []byte("neg1"))
		refused(t, "invoke uncommitted basic2", errText(nil, err), "basic2")
	})
	// A valid transaction still commits on both peers at the end.
	if _, _, err := d.User(t, nw, 1).Submit(ctx, harness.Channel, "basic", nil, []byte("UpdateAsset"), []byte("neg1"), []byte("red"), []byte("2"), []byte("Bob")); err != nil {
		t.Fatalf("UpdateAsset after the refusals: %v", err)
	}
}

func proposal(t *testing.T, s client.Signer, channel, cc string, args ...string) *pb.SignedProposal {
	t.Helper()
	var a [][]byte
	for _, x := range args {
		a = append(a, []byte(x))
	}
	sp, _, err := endorser.NewSignedProposal(s, endorser.ProposalSpec{ChannelID: channel, Chaincode: cc, Args: a})
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

// badProposals are the proposal classes every proposal entry point must
// refuse, with what the refusal must mention.
func badProposals(t *testing.T, good, bad, mallory, oscar client.Signer) []struct {
	name string
	sp   *pb.SignedProposal
	want []string
} {
	ch := harness.Channel
	return []struct {
		name string
		sp   *pb.SignedProposal
		want []string
	}{
		// Like Fabric, the peer tells the client only that the creator was
		// refused; the cause is in the peer's log (see creatorCauses).
		{"bad signature", proposal(t, bad, ch, "basic", "ReadAsset", "neg1"), []string{"access denied", "channel [mychannel] creator org [Org1MSP]"}},
		{"unknown channel", proposal(t, good, "nochannel", "basic", "ReadAsset", "neg1"), []string{"channel 'nochannel' not found"}},
		{"creator from an untrusted CA", proposal(t, mallory, ch, "basic", "ReadAsset", "neg1"), []string{"access denied", "creator org unknown"}},
		{"creator of an MSP not in the channel", proposal(t, oscar, ch, "basic", "ReadAsset", "neg1"), []string{"access denied", "creator org unknown"}},
		{"unknown chaincode", proposal(t, good, ch, "nosuchcc", "ReadAsset", "neg1"), []string{"chaincode nosuchcc not found"}},
		{"malformed proposal bytes", &pb.SignedProposal{ProposalBytes: []byte{0x0a, 0xff, 0x01}, Signature: []byte{1}}, []string{"proposal", "cannot parse"}},
	}
}

func testEndorserRefusals(ctx context.Context, t *testing.T, conn grpc.ClientConnInterface, good, bad, mallory, oscar client.Signer) {
	e := pb.NewEndorserClient(conn)
	for _, c := range badProposals(t, good, bad, mallory, oscar) {
		resp, err := e.ProcessProposal(ctx, c.sp)
		refused(t, "ProcessProposal: "+c.name, errText(resp, err), c.want...)
	}
	resp, err := e.ProcessProposal(ctx, &pb.SignedProposal{})
	refused(t, "ProcessProposal: empty", errText(resp, err), "proposal")
}

func testGatewayRefusals(ctx context.Context, t *testing.T, conn grpc.ClientConnInterface, good, bad, mallory, oscar client.Signer) {
	gw := gp.NewGatewayClient(conn)
	for _, c := range badProposals(t, good, bad, mallory, oscar) {
		_, err := gw.Evaluate(ctx, &gp.EvaluateRequest{ChannelId: harness.Channel, ProposedTransaction: c.sp})
		refused(t, "Evaluate: "+c.name, errText(nil, err), c.want...)
		_, err = gw.Endorse(ctx, &gp.EndorseRequest{ChannelId: harness.Channel, ProposedTransaction: c.sp})
		refused(t, "Endorse: "+c.name, errText(nil, err), c.want...)
	}

	// Submit: a transaction endorsed properly but signed badly reaches the
	// orderer, which refuses it.
	sp := proposal(t, good, harness.Channel, "basic", "UpdateAsset", "neg1", "red", "5", "Eve")
	er, err := gw.Endorse(ctx, &gp.EndorseRequest{ChannelId: harness.Channel, ProposedTransaction: sp})
	if err != nil {
		t.Fatalf("endorse: %s", errText(nil, err))
	}
	env := er.GetPreparedTransaction()
	if env.Signature, err = bad.Sign(env.GetPayload()); err != nil {
		t.Fatal(err)
	}
	_, err = gw.Submit(ctx, &gp.SubmitRequest{ChannelId: harness.Channel, PreparedTransaction: env})
	refused(t, "Submit: bad signature", errText(nil, err), "status=FORBIDDEN", "signature")
	_, err = gw.Submit(ctx, &gp.SubmitRequest{ChannelId: harness.Channel, PreparedTransaction: &common.Envelope{Payload: env.Payload}})
	refused(t, "Submit: unsigned", errText(nil, err), "signed")
	_, err = gw.Submit(ctx, &gp.SubmitRequest{ChannelId: harness.Channel, PreparedTransaction: &common.Envelope{Payload: []byte{0x0a, 0xff}, Signature: []byte{1}}})
	refused(t, "Submit: malformed payload", errText(nil, err), "BAD_REQUEST")
	_, err = gw.Submit(ctx, &gp.SubmitRequest{ChannelId: "nochannel", PreparedTransaction: env})
	refused(t, "Submit: unknown channel", errText(nil, err), "nochannel")

	// CommitStatus.
	statusReq := func(s client.Signer, channel, txID string, req []byte) *gp.SignedCommitStatusRequest {
		if req == nil {
			var err error
			req, err = proto.Marshal(&gp.CommitStatusRequest{TransactionId: txID, ChannelId: channel, Identity: s.Serialize()})
			if err != nil {
				t.Fatal(err)
			}
		}
		sig, err := s.Sign(req)
		if err != nil {
			t.Fatal(err)
		}
		return &gp.SignedCommitStatusRequest{Request: req, Signature: sig}
	}
	for _, c := range []struct {
		name string
		req  *gp.SignedCommitStatusRequest
		want []string
	}{
		{"bad signature", statusReq(bad, harness.Channel, "tx1", nil), []string{"PermissionDenied", "signature"}},
		{"creator from an untrusted CA", statusReq(mallory, harness.Channel, "tx1", nil), []string{"PermissionDenied", "certificate"}},
		{"creator of an MSP not in the channel", statusReq(oscar, harness.Channel, "tx1", nil), []string{"PermissionDenied", "Org9MSP"}},
		{"unknown channel", statusReq(good, "nochannel", "tx1", nil), []string{"NotFound", "nochannel"}},
		{"empty transaction id", statusReq(good, harness.Channel, "", nil), []string{"InvalidArgument", "transaction ID"}},
		{"malformed request", statusReq(good, harness.Channel, "", []byte{0x0a, 0xff}), []string{"InvalidArgument"}},
	} {
		_, err := gw.CommitStatus(ctx, c.req)
		refused(t, "CommitStatus: "+c.name, errText(nil, err), c.want...)
	}
}

// seek asks the peer's Deliver service for block 0 and returns the status
// it answers with (SUCCESS after a block) or the stream error.
func seek(ctx context.Context, conn grpc.ClientConnInterface, env *common.Envelope) (common.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	stream, err := pb.NewDeliverClient(conn).Deliver(ctx)
	if err != nil {
		return 0, err
	}
	if err := stream.Send(env); err != nil {
		return 0, err
	}
	stream.CloseSend()
	for {
		resp, err := stream.Recv()
		if err != nil {
			return 0, err
		}
		if st, ok := resp.GetType().(*pb.DeliverResponse_Status); ok {
			return st.Status, nil
		}
	}
}

func testDeliverRefusals(ctx context.Context, t *testing.T, conn grpc.ClientConnInterface, good, bad, mallory, oscar client.Signer) {
	block0 := &orderer.SeekInfo{
		Start:    &orderer.SeekPosition{Type: &orderer.SeekPosition_Oldest{Oldest: &orderer.SeekOldest{}}},
		Stop:     &orderer.SeekPosition{Type: &orderer.SeekPosition_Oldest{Oldest: &orderer.SeekOldest{}}},
		Behavior: orderer.SeekInfo_BLOCK_UNTIL_READY,
	}
	envelope := func(channel string, s client.Signer) *common.Envelope {
		env, err := deliver.NewSeekEnvelope(channel, s, block0, nil, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return env
	}
	for _, c := range []struct {
		name string
		env  *common.Envelope
		want common.Status
	}{
		{"member", envelope(harness.Channel, good), common.Status_SUCCESS},
		{"bad signature", envelope(harness.Channel, bad), common.Status_FORBIDDEN},
		{"creator from an untrusted CA", envelope(harness.Channel, mallory), common.Status_FORBIDDEN},
		{"creator of an MSP not in the channel", envelope(harness.Channel, oscar), common.Status_FORBIDDEN},
		{"unknown channel", envelope("nochannel", good), common.Status_NOT_FOUND},
		{"malformed payload", &common.Envelope{Payload: []byte{0x0a, 0xff}, Signature: []byte{1}}, common.Status_BAD_REQUEST},
	} {
		got, err := seek(ctx, conn, c.env)
		if err != nil || got != c.want {
			t.Errorf("Deliver: %s: status %v, %v; want %v", c.name, got, err, c.want)
		}
	}
}

// sccRefusal is the refusal of a system chaincode call: as in Fabric, a
// status-500 proposal response, not an RPC error.
func sccRefusal(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	if _, isRPC := status.FromError(err); isRPC || !strings.Contains(err.Error(), "status 500") {
		t.Errorf("system chaincode refusal %q is not a status-500 response", err)
	}
	return err.Error()
}

func testAdminRefusals(ctx context.Context, t *testing.T, nw *harness.Network, d *harness.Deployment, user client.Signer) {
	conn := d.Conns[0]
	genesis, err := proto.Marshal(nw.Genesis)
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.ProcessProposal(ctx, conn, user, endorser.ProposalSpec{
		Chaincode: "cscc", Type: common.HeaderType_CONFIG, Args: [][]byte{[]byte("JoinChain"), genesis},
	})
	refused(t, "cscc JoinChain by a client", sccRefusal(t, err), "access denied", "cscc/JoinChain", "not an admin")

	_, err = client.InstallChaincode(ctx, conn, user, d.Package)
	refused(t, "InstallChaincode by a client", sccRefusal(t, err), "access denied", "_lifecycle/InstallChaincode", "not an admin")

	admin := d.Admins[0].Signer
	_, err = client.InstallChaincode(ctx, conn, admin, []byte("not a tar.gz"))
	refused(t, "InstallChaincode of a malformed package", sccRefusal(t, err), "chaincode install package", "gzip")

	_, err = client.ProcessProposal(ctx, conn, admin, endorser.ProposalSpec{
		Chaincode: "_lifecycle", Args: [][]byte{[]byte("InstallChaincode"), {0x0a, 0xff}},
	})
	refused(t, "InstallChaincode with malformed arguments", sccRefusal(t, err), "InstallChaincodeArgs")

	// The package really is installed (the refusals changed nothing) and
	// an admin may still install it: installing again answers its id or
	// says it already is installed.
	args, _ := proto.Marshal(&lcpb.QueryInstalledChaincodesArgs{})
	resp, err := client.ProcessProposal(ctx, conn, admin, endorser.ProposalSpec{
		Chaincode: "_lifecycle", Args: [][]byte{[]byte("QueryInstalledChaincodes"), args},
	})
	if err != nil {
		t.Fatalf("QueryInstalledChaincodes: %v", err)
	}
	var res lcpb.QueryInstalledChaincodesResult
	if err := proto.Unmarshal(resp.GetResponse().GetPayload(), &res); err != nil || len(res.GetInstalledChaincodes()) != 1 {
		t.Errorf("installed chaincodes: %v (%v); want exactly the one package", res.GetInstalledChaincodes(), err)
	}
}
