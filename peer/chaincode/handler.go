package chaincode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"weft/comm"
	pb "weft/wire/peer"
)

// handler owns the stream to one chaincode server.
type handler struct {
	r    *Runtime
	ccid string
	log  *slog.Logger

	started  chan struct{} // closed once connect finished; startErr then final
	startErr error

	done      chan struct{} // closed when the stream is gone
	doneErr   error
	closeOnce sync.Once

	mu     sync.Mutex
	cc     *grpc.ClientConn
	cancel context.CancelFunc
	txs    map[txKey]*txState

	sendMu sync.Mutex
	stream pb.Chaincode_ConnectClient

	iterSeq atomic.Uint64
}

type txKey struct{ channel, txid string }

func newHandler(r *Runtime, ccid string) *handler {
	return &handler{
		r: r, ccid: ccid, log: r.log.With("ccid", ccid),
		started: make(chan struct{}), done: make(chan struct{}),
		txs: map[txKey]*txState{},
	}
}

func (h *handler) markStarted(err error) {
	h.startErr = err
	close(h.started)
}

// connect dials the chaincode server and performs the registration
// handshake: REGISTER (name must equal ccid) → REGISTERED, READY.
func (h *handler) connect(ctx context.Context, conn *Connection) error {
	if err := conn.Validate(); err != nil {
		return fmt.Errorf("connection: %w", err)
	}
	tlsConf, err := conn.tlsConfig()
	if err != nil {
		return err
	}
	timeout := conn.DialTimeout
	if timeout <= 0 {
		timeout = h.r.opts.DialTimeout
	}
	dctx, cancelDial := context.WithTimeout(ctx, timeout)
	cc, err := comm.Dial(dctx, conn.Address, tlsConf)
	cancelDial()
	if err != nil {
		return fmt.Errorf("chaincode server: %w", err)
	}
	// The stream outlives the Execute that opened it.
	sctx, cancel := context.WithCancel(context.Background())
	h.mu.Lock()
	select {
	case <-h.done: // closed (runtime Close) while dialing
		h.mu.Unlock()
		cancel()
		cc.Close()
		return h.doneErr
	default:
	}
	h.cc, h.cancel = cc, cancel
	h.mu.Unlock()
	stream, err := pb.NewChaincodeClient(cc).Connect(sctx)
	if err != nil {
		h.close(err)
		return fmt.Errorf("chaincode server %s: open stream: %w", conn.Address, err)
	}
	h.stream = stream
	if err := h.register(ctx); err != nil {
		h.close(err)
		return fmt.Errorf("chaincode server %s: %w", conn.Address, err)
	}
	go h.recvLoop()
	h.log.Info("chaincode registered", "address", conn.Address)
	return nil
}

func (h *handler) register(ctx context.Context) error {
	msg, err := h.recvWithin(ctx, h.r.opts.StartupTimeout)
	if err != nil {
		return fmt.Errorf("waiting for REGISTER: %w", err)
	}
	if msg.GetType() != pb.ChaincodeMessage_REGISTER {
		return fmt.Errorf("first message is %s, want REGISTER", msg.GetType())
	}
	id := &pb.ChaincodeID{}
	if err := proto.Unmarshal(msg.GetPayload(), id); err != nil {
		return fmt.Errorf("REGISTER payload is not a ChaincodeID: %w", err)
	}
	if id.GetName() != h.ccid {
		err := fmt.Errorf("chaincode registered as %q, but the peer launched %q (CHAINCODE_ID must be the package ID)", id.GetName(), h.ccid)
		_ = h.send(&pb.ChaincodeMessage{Type: pb.ChaincodeMessage_ERROR, Payload: []byte(err.Error())})
		return err
	}
	if err := h.send(&pb.ChaincodeMessage{Type: pb.ChaincodeMessage_REGISTERED}); err != nil {
		return fmt.Errorf("send REGISTERED: %w", err)
	}
	// Fabric v3.1 announces batching support here; older shims ignore it.
	params, err := proto.Marshal(&pb.ChaincodeAdditionalParams{
		UseWriteBatch: true, MaxSizeWriteBatch: maxBatchKeys,
		UseGetMultipleKeys: true, MaxSizeGetMultipleKeys: maxBatchKeys,
	})
	if err != nil {
		return err
	}
	if err := h.send(&pb.ChaincodeMessage{Type: pb.ChaincodeMessage_READY, Payload: params}); err != nil {
		return fmt.Errorf("send READY: %w", err)
	}
	return nil
}

