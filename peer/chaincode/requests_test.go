package chaincode

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "weft/wire/peer"
)

// runStub executes one transaction whose chaincode side is body and fails
// the test on a runtime error. Returns the simulator for rwset checks.
func runStub(t *testing.T, l *testLedger, r *Runtime, txid string, body func(s *fakeStub), tx *fakeTx) *pb.Response {
	t.Helper()
	f := startFakeCC(t, "cc:1", func(s *fakeStub) { body(s); s.ok("") })
	if tx == nil {
		tx = &fakeTx{name: "cc"}
	}
	tx.sim, tx.channel, tx.txid = l.sim(txid), "ch", txid
	resp, _, err := r.Execute(context.Background(), "cc:1", f.conn(), tx, input("x"), false)
	if err != nil {
		t.Fatal(err)
	}
	r.Disconnect("cc:1")
	return resp
}

func expectResponse(t *testing.T, what string, m *pb.ChaincodeMessage) []byte {
	t.Helper()
	if m.GetType() != pb.ChaincodeMessage_RESPONSE {
		t.Errorf("%s: got %s %q, want RESPONSE", what, m.GetType(), m.GetPayload())
	}
	return m.GetPayload()
}

func TestStateRequests(t *testing.T) {
	l := newTestLedger(t)
	l.put("cc", "k1", "v1", "k3", "v3", "k5", "v5")
	l.put("other", "k1", "not mine")
	r := newTestRuntime(t, Options{})
	var tx fakeTx
	tx.name = "cc"
	runStub(t, l, r, "t1", func(s *fakeStub) {
		if v := expectResponse(t, "get k1", s.call(pb.ChaincodeMessage_GET_STATE, &pb.GetState{Key: "k1"})); string(v) != "v1" {
			t.Errorf("GET_STATE k1 = %q", v)
		}
		if v := expectResponse(t, "get missing", s.call(pb.ChaincodeMessage_GET_STATE, &pb.GetState{Key: "missing"})); len(v) != 0 {
			t.Errorf("GET_STATE missing = %q", v)
		}
		expectResponse(t, "put", s.call(pb.ChaincodeMessage_PUT_STATE, &pb.PutState{Key: "k2", Value: []byte("v2")}))
		// Reads see committed state, not the transaction's own writes.
		if v := expectResponse(t, "get k2", s.call(pb.ChaincodeMessage_GET_STATE, &pb.GetState{Key: "k2"})); len(v) != 0 {
			t.Errorf("GET_STATE k2 after own write = %q", v)
		}
		expectResponse(t, "del", s.call(pb.ChaincodeMessage_DEL_STATE, &pb.DelState{Key: "k1"}))
		expectResponse(t, "put md", s.call(pb.ChaincodeMessage_PUT_STATE_METADATA, &pb.PutStateMetadata{Key: "k3",
			Metadata: &pb.StateMetadata{Metakey: "VALIDATION_PARAMETER", Value: []byte("policy")}}))
		mdBytes := expectResponse(t, "get md", s.call(pb.ChaincodeMessage_GET_STATE_METADATA, &pb.GetStateMetadata{Key: "k5"}))
		md := &pb.StateMetadataResult{}
		if err := proto.Unmarshal(mdBytes, md); err != nil || len(md.GetEntries()) != 0 {
			t.Errorf("GET_STATE_METADATA k5 = %v %v", md, err)
		}
		multi := expectResponse(t, "multi", s.call(pb.ChaincodeMessage_GET_STATE_MULTIPLE, &pb.GetStateMultiple{Keys: []string{"k5", "nope", "k3"}}))
		res := &pb.GetStateMultipleResult{}
		if err := proto.Unmarshal(multi, res); err != nil || len(res.GetValues()) != 3 ||
			string(res.Values[0]) != "v5" || len(res.Values[1]) != 0 || string(res.Values[2]) != "v3" {
			t.Errorf("GET_STATE_MULTIPLE = %v %v", res, err)
		}
		expectResponse(t, "batch", s.call(pb.ChaincodeMessage_WRITE_BATCH_STATE, &pb.WriteBatchState{Rec: []*pb.WriteRecord{
			{Type: pb.WriteRecord_PUT_STATE, Key: "b1", Value: []byte("x")},
			{Type: pb.WriteRecord_DEL_STATE, Key: "k5"},
			{Type: pb.WriteRecord_PUT_STATE, Key: "b2"}, // empty value: a delete
			{Type: pb.WriteRecord_PUT_STATE_METADATA, Key: "b1", Metadata: &pb.StateMetadata{Metakey: "m", Value: []byte("1")}},
		}}))
	}, &tx)
	rws, err := tx.sim.Results()
	if err != nil {
		t.Fatal(err)
	}
	kv, writes := nsWrites(t, rws, "cc")
	want := map[string]string{"k2": "v2", "k1": "<del>", "b1": "x", "k5": "<del>", "b2": "<del>"}
	if fmt.Sprint(writes) != fmt.Sprint(want) {
		t.Errorf("writes %v, want %v", writes, want)
	}
	reads := map[string]string{}
	for _, rd := range kv.GetReads() {
		reads[rd.GetKey()] = fmt.Sprint(rd.GetVersion().GetBlockNum())
	}
	if reads["k1"] != "1" || reads["missing"] != "0" || reads["k5"] != "1" || reads["nope"] != "0" {
		t.Errorf("reads %v", reads)
	}
	mdKeys := map[string]string{}
	for _, mw := range kv.GetMetadataWrites() {
		for _, e := range mw.GetEntries() {
			mdKeys[mw.GetKey()] += e.GetName() + "=" + string(e.GetValue())
		}
	}
	if mdKeys["k3"] != "VALIDATION_PARAMETER=policy" || mdKeys["b1"] != "m=1" {
		t.Errorf("metadata writes %v", mdKeys)
	}
	if _, w := nsWrites(t, rws, "other"); len(w) != 0 {
		t.Errorf("wrote to another namespace: %v", w)
	}
}

