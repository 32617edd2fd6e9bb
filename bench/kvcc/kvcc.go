// Package kvcc is a minimal chaincode server for benchmarks: it speaks the
// chaincode side of Fabric's shim protocol (protos.Chaincode/Connect, as a
// chaincode-as-a-service server) and knows two functions, put(key, value)
// and get(key). It exists so a benchmark can deploy chaincode without a
// Node.js runtime and without the start-up cost of fabric-shim.
package kvcc

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"weft/comm"
	pb "weft/wire/peer"
)

// RequestTimeout bounds the peer's answer to one state request; a peer
// that never answers would otherwise pin the transaction's goroutine.
const RequestTimeout = 30 * time.Second

// Server is a running chaincode server.
type Server struct {
	ccid string
	lis  net.Listener
	srv  *grpc.Server

	txs    atomic.Uint64
	failed atomic.Uint64
	pb.UnimplementedChaincodeServer
}

// Start listens on addr (e.g. "127.0.0.1:0") in plaintext and serves as
// Serve does.
func Start(addr, ccid string) (*Server, error) {
	if ccid == "" {
		return nil, errors.New("kvcc: ccid is empty")
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("kvcc: listen address %q: %w", addr, err)
	}
	return Serve(lis, ccid)
}

// Serve serves plaintext gRPC on lis and registers every stream a peer
// opens under ccid, which must be the package ID the peer installed (the
// CHAINCODE_ID of a fabric-shim server). Listening first lets the caller
// put the address into the package whose ID it then passes here.
func Serve(lis net.Listener, ccid string) (*Server, error) {
	if lis == nil {
		return nil, errors.New("kvcc: listener is nil")
	}
	if ccid == "" {
		return nil, errors.New("kvcc: ccid is empty")
	}
	s := &Server{ccid: ccid, lis: lis, srv: comm.NewGRPCServer(nil, comm.ServerOptions{})}
	pb.RegisterChaincodeServer(s.srv, s)
	go s.srv.Serve(lis)
	return s, nil
}

// Addr is the bound listen address.
func (s *Server) Addr() string { return s.lis.Addr().String() }

// Transactions is the number of transactions completed successfully.
func (s *Server) Transactions() uint64 { return s.txs.Load() }

// Failed is the number of transactions answered with an error status.
func (s *Server) Failed() uint64 { return s.failed.Load() }

// Stop closes the listener and every stream.
func (s *Server) Stop() { s.srv.Stop() }

// Connect serves one peer stream: REGISTER first, then any number of
// concurrent transactions, each in its own goroutine.
func (s *Server) Connect(stream pb.Chaincode_ConnectServer) error {
	c := &conn{s: s, stream: stream, pending: map[string]chan *pb.ChaincodeMessage{}}
	id, err := proto.Marshal(&pb.ChaincodeID{Name: s.ccid})
	if err != nil {
		return err
	}
	if err := c.send(&pb.ChaincodeMessage{Type: pb.ChaincodeMessage_REGISTER, Payload: id}); err != nil {
		return fmt.Errorf("kvcc: send REGISTER: %w", err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer c.failPending()
	for {
		msg, err := stream.Recv()
		if err != nil {
			return err
		}
		switch msg.GetType() {
		case pb.ChaincodeMessage_REGISTERED, pb.ChaincodeMessage_READY, pb.ChaincodeMessage_KEEPALIVE:
			// Nothing to do: the peer may send transactions right after READY.
		case pb.ChaincodeMessage_TRANSACTION, pb.ChaincodeMessage_INIT:
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.run(msg)
			}()
		case pb.ChaincodeMessage_RESPONSE, pb.ChaincodeMessage_ERROR:
			c.deliver(msg)
		default:
			// An unknown message must not kill the stream other
			// transactions share; the peer learns of it through the log.
		}
	}
}

// conn is one peer stream. Replies to state requests are matched to their
// transaction by (channel, txid): the peer serves one request per
// transaction at a time, as fabric-shim does.
type conn struct {
	s      *Server
	stream pb.Chaincode_ConnectServer
	sendMu sync.Mutex

	mu      sync.Mutex
	pending map[string]chan *pb.ChaincodeMessage
	closed  bool
}

func txKey(m *pb.ChaincodeMessage) string { return m.GetChannelId() + "\x00" + m.GetTxid() }

func (c *conn) send(m *pb.ChaincodeMessage) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	return c.stream.Send(m)
}

