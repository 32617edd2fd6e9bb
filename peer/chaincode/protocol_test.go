package chaincode

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"weft/comm"
	pb "weft/wire/peer"
)

func TestExecuteHandshakeAndResults(t *testing.T) {
	f := startFakeCC(t, "cc:1", func(s *fakeStub) {
		switch s.args()[0] {
		case "ok":
			s.complete(&pb.Response{Status: 200, Message: "fine", Payload: []byte(s.msg.GetType().String())},
				&pb.ChaincodeEvent{EventName: "Created", Payload: []byte("ev")})
		case "client-error":
			s.complete(&pb.Response{Status: 400, Message: "asset exists"}, nil)
		case "error":
			s.fail("shim blew up")
		case "bad-completed":
			_ = s.c.send(&pb.ChaincodeMessage{Type: pb.ChaincodeMessage_COMPLETED, Payload: []byte{0xff}, Txid: s.msg.GetTxid(), ChannelId: s.msg.GetChannelId()})
		}
	})
	l := newTestLedger(t)
	r := newTestRuntime(t, Options{})
	run := func(txid string, isInit bool, args ...string) (*pb.Response, *pb.ChaincodeEvent, error) {
		tx := &fakeTx{sim: l.sim(txid), channel: "ch", txid: txid, name: "basic"}
		return r.Execute(context.Background(), "cc:1", f.conn(), tx, input(args...), isInit)
	}
	resp, ev, err := run("t1", false, "ok")
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetStatus() != 200 || resp.GetMessage() != "fine" || string(resp.GetPayload()) != "TRANSACTION" {
		t.Fatalf("response %v", resp)
	}
	if ev.GetEventName() != "Created" || string(ev.GetPayload()) != "ev" || ev.GetChaincodeId() != "basic" || ev.GetTxId() != "t1" {
		t.Fatalf("event %v", ev)
	}
	resp, _, err = run("t2", true, "ok")
	if err != nil || string(resp.GetPayload()) != "INIT" {
		t.Fatalf("init: %v %v", resp, err)
	}
	resp, ev, err = run("t3", false, "client-error")
	if err != nil || resp.GetStatus() != 400 || resp.GetMessage() != "asset exists" || ev != nil {
		t.Fatalf("client error: %v %v %v", resp, ev, err)
	}
	resp, _, err = run("t4", false, "error")
	if err != nil || resp.GetStatus() != 500 || resp.GetMessage() != "shim blew up" {
		t.Fatalf("ERROR: %v %v", resp, err)
	}
	if _, _, err = run("t5", false, "bad-completed"); err == nil || !strings.Contains(err.Error(), "not a Response") {
		t.Fatalf("bad COMPLETED: %v", err)
	}
	if n := f.connectCount(); n != 1 {
		t.Fatalf("%d connections, want 1 stream for all transactions", n)
	}
	// The handshake was REGISTERED then READY, READY announcing batching.
	got := f.receivedTypes()
	if len(got) < 2 || got[0] != pb.ChaincodeMessage_REGISTERED || got[1] != pb.ChaincodeMessage_READY {
		t.Fatalf("first messages %v", got)
	}
	params := &pb.ChaincodeAdditionalParams{}
	if err := proto.Unmarshal(f.ready, params); err != nil || !params.GetUseWriteBatch() || !params.GetUseGetMultipleKeys() {
		t.Fatalf("READY payload %v %v", params, err)
	}
	for _, typ := range got {
		if typ == pb.ChaincodeMessage_KEEPALIVE {
			t.Fatal("runtime sent KEEPALIVE")
		}
	}
}

