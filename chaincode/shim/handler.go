package shim

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"

	"google.golang.org/protobuf/proto"

	pb "weft/wire/peer"
)

// handler runs the chaincode side of one peer stream.
type handler struct {
	cc     Chaincode
	ccid   string
	stream pb.Chaincode_ConnectServer
	log    *slog.Logger

	sendMu sync.Mutex

	mu  sync.Mutex
	txs map[txKey]chan *pb.ChaincodeMessage // running transactions → their reply slot
	wg  sync.WaitGroup

	done    chan struct{} // closed when the stream is gone
	doneErr error
}

type txKey struct{ channel, txid string }

func keyOf(m *pb.ChaincodeMessage) txKey { return txKey{m.GetChannelId(), m.GetTxid()} }

// errStreamGone is what pending requests fail with once the stream ended.
var errStreamGone = errors.New("chaincode stream to the peer is closed")

func (h *handler) send(m *pb.ChaincodeMessage) error {
	h.sendMu.Lock()
	defer h.sendMu.Unlock()
	return h.stream.Send(m)
}

// run registers and then serves the stream until the peer closes it.
func (h *handler) run() error {
	defer func() {
		h.doneErr = errStreamGone
		close(h.done)
		// Transactions still running fail their next request; wait for
		// them so that Connect does not return under their feet.
		h.wg.Wait()
	}()
	id, err := proto.Marshal(&pb.ChaincodeID{Name: h.ccid})
	if err != nil {
		return err
	}
	if err := h.send(&pb.ChaincodeMessage{Type: pb.ChaincodeMessage_REGISTER, Payload: id}); err != nil {
		return fmt.Errorf("send REGISTER: %w", err)
	}
	for _, want := range []pb.ChaincodeMessage_Type{pb.ChaincodeMessage_REGISTERED, pb.ChaincodeMessage_READY} {
		m, err := h.stream.Recv()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", want, err)
		}
		if m.GetType() != want {
			// The peer refuses a wrong package ID with ERROR here.
			return fmt.Errorf("peer answered REGISTER of %q with %s (%s), want %s", h.ccid, m.GetType(), m.GetPayload(), want)
		}
	}
	h.log.Info("registered with peer", "ccid", h.ccid)
	for {
		m, err := h.stream.Recv()
		if err != nil {
			return err
		}
		h.dispatch(m)
	}
}

func (h *handler) dispatch(m *pb.ChaincodeMessage) {
	switch t := m.GetType(); t {
	case pb.ChaincodeMessage_TRANSACTION, pb.ChaincodeMessage_INIT:
		reply := make(chan *pb.ChaincodeMessage, 1)
		h.mu.Lock()
		_, dup := h.txs[keyOf(m)]
		if !dup {
			h.txs[keyOf(m)] = reply
			h.wg.Add(1)
		}
		h.mu.Unlock()
		if dup {
			h.fail(m, fmt.Errorf("transaction %s on channel %q is already running", m.GetTxid(), m.GetChannelId()))
			return
		}
		go h.execute(m, reply)
	case pb.ChaincodeMessage_RESPONSE, pb.ChaincodeMessage_ERROR:
		h.mu.Lock()
		reply := h.txs[keyOf(m)]
		h.mu.Unlock()
		if reply == nil {
			h.log.Warn("reply for a transaction that is not running", "type", t, "txid", m.GetTxid(), "channel", m.GetChannelId())
			return
		}
		select {
		case reply <- m:
		default:
			h.log.Warn("unrequested reply from peer", "type", t, "txid", m.GetTxid())
		}
	case pb.ChaincodeMessage_KEEPALIVE, pb.ChaincodeMessage_REGISTERED, pb.ChaincodeMessage_READY:
		// Nothing to do: liveness is HTTP/2's business, and a repeated
		// handshake message changes nothing.
	default:
		h.log.Warn("unexpected message from peer", "type", t, "txid", m.GetTxid())
	}
}

// fail answers a transaction message with ERROR.
func (h *handler) fail(m *pb.ChaincodeMessage, err error) {
	if serr := h.send(&pb.ChaincodeMessage{Type: pb.ChaincodeMessage_ERROR, Payload: []byte(err.Error()),
		Txid: m.GetTxid(), ChannelId: m.GetChannelId()}); serr != nil {
		h.log.Warn("send ERROR failed", "txid", m.GetTxid(), "err", serr)
	}
}

// execute runs one transaction and sends its COMPLETED or ERROR.
func (h *handler) execute(m *pb.ChaincodeMessage, reply chan *pb.ChaincodeMessage) {
	defer func() {
		h.mu.Lock()
		delete(h.txs, keyOf(m))
		h.mu.Unlock()
		h.wg.Done()
	}()
	s, err := newStub(h, m, reply)
	if err != nil {
		h.fail(m, fmt.Errorf("%s %s: %w", m.GetType(), m.GetTxid(), err))
		return
	}
	resp, err := h.call(s, m.GetType() == pb.ChaincodeMessage_INIT)
	if err != nil {
		h.fail(m, err)
		return
	}
	payload, err := proto.Marshal(resp)
	if err != nil {
		h.fail(m, fmt.Errorf("marshal response: %w", err))
		return
	}
	done := &pb.ChaincodeMessage{Type: pb.ChaincodeMessage_COMPLETED, Payload: payload,
		Txid: m.GetTxid(), ChannelId: m.GetChannelId(), ChaincodeEvent: s.event()}
	if err := h.send(done); err != nil {
		h.log.Warn("send COMPLETED failed", "txid", m.GetTxid(), "err", err)
	}
}

// call runs Init or Invoke; a panic becomes an error rather than killing
// every other transaction of the process.
func (h *handler) call(s *stub, isInit bool) (resp *pb.Response, err error) {
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("chaincode panicked", "txid", s.txid, "panic", p, "stack", string(debug.Stack()))
			resp, err = nil, fmt.Errorf("chaincode panicked: %v", p)
		}
	}()
	if isInit {
		resp = h.cc.Init(s)
	} else {
		resp = h.cc.Invoke(s)
	}
	if resp == nil {
		return nil, errors.New("chaincode returned no response")
	}
	return resp, nil
}

// request sends one request of transaction s and waits for the peer's answer.
func (h *handler) request(s *stub, t pb.ChaincodeMessage_Type, req proto.Message) ([]byte, error) {
	payload, err := proto.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("%s: marshal request: %w", t, err)
	}
	// The peer serves one request per transaction at a time.
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	if err := h.send(&pb.ChaincodeMessage{Type: t, Payload: payload, Txid: s.txid, ChannelId: s.channel}); err != nil {
		return nil, fmt.Errorf("%s: send: %w", t, err)
	}
	select {
	case m := <-s.reply:
		switch m.GetType() {
		case pb.ChaincodeMessage_RESPONSE:
			return m.GetPayload(), nil
		case pb.ChaincodeMessage_ERROR:
			return nil, errors.New(string(m.GetPayload()))
		default:
			return nil, fmt.Errorf("%s: unexpected reply %s", t, m.GetType())
		}
	case <-h.done:
		return nil, fmt.Errorf("%s: %w", t, h.doneErr)
	}
}
