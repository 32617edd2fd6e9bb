package chaincode

import (
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"weft/comm"
	pb "weft/wire/peer"
)

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
