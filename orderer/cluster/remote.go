package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"weft/comm"
	"weft/wire/orderer"
)

var errLinkClosed = errors.New("cluster link closed")

// healthyStream is how long a stream must have lasted for its end to count
// as a fresh failure rather than a repeated one.
const healthyStream = time.Second

// remote is the link to one member of one channel: a bounded queue of
// consensus messages, drained by one goroutine into one stream, and a
// connection shared with Submit calls.
type remote struct {
	channel string
	member  *member
	tls     *tls.Config
	cfg     Config
	log     *slog.Logger

	queue       chan *raftpb.Message
	dropped     atomic.Uint64
	overflowing atomic.Bool // logs once per run of drops, not per message

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	dialing chan struct{} // one dial at a time
	mu      sync.Mutex
	conn    *grpc.ClientConn
}

func (c *Comm) newRemote(channel string, m *member) (*remote, error) {
	tlsConf, err := comm.PinnedClientTLSConfig(c.cfg.ClientCertPEM, c.cfg.ClientKeyPEM, m.ServerTLSCert)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &remote{
		channel: channel,
		member:  m,
		tls:     tlsConf,
		cfg:     c.cfg,
		log:     c.log.With("channel", channel, "to", m.ID, "endpoint", m.Endpoint),
		queue:   make(chan *raftpb.Message, c.cfg.QueueSize),
		ctx:     ctx,
		cancel:  cancel,
		done:    make(chan struct{}),
		dialing: make(chan struct{}, 1),
	}
	go r.run()
	return r, nil
}

func (r *remote) stop() { r.cancel() }

func (r *remote) enqueue(m *raftpb.Message) {
	select {
	case r.queue <- m:
		r.overflowing.Store(false)
	default:
		n := r.dropped.Add(1)
		if r.overflowing.CompareAndSwap(false, true) {
			r.log.Debug("cluster: queue full, dropping messages", "type", m.GetType().String(), "dropped_total", n)
		}
	}
}

// run keeps the consensus stream going while there is traffic.
func (r *remote) run() {
	defer close(r.done)
	defer r.closeConn()
	backoff := r.cfg.MinBackoff
	for {
		// Connect only when there is something to send: links of idle
		// channels cost nothing.
		var first *raftpb.Message
		select {
		case <-r.ctx.Done():
			return
		case first = <-r.queue:
		}
		up, err := r.stream(first)
		if r.ctx.Err() != nil {
			return
		}
		// A stream the server ends at once (it rejects us) must not reset
		// the backoff, or a misconfigured peer would be hammered.
		if up >= min(healthyStream, r.cfg.MaxBackoff) {
			backoff = r.cfg.MinBackoff
		}
		r.log.Debug("cluster: link broken, reconnecting", "err", err, "after", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-r.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, r.cfg.MaxBackoff)
	}
}

// stream sends first and then everything queued until the stream breaks
// or the link is stopped. up is how long the stream was open.
func (r *remote) stream(first *raftpb.Message) (up time.Duration, err error) {
	conn, err := r.client(r.ctx)
	if err != nil {
		return 0, err
	}
	sctx, cancel := context.WithCancel(r.ctx)
	defer cancel()
	st, err := orderer.NewClusterClient(conn).Step(sctx)
	if err != nil {
		r.checkConn(conn, err)
		return 0, fmt.Errorf("open stream: %w", err)
	}
	opened := time.Now()
	// The server never answers on a consensus stream, so Recv returns
	// only when the stream ends, with the server's reason.
	broken := make(chan error, 1)
	go func() {
		for {
			if _, err := st.Recv(); err != nil {
				broken <- err
				return
			}
		}
	}()
	for m := first; ; {
		if m != nil {
			if err := r.sendOne(st, m); err != nil {
				// Send only says the stream is gone; Recv has the reason.
				select {
				case err = <-broken:
				case <-time.After(time.Second):
				}
				r.checkConn(conn, err)
				return time.Since(opened), err
			}
		}
		select {
		case <-r.ctx.Done():
			st.CloseSend()
			return time.Since(opened), nil
		case err := <-broken:
			r.checkConn(conn, err)
			return time.Since(opened), err
		case m = <-r.queue:
		}
	}
}

func (r *remote) sendOne(st orderer.Cluster_StepClient, m *raftpb.Message) error {
	payload, err := proto.Marshal(m)
	if err != nil {
		r.log.Error("cluster: cannot marshal raft message", "type", m.GetType().String(), "err", err)
		return nil
	}
	return st.Send(&orderer.StepRequest{Payload: &orderer.StepRequest_ConsensusRequest{
		ConsensusRequest: &orderer.ConsensusRequest{Channel: r.channel, Payload: payload},
	}})
}

// client returns the connection to the member, dialling if needed.
func (r *remote) client(ctx context.Context) (*grpc.ClientConn, error) {
	select {
	case r.dialing <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-r.ctx.Done():
		return nil, errLinkClosed
	}
	defer func() { <-r.dialing }()
	r.mu.Lock()
	conn := r.conn
	r.mu.Unlock()
	if conn != nil {
		return conn, nil
	}
	dctx, cancel := context.WithTimeout(ctx, r.cfg.DialTimeout)
	defer cancel()
	stopDial := context.AfterFunc(r.ctx, cancel)
	defer stopDial()
	conn, err := comm.Dial(dctx, r.member.Endpoint, r.tls)
	if err != nil {
		return nil, fmt.Errorf("node %d at %s: %w", r.member.ID, r.member.Endpoint, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctx.Err() != nil {
		conn.Close()
		return nil, errLinkClosed
	}
	r.conn = conn
	return conn, nil
}

// checkConn drops conn after a transport failure so that the next attempt
// dials afresh (with our backoff rather than gRPC's, which grows to two
// minutes). Rejections by a healthy server keep the connection.
func (r *remote) checkConn(conn *grpc.ClientConn, err error) {
	if status.Code(err) != codes.Unavailable && conn.GetState() == connectivity.Ready {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conn == conn {
		r.conn = nil
		conn.Close()
	}
}

func (r *remote) closeConn() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conn != nil {
		r.conn.Close()
		r.conn = nil
	}
}
