package chaincode

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"weft/comm"
	"weft/ledger/statedb"
	"weft/peer/txsim"
	"weft/wire/ledger/queryresult"
	"weft/wire/ledger/rwset"
	"weft/wire/ledger/rwset/kvrwset"
	pb "weft/wire/peer"
)

// testLedger is a minimal committer over a real state database: it applies
// the writes of one simulated transaction per block and keeps what the
// history index needs (tx id, value, time) by version.
type testLedger struct {
	t     *testing.T
	db    *statedb.DB
	mu    sync.Mutex
	block uint64
	mods  map[string]*queryresult.KeyModification // ns \x00 key \x00 version
}

func newTestLedger(t *testing.T) *testLedger {
	t.Helper()
	db, err := statedb.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &testLedger{t: t, db: db, mods: map[string]*queryresult.KeyModification{}}
}

func modKey(ns, key string, v statedb.Version) string {
	return fmt.Sprintf("%s\x00%s\x00%d.%d", ns, key, v.BlockNum, v.TxNum)
}

func (l *testLedger) sim(txid string) *txsim.Simulator {
	return txsim.New(l.db, txid, txsim.WithHistory(l.history))
}

func (l *testLedger) history(ns, key string) ([]*queryresult.KeyModification, error) {
	vs, err := l.db.History(ns, key)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*queryresult.KeyModification
	for _, v := range vs {
		m, ok := l.mods[modKey(ns, key, v)]
		if !ok {
			return nil, fmt.Errorf("no history record for %s/%q at %v", ns, key, v)
		}
		out = append(out, m)
	}
	return out, nil
}

// commit applies the writes of rws as the only transaction of a new block.
func (l *testLedger) commit(txid string, rws *rwset.TxReadWriteSet) {
	l.t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.block++
	v := statedb.Version{BlockNum: l.block}
	b := statedb.NewUpdateBatch()
	ts := timestamppb.New(time.Unix(1700000000+int64(l.block), 0))
	for _, ns := range rws.GetNsRwset() {
		kv := &kvrwset.KVRWSet{}
		if err := proto.Unmarshal(ns.GetRwset(), kv); err != nil {
			l.t.Fatal(err)
		}
		mds := map[string][]byte{}
		for _, mw := range kv.GetMetadataWrites() {
			md, err := txsim.MarshalMetadataEntries(mw.GetEntries())
			if err != nil {
				l.t.Fatal(err)
			}
			mds[mw.GetKey()] = md
		}
		written := map[string]bool{}
		for _, w := range kv.GetWrites() {
			written[w.GetKey()] = true
			if w.GetIsDelete() {
				b.Delete(ns.GetNamespace(), w.GetKey(), v)
			} else {
				b.Put(ns.GetNamespace(), w.GetKey(), w.GetValue(), mds[w.GetKey()], v)
			}
			l.mods[modKey(ns.GetNamespace(), w.GetKey(), v)] = &queryresult.KeyModification{
				TxId: txid, Value: w.GetValue(), Timestamp: ts, IsDelete: w.GetIsDelete()}
		}
		// A metadata-only write keeps the committed value.
		for key, md := range mds {
			if written[key] {
				continue
			}
			cur, err := l.db.Get(ns.GetNamespace(), key)
			if err != nil || cur == nil {
				l.t.Fatalf("metadata write of %q without a value: %v", key, err)
			}
			b.Put(ns.GetNamespace(), key, cur.Value, md, v)
		}
	}
	if err := l.db.Commit(b, l.block); err != nil {
		l.t.Fatal(err)
	}
}

// put commits plain key/values to ns in one block.
func (l *testLedger) put(ns string, kvs ...string) {
	l.t.Helper()
	l.mu.Lock()
	l.block++
	blk := l.block
	l.mu.Unlock()
	b := statedb.NewUpdateBatch()
	for i := 0; i+1 < len(kvs); i += 2 {
		b.Put(ns, kvs[i], []byte(kvs[i+1]), nil, statedb.Version{BlockNum: blk})
	}
	if err := l.db.Commit(b, blk); err != nil {
		l.t.Fatal(err)
	}
}

// fakeTx is the TxContext of a test invocation.
type fakeTx struct {
	sim           *txsim.Simulator
	channel, txid string
	name          string
	sp            *pb.SignedProposal
	invoke        func(ctx context.Context, name string, args [][]byte, channel string) (*pb.Response, *pb.ChaincodeEvent, error)
}