func (c *conn) deliver(m *pb.ChaincodeMessage) {
	c.mu.Lock()
	ch := c.pending[txKey(m)]
	c.mu.Unlock()
	if ch != nil {
		select {
		case ch <- m:
		default: // an unexpected second reply is dropped
		}
	}
}

// failPending wakes every transaction waiting on the peer once the stream
// is gone.
func (c *conn) failPending() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for k, ch := range c.pending {
		close(ch)
		delete(c.pending, k)
	}
}

// call sends a state request for tx and waits for the peer's answer.
func (c *conn) call(tx *pb.ChaincodeMessage, typ pb.ChaincodeMessage_Type, req proto.Message) ([]byte, error) {
	payload, err := proto.Marshal(req)
	if err != nil {
		return nil, err
	}
	key := txKey(tx)
	ch := make(chan *pb.ChaincodeMessage, 1)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, errors.New("stream closed")
	}
	if _, busy := c.pending[key]; busy {
		c.mu.Unlock()
		return nil, fmt.Errorf("transaction %s already has a request pending", tx.GetTxid())
	}
	c.pending[key] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		if c.pending[key] == ch {
			delete(c.pending, key)
		}
		c.mu.Unlock()
	}()
	if err := c.send(&pb.ChaincodeMessage{Type: typ, Payload: payload, Txid: tx.GetTxid(), ChannelId: tx.GetChannelId()}); err != nil {
		return nil, fmt.Errorf("send %s: %w", typ, err)
	}
	t := time.NewTimer(RequestTimeout)
	defer t.Stop()
	select {
	case m, ok := <-ch:
		if !ok {
			return nil, errors.New("stream closed")
		}
		if m.GetType() != pb.ChaincodeMessage_RESPONSE {
			return nil, fmt.Errorf("%s: peer answered %s: %s", typ, m.GetType(), m.GetPayload())
		}
		return m.GetPayload(), nil
	case <-t.C:
		return nil, fmt.Errorf("%s: no answer from the peer within %s", typ, RequestTimeout)
	}
}

// run executes one transaction and reports it with COMPLETED; a failing
// function yields status 500, as a fabric-shim contract's error does.
func (c *conn) run(tx *pb.ChaincodeMessage) {
	resp := c.invoke(tx)
	if resp.Status >= 400 {
		c.s.failed.Add(1)
	} else {
		c.s.txs.Add(1)
	}
	b, err := proto.Marshal(resp)
	if err != nil {
		b = nil
	}
	// A failed send means the stream is gone; the peer times the
	// transaction out on its side.
	_ = c.send(&pb.ChaincodeMessage{Type: pb.ChaincodeMessage_COMPLETED, Payload: b, Txid: tx.GetTxid(), ChannelId: tx.GetChannelId()})
}

func (c *conn) invoke(tx *pb.ChaincodeMessage) *pb.Response {
	in := &pb.ChaincodeInput{}
	if err := proto.Unmarshal(tx.GetPayload(), in); err != nil {
		return failure("transaction payload is not a ChaincodeInput: %v", err)
	}
	args := in.GetArgs()
	if len(args) == 0 {
		return failure("no function name given; want put or get")
	}
	switch fn := string(args[0]); fn {
	case "put":
		if len(args) != 3 {
			return failure("put takes key and value, got %d arguments", len(args)-1)
		}
		if len(args[1]) == 0 {
			return failure("put: key is empty")
		}
		if _, err := c.call(tx, pb.ChaincodeMessage_PUT_STATE, &pb.PutState{Key: string(args[1]), Value: args[2]}); err != nil {
			return failure("put %q: %v", args[1], err)
		}
		return &pb.Response{Status: 200}
	case "get":
		if len(args) != 2 {
			return failure("get takes a key, got %d arguments", len(args)-1)
		}
		v, err := c.call(tx, pb.ChaincodeMessage_GET_STATE, &pb.GetState{Key: string(args[1])})
		if err != nil {
			return failure("get %q: %v", args[1], err)
		}
		return &pb.Response{Status: 200, Payload: v}
	default:
		return failure("unknown function %q; want put or get", fn)
	}
}

func failure(format string, args ...any) *pb.Response {
	return &pb.Response{Status: 500, Message: fmt.Sprintf(format, args...)}
}