// recvWithin receives one message, giving up after d or when ctx ends.
func (h *handler) recvWithin(ctx context.Context, d time.Duration) (*pb.ChaincodeMessage, error) {
	type result struct {
		msg *pb.ChaincodeMessage
		err error
	}
	ch := make(chan result, 1)
	go func() {
		m, err := h.stream.Recv()
		ch <- result{m, err}
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case res := <-ch:
		return res.msg, res.err
	case <-t.C:
		return nil, fmt.Errorf("no message within %s", d)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (h *handler) send(msg *pb.ChaincodeMessage) error {
	h.sendMu.Lock()
	defer h.sendMu.Unlock()
	return h.stream.Send(msg)
}

// close tears the stream down; pending transactions fail.
func (h *handler) close(err error) {
	h.closeOnce.Do(func() {
		if err == nil {
			err = errors.New("closed")
		}
		h.doneErr = err
		close(h.done)
		h.r.forget(h)
		h.mu.Lock()
		if h.cancel != nil {
			h.cancel()
		}
		if h.cc != nil {
			h.cc.Close()
		}
		h.mu.Unlock()
		h.log.Warn("chaincode stream closed", "err", err)
	})
}

func (h *handler) recvLoop() {
	for {
		msg, err := h.stream.Recv()
		if err != nil {
			h.close(fmt.Errorf("receive: %w", err))
			return
		}
		h.dispatch(msg)
	}
}

func (h *handler) dispatch(msg *pb.ChaincodeMessage) {
	switch t := msg.GetType(); t {
	case pb.ChaincodeMessage_COMPLETED, pb.ChaincodeMessage_ERROR:
		tx := h.lookup(msg)
		if tx == nil {
			h.log.Warn("result for a transaction that is not running (timed out?)", "type", t, "txid", msg.GetTxid(), "channel", msg.GetChannelId())
			return
		}
		select {
		case tx.final <- msg:
		default: // a second result for the same transaction is ignored
		}
	case pb.ChaincodeMessage_KEEPALIVE:
		// Ignored, as Fabric does; the runtime never sends one.
	default:
		fn, ok := requestHandlers[t]
		if !ok {
			h.log.Warn("unexpected message from chaincode", "type", t, "txid", msg.GetTxid())
			go h.reply(msg, nil, fmt.Errorf("message type %s is not accepted from a chaincode", t))
			return
		}
		go h.serve(msg, fn)
	}
}

func (h *handler) lookup(msg *pb.ChaincodeMessage) *txState {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.txs[txKey{msg.GetChannelId(), msg.GetTxid()}]
}

// serve answers one shim request from its transaction's context.
func (h *handler) serve(msg *pb.ChaincodeMessage, fn requestFunc) {
	tx := h.lookup(msg)
	if tx == nil {
		h.reply(msg, nil, fmt.Errorf("no transaction context for channel %q", msg.GetChannelId()))
		return
	}
	if !tx.busy.CompareAndSwap(false, true) {
		h.reply(msg, nil, errors.New("another request of this transaction is still pending"))
		return
	}
	payload, err := h.call(tx, msg, fn)
	tx.busy.Store(false)
	h.reply(msg, payload, err)
}

func (h *handler) call(tx *txState, msg *pb.ChaincodeMessage, fn requestFunc) (payload []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("panic while serving chaincode request", "type", msg.GetType(), "txid", msg.GetTxid(), "panic", p)
			payload, err = nil, errors.New("internal error")
		}
	}()
	return fn(tx, msg)
}

func (h *handler) reply(req *pb.ChaincodeMessage, payload []byte, err error) {
	resp := &pb.ChaincodeMessage{Type: pb.ChaincodeMessage_RESPONSE, Payload: payload, Txid: req.GetTxid(), ChannelId: req.GetChannelId()}
	if err != nil {
		resp.Type = pb.ChaincodeMessage_ERROR
		resp.Payload = []byte(fmt.Sprintf("%s failed: transaction ID: %s: %v", req.GetType(), req.GetTxid(), err))
	}
	if serr := h.send(resp); serr != nil {
		h.log.Warn("send to chaincode failed", "type", resp.Type, "txid", req.GetTxid(), "err", serr)
	}
}

// errNotSent marks failures after which the transaction certainly did not
// reach the chaincode, so Execute may retry on a fresh stream.
var errNotSent = errors.New("transaction not sent")

// execute registers the transaction, sends msg and waits for its result.
func (h *handler) execute(ctx context.Context, ns string, tc TxContext, msg *pb.ChaincodeMessage, timeout time.Duration) (*pb.ChaincodeMessage, error) {
	key := txKey{msg.GetChannelId(), msg.GetTxid()}
	tx := newTxState(h, ctx, ns, tc)
	h.mu.Lock()
	if _, dup := h.txs[key]; dup {
		h.mu.Unlock()
		return nil, fmt.Errorf("transaction %s on channel %q is already running on this chaincode", key.txid, key.channel)
	}
	h.txs[key] = tx
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.txs, key)
		h.mu.Unlock()
		tx.closeIterators()
	}()
	select {
	case <-h.done:
		return nil, fmt.Errorf("%w: %w: %v", errNotSent, ErrStreamTerminated, h.doneErr)
	default:
	}
	if err := h.send(msg); err != nil {
		return nil, fmt.Errorf("%w: %w: send: %v", errNotSent, ErrStreamTerminated, err)
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case m := <-tx.final:
		return m, nil
	case <-t.C:
		return nil, fmt.Errorf("%w (%s)", ErrExecuteTimeout, timeout)
	case <-h.done:
		return nil, fmt.Errorf("%w: %v", ErrStreamTerminated, h.doneErr)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
