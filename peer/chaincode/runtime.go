package chaincode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"weft/peer/txsim"
	pb "weft/wire/peer"
)

// Defaults taken from Fabric's sample core.yaml.
const (
	DefaultExecuteTimeout  = 30 * time.Second
	DefaultStartupTimeout  = 30 * time.Second
	DefaultTotalQueryLimit = 100000
	// queryBatchSize is how many results one QueryResponse carries for
	// iterators without explicit pagination.
	queryBatchSize = 100
	// maxBatchKeys is announced in READY: the most records a shim may put
	// into one WRITE_BATCH_STATE or GET_STATE_MULTIPLE.
	maxBatchKeys = 1000
)

// TxContext is what the runtime needs from the peer for one invocation.
//
// The runtime also needs the chaincode name, which is the state namespace.
// It is taken, in this order, from a ChaincodeName() string method of the
// TxContext, from the context passed by the runtime to InvokeChaincode
// (so an Execute for a chaincode-to-chaincode call made with that context
// finds the callee's name), or from the chaincode id in the signed proposal.
type TxContext interface {
	Simulator() *txsim.Simulator
	ChannelID() string
	TxID() string
	SignedProposal() *pb.SignedProposal
	// InvokeChaincode runs a chaincode-to-chaincode call. channel is the
	// target channel, never empty (the caller's channel when the chaincode
	// named none). An error is reported to the calling chaincode as ERROR.
	InvokeChaincode(ctx context.Context, name string, args [][]byte, channel string) (*pb.Response, *pb.ChaincodeEvent, error)
}

// Options configure a Runtime.
type Options struct {
	Logger *slog.Logger
	// ExecuteTimeout bounds one transaction (default 30s).
	ExecuteTimeout time.Duration
	// DialTimeout applies when connection.json gives none (default 3s).
	DialTimeout time.Duration
	// StartupTimeout bounds the wait for the chaincode's REGISTER after
	// the stream opened (default 30s).
	StartupTimeout time.Duration
	// TotalQueryLimit caps the results of one unpaginated query (default 100000).
	TotalQueryLimit int32
}

// Runtime runs transactions on chaincode servers, one stream per ccid.
type Runtime struct {
	opts Options
	log  *slog.Logger

	mu       sync.Mutex
	handlers map[string]*handler
	closed   bool
}

// NewRuntime returns a runtime; streams are opened by Execute on demand.
func NewRuntime(opts Options) *Runtime {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ExecuteTimeout <= 0 {
		opts.ExecuteTimeout = DefaultExecuteTimeout
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = DefaultConnDialTimeout
	}
	if opts.StartupTimeout <= 0 {
		opts.StartupTimeout = DefaultStartupTimeout
	}
	if opts.TotalQueryLimit <= 0 {
		opts.TotalQueryLimit = DefaultTotalQueryLimit
	}
	return &Runtime{opts: opts, log: opts.Logger, handlers: map[string]*handler{}}
}

// Errors returned by Execute, for callers that want to tell them apart.
var (
	ErrExecuteTimeout   = errors.New("timeout expired while executing transaction")
	ErrStreamTerminated = errors.New("chaincode stream terminated")
	ErrRuntimeClosed    = errors.New("chaincode runtime closed")
)