func (f *fakeTx) Simulator() *txsim.Simulator        { return f.sim }
func (f *fakeTx) ChannelID() string                  { return f.channel }
func (f *fakeTx) TxID() string                       { return f.txid }
func (f *fakeTx) SignedProposal() *pb.SignedProposal { return f.sp }
func (f *fakeTx) ChaincodeName() string              { return f.name }
func (f *fakeTx) InvokeChaincode(ctx context.Context, name string, args [][]byte, channel string) (*pb.Response, *pb.ChaincodeEvent, error) {
	if f.invoke == nil {
		return nil, nil, fmt.Errorf("no chaincode %s", name)
	}
	return f.invoke(ctx, name, args, channel)
}

// fakeCC is a chaincode server written against the generated gRPC API. It
// registers as regName and runs run for every TRANSACTION or INIT.
type fakeCC struct {
	t       *testing.T
	regName string
	run     func(s *fakeStub)
	addr    string

	mu       sync.Mutex
	connects int
	received []pb.ChaincodeMessage_Type
	ready    []byte
	conns    []*fakeConn
	pb.UnimplementedChaincodeServer
}

type fakeConn struct {
	f       *fakeCC
	stream  pb.Chaincode_ConnectServer
	sendMu  sync.Mutex
	mu      sync.Mutex
	pending map[string]chan *pb.ChaincodeMessage
	quit    chan struct{}
	once    sync.Once
}

func startFakeCC(t *testing.T, regName string, run func(s *fakeStub)) *fakeCC {
	t.Helper()
	return startFakeCCTLS(t, regName, run, nil)
}

func startFakeCCTLS(t *testing.T, regName string, run func(s *fakeStub), srvTLS *tlsFiles) *fakeCC {
	t.Helper()
	f := &fakeCC{t: t, regName: regName, run: run}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var srv *grpc.Server
	if srvTLS != nil {
		conf, err := comm.ServerTLSConfig(srvTLS.serverCert, srvTLS.serverKey, [][]byte{srvTLS.ca}, true)
		if err != nil {
			t.Fatal(err)
		}
		srv = comm.NewGRPCServer(conf, comm.ServerOptions{})
	} else {
		srv = comm.NewGRPCServer(nil, comm.ServerOptions{})
	}
	pb.RegisterChaincodeServer(srv, f)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	f.addr = lis.Addr().String()
	return f
}

func (f *fakeCC) conn() *Connection {
	return &Connection{Address: f.addr, DialTimeout: 2 * time.Second}
}

func (f *fakeCC) connectCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.connects
}

func (f *fakeCC) receivedTypes() []pb.ChaincodeMessage_Type {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]pb.ChaincodeMessage_Type(nil), f.received...)
}

func (f *fakeCC) Connect(stream pb.Chaincode_ConnectServer) error {
	c := &fakeConn{f: f, stream: stream, pending: map[string]chan *pb.ChaincodeMessage{}, quit: make(chan struct{})}
	f.mu.Lock()
	f.connects++
	f.conns = append(f.conns, c)
	f.mu.Unlock()
	id, _ := proto.Marshal(&pb.ChaincodeID{Name: f.regName})
	if err := c.send(&pb.ChaincodeMessage{Type: pb.ChaincodeMessage_REGISTER, Payload: id}); err != nil {
		return err
	}
	for _, want := range []pb.ChaincodeMessage_Type{pb.ChaincodeMessage_REGISTERED, pb.ChaincodeMessage_READY} {
		m, err := stream.Recv()
		if err != nil {
			return err
		}
		f.record(m.GetType())
		if m.GetType() != want {
			return status.Errorf(codes.FailedPrecondition, "got %s, want %s", m.GetType(), want)
		}
		if want == pb.ChaincodeMessage_READY {
			f.mu.Lock()
			f.ready = m.GetPayload()
			f.mu.Unlock()
		}
	}
	recvErr := make(chan error, 1)
	go func() {
		for {
			m, err := stream.Recv()
			if err != nil {
				recvErr <- err
				return
			}
			f.record(m.GetType())
			switch m.GetType() {
			case pb.ChaincodeMessage_TRANSACTION, pb.ChaincodeMessage_INIT:
				go f.run(&fakeStub{c: c, msg: m})
			case pb.ChaincodeMessage_RESPONSE, pb.ChaincodeMessage_ERROR:
				c.mu.Lock()
				ch := c.pending[m.GetChannelId()+"/"+m.GetTxid()]
				c.mu.Unlock()
				if ch != nil {
					ch <- m
				}
			}
		}
	}()
	select {
	case <-c.quit:
		return status.Error(codes.Unavailable, "dropped by test")
	case err := <-recvErr:
		return err
	}
}

func (f *fakeCC) record(t pb.ChaincodeMessage_Type) {
	f.mu.Lock()
	f.received = append(f.received, t)
	f.mu.Unlock()
}