func TestExecuteWrongRegisterName(t *testing.T) {
	f := startFakeCC(t, "someone-else:1", func(s *fakeStub) { s.ok("") })
	l := newTestLedger(t)
	r := newTestRuntime(t, Options{})
	for i := 0; i < 2; i++ {
		tx := &fakeTx{sim: l.sim("t"), channel: "ch", txid: "t", name: "cc"}
		_, _, err := r.Execute(context.Background(), "cc:1", f.conn(), tx, input("x"), false)
		if err == nil || !strings.Contains(err.Error(), `registered as "someone-else:1"`) {
			t.Fatalf("attempt %d: err %v", i, err)
		}
	}
	if n := f.connectCount(); n != 2 {
		t.Fatalf("%d connections, want a fresh attempt per Execute after a failed registration", n)
	}
}

func TestExecuteTimeoutKeepsStream(t *testing.T) {
	release := make(chan struct{})
	f := startFakeCC(t, "cc:1", func(s *fakeStub) {
		if s.args()[0] == "slow" {
			<-release
		}
		s.ok("done")
	})
	l := newTestLedger(t)
	r := newTestRuntime(t, Options{ExecuteTimeout: 300 * time.Millisecond})
	tx := &fakeTx{sim: l.sim("slow"), channel: "ch", txid: "slow", name: "cc"}
	start := time.Now()
	_, _, err := r.Execute(context.Background(), "cc:1", f.conn(), tx, input("slow"), false)
	if !errors.Is(err, ErrExecuteTimeout) {
		t.Fatalf("err %v, want timeout", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("timeout took %s", d)
	}
	close(release) // the late COMPLETED must be ignored
	tx = &fakeTx{sim: l.sim("fast"), channel: "ch", txid: "fast", name: "cc"}
	resp, _, err := r.Execute(context.Background(), "cc:1", f.conn(), tx, input("fast"), false)
	if err != nil || string(resp.GetPayload()) != "done" {
		t.Fatalf("after timeout: %v %v", resp, err)
	}
	// The timed-out transaction id is free again.
	tx = &fakeTx{sim: l.sim("slow"), channel: "ch", txid: "slow", name: "cc"}
	if _, _, err := r.Execute(context.Background(), "cc:1", f.conn(), tx, input("fast"), false); err != nil {
		t.Fatal(err)
	}
	if n := f.connectCount(); n != 1 {
		t.Fatalf("%d connections, a timeout must not drop the stream", n)
	}
}

func TestExecuteContextCanceled(t *testing.T) {
	f := startFakeCC(t, "cc:1", func(s *fakeStub) {})
	l := newTestLedger(t)
	r := newTestRuntime(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	tx := &fakeTx{sim: l.sim("t"), channel: "ch", txid: "t", name: "cc"}
	if _, _, err := r.Execute(ctx, "cc:1", f.conn(), tx, input("x"), false); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
}

func TestExecuteStreamDropAndReconnect(t *testing.T) {
	f := startFakeCC(t, "cc:1", func(s *fakeStub) {
		if s.args()[0] == "drop" {
			s.drop()
			return
		}
		s.ok("alive")
	})
	l := newTestLedger(t)
	r := newTestRuntime(t, Options{})
	tx := &fakeTx{sim: l.sim("t1"), channel: "ch", txid: "t1", name: "cc"}
	_, _, err := r.Execute(context.Background(), "cc:1", f.conn(), tx, input("drop"), false)
	if !errors.Is(err, ErrStreamTerminated) {
		t.Fatalf("err %v, want stream terminated", err)
	}
	tx = &fakeTx{sim: l.sim("t2"), channel: "ch", txid: "t2", name: "cc"}
	resp, _, err := r.Execute(context.Background(), "cc:1", f.conn(), tx, input("again"), false)
	if err != nil || string(resp.GetPayload()) != "alive" {
		t.Fatalf("after drop: %v %v", resp, err)
	}
	if n := f.connectCount(); n != 2 {
		t.Fatalf("%d connections, want a reconnect", n)
	}
	r.Disconnect("cc:1")
	tx = &fakeTx{sim: l.sim("t3"), channel: "ch", txid: "t3", name: "cc"}
	if _, _, err := r.Execute(context.Background(), "cc:1", f.conn(), tx, input("again"), false); err != nil {
		t.Fatal(err)
	}
	if n := f.connectCount(); n != 3 {
		t.Fatalf("%d connections after Disconnect, want 3", n)
	}
	r.Close()
	if _, _, err := r.Execute(context.Background(), "cc:1", f.conn(), tx, input("again"), false); !errors.Is(err, ErrRuntimeClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

func TestExecuteDialFailure(t *testing.T) {
	l := newTestLedger(t)
	r := newTestRuntime(t, Options{})
	tx := &fakeTx{sim: l.sim("t"), channel: "ch", txid: "t", name: "cc"}
	// Port 1 on loopback: nothing listens there.
	_, _, err := r.Execute(context.Background(), "cc:1", &Connection{Address: "127.0.0.1:1", DialTimeout: 300 * time.Millisecond}, tx, input("x"), false)
	if err == nil || !strings.Contains(err.Error(), "chaincode server") {
		t.Fatalf("err %v", err)
	}
}

func TestExecuteArguments(t *testing.T) {
	l := newTestLedger(t)
	r := newTestRuntime(t, Options{})
	good := &fakeTx{sim: l.sim("t"), channel: "ch", txid: "t", name: "cc"}
	conn := &Connection{Address: "127.0.0.1:1"}
	for _, tc := range []struct {
		name string
		ccid string
		conn *Connection
		tx   TxContext
		want string
	}{
		{"no ccid", "", conn, good, "ccid is empty"},
		{"no conn", "cc:1", nil, good, "connection is nil"},
		{"no tx", "cc:1", conn, nil, "transaction context"},
		{"no sim", "cc:1", conn, &fakeTx{channel: "ch", txid: "t", name: "cc"}, "simulator is nil"},
		{"no txid", "cc:1", conn, &fakeTx{sim: l.sim(""), channel: "ch", name: "cc"}, "transaction id is empty"},
		{"no name", "cc:1", conn, &noNameTx{fakeTx{sim: l.sim("t"), channel: "ch", txid: "t"}}, "chaincode name"},
		{"bad conn", "cc:1", &Connection{Address: "nocolon"}, good, "address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := r.Execute(context.Background(), tc.ccid, tc.conn, tc.tx, nil, false)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}

// noNameTx hides ChaincodeName so the runtime must find the name elsewhere.
type noNameTx struct{ fakeTx }

func (n *noNameTx) ChaincodeName() int { return 0 }

func TestExecuteConcurrentTransactions(t *testing.T) {
	f := startFakeCC(t, "cc:1", func(s *fakeStub) {
		a := s.args()
		v := s.call(pb.ChaincodeMessage_GET_STATE, &pb.GetState{Key: a[1]})
		time.Sleep(20 * time.Millisecond) // overlap the transactions
		s.call(pb.ChaincodeMessage_PUT_STATE, &pb.PutState{Key: a[1], Value: []byte(s.msg.GetTxid())})
		s.ok(string(v.GetPayload()))
	})
	l := newTestLedger(t)
	l.put("cc", "k0", "v0", "k1", "v1", "k2", "v2")
	r := newTestRuntime(t, Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 30)
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			txid := fmt.Sprintf("tx%d", i)
			key := fmt.Sprintf("k%d", i%3)
			tx := &fakeTx{sim: l.sim(txid), channel: "ch", txid: txid, name: "cc"}
			resp, _, err := r.Execute(context.Background(), "cc:1", f.conn(), tx, input("rw", key), false)
			if err != nil {
				errs <- err
				return
			}
			if want := fmt.Sprintf("v%d", i%3); string(resp.GetPayload()) != want {
				errs <- fmt.Errorf("%s read %q, want %q", txid, resp.GetPayload(), want)
				return
			}
			rws, err := tx.sim.Results()
			if err != nil {
				errs <- err
				return
			}
			if _, w := nsWrites(t, rws, "cc"); len(w) != 1 || w[key] != txid {
				errs <- fmt.Errorf("%s writes %v", txid, w)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := f.connectCount(); n != 1 {
		t.Fatalf("%d connections, want 1", n)
	}
}

func TestExecuteDuplicateTxID(t *testing.T) {
	started, release := make(chan struct{}, 2), make(chan struct{})
	f := startFakeCC(t, "cc:1", func(s *fakeStub) {
		started <- struct{}{}
		<-release
		s.ok(s.msg.GetChannelId())
	})
	l := newTestLedger(t)
	r := newTestRuntime(t, Options{})
	results := make(chan error, 2)
	for _, ch := range []string{"ch", "ch2"} {
		go func() {
			tx := &fakeTx{sim: l.sim("t"), channel: ch, txid: "t", name: "cc"}
			resp, _, err := r.Execute(context.Background(), "cc:1", f.conn(), tx, input("x"), false)
			if err == nil && string(resp.GetPayload()) != ch {
				err = fmt.Errorf("payload %q, want %q", resp.GetPayload(), ch)
			}
			results <- err
		}()
	}
	// The same tx id on another channel is a different transaction, so both run.
	<-started
	<-started
	tx := &fakeTx{sim: l.sim("t"), channel: "ch", txid: "t", name: "cc"}
	_, _, err := r.Execute(context.Background(), "cc:1", f.conn(), tx, input("x"), false)
	if err == nil || !strings.Contains(err.Error(), "already running") {
		t.Fatalf("duplicate transaction: %v", err)
	}
	close(release)
	for i := 0; i < 2; i++ {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
}

// rawCC serves Connect with an arbitrary function, for broken handshakes.
type rawCC struct {
	pb.UnimplementedChaincodeServer
	connect func(stream pb.Chaincode_ConnectServer) error
}

func (r *rawCC) Connect(stream pb.Chaincode_ConnectServer) error { return r.connect(stream) }

func TestExecuteBrokenHandshake(t *testing.T) {
	register := func(payload []byte, typ pb.ChaincodeMessage_Type) func(pb.Chaincode_ConnectServer) error {
		return func(s pb.Chaincode_ConnectServer) error {
			if err := s.Send(&pb.ChaincodeMessage{Type: typ, Payload: payload}); err != nil {
				return err
			}
			<-s.Context().Done()
			return nil
		}
	}
	good, _ := proto.Marshal(&pb.ChaincodeID{Name: "cc:1"})
	for _, tc := range []struct {
		name    string
		connect func(pb.Chaincode_ConnectServer) error
		want    string
	}{
		{"silent", func(s pb.Chaincode_ConnectServer) error { <-s.Context().Done(); return nil }, "waiting for REGISTER: no message within"},
		{"hang up", func(pb.Chaincode_ConnectServer) error { return nil }, "waiting for REGISTER"},
		{"not register", register(good, pb.ChaincodeMessage_COMPLETED), "first message is COMPLETED, want REGISTER"},
		{"bad payload", register([]byte{0xff}, pb.ChaincodeMessage_REGISTER), "not a ChaincodeID"},
		{"empty name", register(nil, pb.ChaincodeMessage_REGISTER), `registered as ""`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lis, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			srv := comm.NewGRPCServer(nil, comm.ServerOptions{})
			pb.RegisterChaincodeServer(srv, &rawCC{connect: tc.connect})
			go srv.Serve(lis)
			defer srv.Stop()
			l := newTestLedger(t)
			r := newTestRuntime(t, Options{StartupTimeout: 300 * time.Millisecond})
			tx := &fakeTx{sim: l.sim("t"), channel: "ch", txid: "t", name: "cc"}
			_, _, err = r.Execute(context.Background(), "cc:1", &Connection{Address: lis.Addr().String(), DialTimeout: time.Second}, tx, input("x"), false)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}