func TestRequestErrors(t *testing.T) {
	l := newTestLedger(t)
	l.put("cc", "k", "v")
	r := newTestRuntime(t, Options{})
	const private = "private data is not supported yet"
	cases := []struct {
		name    string
		typ     pb.ChaincodeMessage_Type
		req     proto.Message
		raw     []byte
		want    string
		wantTyp pb.ChaincodeMessage_Type
	}{
		{"private get", pb.ChaincodeMessage_GET_STATE, &pb.GetState{Key: "k", Collection: "c"}, nil, private, 0},
		{"private put", pb.ChaincodeMessage_PUT_STATE, &pb.PutState{Key: "k", Value: []byte("v"), Collection: "c"}, nil, private, 0},
		{"private del", pb.ChaincodeMessage_DEL_STATE, &pb.DelState{Key: "k", Collection: "c"}, nil, private, 0},
		{"private multi", pb.ChaincodeMessage_GET_STATE_MULTIPLE, &pb.GetStateMultiple{Keys: []string{"k"}, Collection: "c"}, nil, private, 0},
		{"private hash", pb.ChaincodeMessage_GET_PRIVATE_DATA_HASH, &pb.GetState{Key: "k", Collection: "c"}, nil, private, 0},
		{"purge", pb.ChaincodeMessage_PURGE_PRIVATE_DATA, &pb.DelState{Key: "k", Collection: "c"}, nil, private, 0},
		{"private range", pb.ChaincodeMessage_GET_STATE_BY_RANGE, &pb.GetStateByRange{StartKey: "a", Collection: "c"}, nil, private, 0},
		{"private query", pb.ChaincodeMessage_GET_QUERY_RESULT, &pb.GetQueryResult{Query: "{}", Collection: "c"}, nil, private, 0},
		{"private metadata", pb.ChaincodeMessage_GET_STATE_METADATA, &pb.GetStateMetadata{Key: "k", Collection: "c"}, nil, private, 0},
		{"private batch", pb.ChaincodeMessage_WRITE_BATCH_STATE, &pb.WriteBatchState{Rec: []*pb.WriteRecord{
			{Type: pb.WriteRecord_PUT_STATE, Key: "a", Value: []byte("1"), Collection: "c"}}}, nil, private, 0},
		{"batch unknown op", pb.ChaincodeMessage_WRITE_BATCH_STATE, &pb.WriteBatchState{Rec: []*pb.WriteRecord{{Key: "a"}}}, nil, "unknown operation type", 0},
		{"empty key", pb.ChaincodeMessage_PUT_STATE, &pb.PutState{Value: []byte("v")}, nil, "key is empty", 0},
		{"bad utf8 key", pb.ChaincodeMessage_DEL_STATE, nil, []byte{0x0a, 0x01, 0xff}, "UTF-8", 0},
		{"metadata without key", pb.ChaincodeMessage_PUT_STATE_METADATA, &pb.PutStateMetadata{Key: "k", Metadata: &pb.StateMetadata{}}, nil, "metadata key is empty", 0},
		{"garbage payload", pb.ChaincodeMessage_GET_STATE, nil, []byte{0xff, 0xff}, "payload is not a GetState", 0},
		{"next unknown", pb.ChaincodeMessage_QUERY_STATE_NEXT, &pb.QueryStateNext{Id: "nope"}, nil, "query iterator not found", 0},
		{"bad query", pb.ChaincodeMessage_GET_QUERY_RESULT, &pb.GetQueryResult{Query: "not json"}, nil, "GET_QUERY_RESULT failed", 0},
		{"bad bookmark", pb.ChaincodeMessage_GET_QUERY_RESULT, &pb.GetQueryResult{Query: `{"selector":{}}`,
			Metadata: mustMarshal(t, &pb.QueryMetadata{PageSize: 2, Bookmark: "g1AAAA"})}, nil, "not issued by this peer", 0},
		{"negative page", pb.ChaincodeMessage_GET_STATE_BY_RANGE, &pb.GetStateByRange{Metadata: mustMarshal(t, &pb.QueryMetadata{PageSize: -1})}, nil, "negative", 0},
		{"invoke no name", pb.ChaincodeMessage_INVOKE_CHAINCODE, &pb.ChaincodeSpec{}, nil, "chaincode name is empty", 0},
		{"invoke fails", pb.ChaincodeMessage_INVOKE_CHAINCODE, &pb.ChaincodeSpec{ChaincodeId: &pb.ChaincodeID{Name: "ghost"}}, nil, "execute failed: no chaincode ghost", 0},
		{"undefined type", pb.ChaincodeMessage_UNDEFINED, nil, nil, "not accepted from a chaincode", 0},
		{"register again", pb.ChaincodeMessage_REGISTER, nil, nil, "not accepted from a chaincode", 0},
		{"unknown number", pb.ChaincodeMessage_Type(99), nil, nil, "not accepted from a chaincode", 0},
		// Always succeeds, even for ids the peer never issued.
		{"close unknown", pb.ChaincodeMessage_QUERY_STATE_CLOSE, &pb.QueryStateClose{Id: "nope"}, nil, "", pb.ChaincodeMessage_RESPONSE},
	}
	got := make([]*pb.ChaincodeMessage, len(cases))
	var last []byte
	runStub(t, l, r, "t1", func(s *fakeStub) {
		// KEEPALIVE from the chaincode is ignored, not answered.
		_ = s.c.send(&pb.ChaincodeMessage{Type: pb.ChaincodeMessage_KEEPALIVE})
		for i, c := range cases {
			if c.req != nil {
				got[i] = s.call(c.typ, c.req)
			} else {
				got[i] = s.callRaw(c.typ, c.raw)
			}
		}
		last = expectResponse(t, "after errors", s.call(pb.ChaincodeMessage_GET_STATE, &pb.GetState{Key: "k"}))
	}, nil)
	for i, c := range cases {
		m := got[i]
		wantTyp := c.wantTyp
		if wantTyp == 0 {
			wantTyp = pb.ChaincodeMessage_ERROR
		}
		if m.GetType() != wantTyp || !strings.Contains(string(m.GetPayload()), c.want) {
			t.Errorf("%s: got %s %q, want %s containing %q", c.name, m.GetType(), m.GetPayload(), wantTyp, c.want)
		}
		if m.GetTxid() != "t1" || m.GetChannelId() != "ch" {
			t.Errorf("%s: answer for %q/%q", c.name, m.GetChannelId(), m.GetTxid())
		}
	}
	if string(last) != "v" {
		t.Errorf("stream unusable after errors: %q", last)
	}
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestInvokeChaincodeNesting(t *testing.T) {
	l := newTestLedger(t)
	r := newTestRuntime(t, Options{})
	var calls []string
	tx := fakeTx{name: "caller", invoke: func(ctx context.Context, name string, args [][]byte, channel string) (*pb.Response, *pb.ChaincodeEvent, error) {
		ns, err := namespaceOf(ctx, &noNameTx{})
		if err != nil || ns != name {
			return nil, nil, fmt.Errorf("context names %q (%v), want %q", ns, err, name)
		}
		calls = append(calls, fmt.Sprintf("%s@%s(%s)", name, channel, args[0]))
		if name == "broken" {
			return nil, nil, errors.New("callee crashed")
		}
		return &pb.Response{Status: 200, Payload: []byte("pong")}, &pb.ChaincodeEvent{EventName: "inner"}, nil
	}}
	runStub(t, l, r, "t1", func(s *fakeStub) {
		for _, name := range []string{"other", "other/ch2", "other:1.0/ch3"} {
			payload := expectResponse(t, name, s.call(pb.ChaincodeMessage_INVOKE_CHAINCODE, &pb.ChaincodeSpec{
				ChaincodeId: &pb.ChaincodeID{Name: name}, Input: input("ping")}))
			inner := &pb.ChaincodeMessage{}
			if err := proto.Unmarshal(payload, inner); err != nil || inner.GetType() != pb.ChaincodeMessage_COMPLETED {
				t.Errorf("%s: nested message %v %v", name, inner, err)
				continue
			}
			resp := &pb.Response{}
			if err := proto.Unmarshal(inner.GetPayload(), resp); err != nil || resp.GetStatus() != 200 || string(resp.GetPayload()) != "pong" {
				t.Errorf("%s: nested response %v %v", name, resp, err)
			}
		}
		m := s.call(pb.ChaincodeMessage_INVOKE_CHAINCODE, &pb.ChaincodeSpec{ChaincodeId: &pb.ChaincodeID{Name: "broken"}, Input: input("ping")})
		if m.GetType() != pb.ChaincodeMessage_ERROR || !strings.Contains(string(m.GetPayload()), "callee crashed") {
			t.Errorf("failed callee: %s %q", m.GetType(), m.GetPayload())
		}
	}, &tx)
	if strings.Join(calls, " ") != "other@ch(ping) other@ch2(ping) other@ch3(ping) broken@ch(ping)" {
		t.Errorf("calls %v", calls)
	}
}

func TestOnePendingRequestPerTransaction(t *testing.T) {
	l := newTestLedger(t)
	r := newTestRuntime(t, Options{})
	entered, release := make(chan struct{}), make(chan struct{})
	tx := fakeTx{name: "cc", invoke: func(context.Context, string, [][]byte, string) (*pb.Response, *pb.ChaincodeEvent, error) {
		close(entered)
		<-release
		return &pb.Response{Status: 200}, nil, nil
	}}
	runStub(t, l, r, "t1", func(s *fakeStub) {
		first := make(chan *pb.ChaincodeMessage, 1)
		go func() {
			first <- s.call(pb.ChaincodeMessage_INVOKE_CHAINCODE, &pb.ChaincodeSpec{ChaincodeId: &pb.ChaincodeID{Name: "x"}})
		}()
		<-entered
		// Sent without waiting: the answer lands on the pending call above.
		_ = s.c.send(&pb.ChaincodeMessage{Type: pb.ChaincodeMessage_GET_STATE, Payload: mustMarshal(t, &pb.GetState{Key: "k"}),
			Txid: s.msg.GetTxid(), ChannelId: s.msg.GetChannelId()})
		m := <-first
		if m.GetType() != pb.ChaincodeMessage_ERROR || !strings.Contains(string(m.GetPayload()), "still pending") {
			t.Errorf("second request: %s %q", m.GetType(), m.GetPayload())
		}
		close(release)
	}, &tx)
}

func TestNamespaceFromProposal(t *testing.T) {
	cis := mustMarshal(t, &pb.ChaincodeInvocationSpec{ChaincodeSpec: &pb.ChaincodeSpec{ChaincodeId: &pb.ChaincodeID{Name: "basic"}}})
	prop := mustMarshal(t, &pb.Proposal{Payload: mustMarshal(t, &pb.ChaincodeProposalPayload{Input: cis})})
	sp := &pb.SignedProposal{ProposalBytes: prop}
	tx := &noNameTx{fakeTx{sp: sp}}
	if ns, err := namespaceOf(context.Background(), tx); err != nil || ns != "basic" {
		t.Fatalf("from proposal: %q %v", ns, err)
	}
	if ns, err := namespaceOf(withCallee(context.Background(), "callee"), tx); err != nil || ns != "callee" {
		t.Fatalf("from context: %q %v", ns, err)
	}
	if ns, err := namespaceOf(withCallee(context.Background(), "callee"), &fakeTx{name: "own", sp: sp}); err != nil || ns != "own" {
		t.Fatalf("from TxContext: %q %v", ns, err)
	}
	for _, bad := range []*pb.SignedProposal{
		nil,
		{ProposalBytes: []byte{0xff}},
		{ProposalBytes: mustMarshal(t, &pb.Proposal{Payload: []byte{0xff}})},
		{ProposalBytes: mustMarshal(t, &pb.Proposal{Payload: mustMarshal(t, &pb.ChaincodeProposalPayload{})})},
	} {
		if _, err := namespaceOf(context.Background(), &noNameTx{fakeTx{sp: bad}}); err == nil {
			t.Errorf("proposal %v: no error", bad)
		}
	}
}