func (c *fakeConn) send(m *pb.ChaincodeMessage) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	return c.stream.Send(m)
}

// fakeStub is the chaincode side of one transaction.
type fakeStub struct {
	c   *fakeConn
	msg *pb.ChaincodeMessage
}

func (s *fakeStub) args() []string {
	in := &pb.ChaincodeInput{}
	if err := proto.Unmarshal(s.msg.GetPayload(), in); err != nil {
		s.c.f.t.Errorf("TRANSACTION payload: %v", err)
	}
	var out []string
	for _, a := range in.GetArgs() {
		out = append(out, string(a))
	}
	return out
}

// call sends a request and waits for the peer's RESPONSE or ERROR.
func (s *fakeStub) call(typ pb.ChaincodeMessage_Type, req proto.Message) *pb.ChaincodeMessage {
	var payload []byte
	if req != nil {
		var err error
		if payload, err = proto.Marshal(req); err != nil {
			s.c.f.t.Error(err)
		}
	}
	return s.callRaw(typ, payload)
}

func (s *fakeStub) callRaw(typ pb.ChaincodeMessage_Type, payload []byte) *pb.ChaincodeMessage {
	key := s.msg.GetChannelId() + "/" + s.msg.GetTxid()
	ch := make(chan *pb.ChaincodeMessage, 1)
	s.c.mu.Lock()
	s.c.pending[key] = ch
	s.c.mu.Unlock()
	defer func() {
		s.c.mu.Lock()
		delete(s.c.pending, key)
		s.c.mu.Unlock()
	}()
	if err := s.c.send(&pb.ChaincodeMessage{Type: typ, Payload: payload, Txid: s.msg.GetTxid(), ChannelId: s.msg.GetChannelId()}); err != nil {
		return &pb.ChaincodeMessage{Type: pb.ChaincodeMessage_ERROR, Payload: []byte("send: " + err.Error())}
	}
	select {
	case m := <-ch:
		return m
	case <-time.After(5 * time.Second):
		return &pb.ChaincodeMessage{Type: pb.ChaincodeMessage_ERROR, Payload: []byte("test: no answer from the peer")}
	}
}

func (s *fakeStub) complete(resp *pb.Response, ev *pb.ChaincodeEvent) {
	b, _ := proto.Marshal(resp)
	_ = s.c.send(&pb.ChaincodeMessage{Type: pb.ChaincodeMessage_COMPLETED, Payload: b, Txid: s.msg.GetTxid(),
		ChannelId: s.msg.GetChannelId(), ChaincodeEvent: ev})
}

func (s *fakeStub) ok(payload string) {
	s.complete(&pb.Response{Status: 200, Payload: []byte(payload)}, nil)
}

func (s *fakeStub) fail(text string) {
	_ = s.c.send(&pb.ChaincodeMessage{Type: pb.ChaincodeMessage_ERROR, Payload: []byte(text), Txid: s.msg.GetTxid(), ChannelId: s.msg.GetChannelId()})
}

// drop ends the stream from the chaincode side.
func (s *fakeStub) drop() { s.c.once.Do(func() { close(s.c.quit) }) }

func newTestRuntime(t *testing.T, opts Options) *Runtime {
	t.Helper()
	if opts.ExecuteTimeout == 0 {
		opts.ExecuteTimeout = 5 * time.Second
	}
	if opts.StartupTimeout == 0 {
		opts.StartupTimeout = 2 * time.Second
	}
	r := NewRuntime(opts)
	t.Cleanup(func() { r.Close() })
	return r
}

func input(args ...string) *pb.ChaincodeInput {
	in := &pb.ChaincodeInput{}
	for _, a := range args {
		in.Args = append(in.Args, []byte(a))
	}
	return in
}

// nsWrites returns the writes of namespace ns in rws as key → value ("<del>" for deletes).
func nsWrites(t *testing.T, rws *rwset.TxReadWriteSet, ns string) (*kvrwset.KVRWSet, map[string]string) {
	t.Helper()
	out := map[string]string{}
	for _, n := range rws.GetNsRwset() {
		if n.GetNamespace() != ns {
			continue
		}
		kv := &kvrwset.KVRWSet{}
		if err := proto.Unmarshal(n.GetRwset(), kv); err != nil {
			t.Fatal(err)
		}
		for _, w := range kv.GetWrites() {
			if w.GetIsDelete() {
				out[w.GetKey()] = "<del>"
			} else {
				out[w.GetKey()] = string(w.GetValue())
			}
		}
		return kv, out
	}
	return &kvrwset.KVRWSet{}, out
}