// Execute sends one transaction (INIT when isInit) to the chaincode ccid and
// serves its state requests from tc until it completes. A chaincode that
// answers ERROR yields a Response with status 500 and the error text; the
// returned error is for failures to run the chaincode at all (dial,
// registration, timeout, stream loss).
func (r *Runtime) Execute(ctx context.Context, ccid string, conn *Connection, tc TxContext, input *pb.ChaincodeInput, isInit bool) (*pb.Response, *pb.ChaincodeEvent, error) {
	if ccid == "" {
		return nil, nil, errors.New("execute: ccid is empty")
	}
	if conn == nil {
		return nil, nil, fmt.Errorf("execute %s: connection is nil", ccid)
	}
	if tc == nil || tc.Simulator() == nil {
		return nil, nil, fmt.Errorf("execute %s: transaction context or its simulator is nil", ccid)
	}
	if tc.TxID() == "" {
		return nil, nil, fmt.Errorf("execute %s: transaction id is empty", ccid)
	}
	if input == nil {
		input = &pb.ChaincodeInput{}
	}
	ns, err := namespaceOf(ctx, tc)
	if err != nil {
		return nil, nil, fmt.Errorf("execute %s: %w", ccid, err)
	}
	payload, err := proto.Marshal(input)
	if err != nil {
		return nil, nil, fmt.Errorf("execute %s: input: %w", ccid, err)
	}
	msgType := pb.ChaincodeMessage_TRANSACTION
	if isInit {
		msgType = pb.ChaincodeMessage_INIT
	}
	msg := &pb.ChaincodeMessage{
		Type: msgType, Payload: payload, Txid: tc.TxID(), ChannelId: tc.ChannelID(), Proposal: tc.SignedProposal(),
	}
	var final *pb.ChaincodeMessage
	// A stream found dead before the transaction went out is replaced once.
	for attempt := 0; ; attempt++ {
		h, herr := r.handlerFor(ctx, ccid, conn)
		if herr != nil {
			return nil, nil, fmt.Errorf("execute %s: %w", ccid, herr)
		}
		final, err = h.execute(ctx, ns, tc, msg, r.opts.ExecuteTimeout)
		if err == nil || !errors.Is(err, errNotSent) || attempt > 0 {
			break
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("execute %s: transaction %s: %w", ccid, tc.TxID(), err)
	}
	ev := final.GetChaincodeEvent()
	if ev != nil {
		// The shim leaves these to the peer.
		ev.ChaincodeId = ns
		ev.TxId = tc.TxID()
	}
	switch final.GetType() {
	case pb.ChaincodeMessage_COMPLETED:
		resp := &pb.Response{}
		if err := proto.Unmarshal(final.GetPayload(), resp); err != nil {
			return nil, nil, fmt.Errorf("execute %s: transaction %s: COMPLETED payload is not a Response: %w", ccid, tc.TxID(), err)
		}
		return resp, ev, nil
	default: // ERROR; execute lets nothing else through
		return &pb.Response{Status: 500, Message: string(final.GetPayload())}, ev, nil
	}
}

// handlerFor returns the ready handler for ccid, connecting when there is
// none. Concurrent callers share one connection attempt.
func (r *Runtime) handlerFor(ctx context.Context, ccid string, conn *Connection) (*handler, error) {
	for {
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			return nil, ErrRuntimeClosed
		}
		h, ok := r.handlers[ccid]
		if !ok {
			h = newHandler(r, ccid)
			r.handlers[ccid] = h
			r.mu.Unlock()
			err := h.connect(ctx, conn)
			if err != nil {
				r.forget(h)
			}
			h.markStarted(err)
			if err != nil {
				return nil, err
			}
			return h, nil
		}
		r.mu.Unlock()
		select {
		case <-h.started:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if h.startErr != nil {
			return nil, h.startErr
		}
		select {
		case <-h.done:
			// Died after starting; forget() already removed it, so retry.
			continue
		default:
			return h, nil
		}
	}
}

// forget drops h from the registry if it is still the current handler.
func (r *Runtime) forget(h *handler) {
	r.mu.Lock()
	if r.handlers[h.ccid] == h {
		delete(r.handlers, h.ccid)
	}
	r.mu.Unlock()
}

// Disconnect closes the stream to ccid, if any; the next Execute redials.
func (r *Runtime) Disconnect(ccid string) {
	r.mu.Lock()
	h := r.handlers[ccid]
	delete(r.handlers, ccid)
	r.mu.Unlock()
	if h != nil {
		h.close(errors.New("disconnected by the peer"))
	}
}

// Close closes every stream; later Executes fail with ErrRuntimeClosed.
func (r *Runtime) Close() error {
	r.mu.Lock()
	r.closed = true
	hs := r.handlers
	r.handlers = map[string]*handler{}
	r.mu.Unlock()
	for _, h := range hs {
		h.close(ErrRuntimeClosed)
	}
	return nil
}
