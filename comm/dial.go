package comm

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
)

const (
	// DefaultDialTimeout applies when Dial's context has no deadline.
	DefaultDialTimeout = 10 * time.Second
	// Client pings match the server's DefaultMinClientPingInterval.
	clientKeepaliveTime    = time.Minute
	clientKeepaliveTimeout = 20 * time.Second
)

// Dial connects to addr ("host:port") and returns once the connection is
// ready. It fails at once on a TLS error (the server's certificate was not
// accepted, or the server refused ours), otherwise when ctx ends (after
// DefaultDialTimeout when ctx has no deadline). tlsConf nil dials plaintext.
func Dial(ctx context.Context, addr string, tlsConf *tls.Config) (*grpc.ClientConn, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("dial: address %q: %w", addr, err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultDialTimeout)
		defer cancel()
	}
	var creds credentials.TransportCredentials = insecure.NewCredentials()
	rec := &recordingCreds{}
	if tlsConf != nil {
		rec.TransportCredentials = credentials.NewTLS(tlsConf.Clone())
		creds = rec
	}
	// passthrough: addr is used as is, like the deprecated grpc.Dial did;
	// NewClient's default dns resolver would change how names resolve.
	target := addr
	if !strings.Contains(addr, "://") {
		target = "passthrough:///" + addr
	}
	conn, err := grpc.NewClient(target,
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(DefaultMaxMsgSize),
			grpc.MaxCallSendMsgSize(DefaultMaxMsgSize)),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{
			Time:                clientKeepaliveTime,
			Timeout:             clientKeepaliveTimeout,
			PermitWithoutStream: true,
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	conn.Connect()
	for {
		s := conn.GetState()
		if s == connectivity.Ready {
			return conn, nil
		}
		// A TLS failure (wrong certificate, client certificate refused)
		// will not heal by retrying until the deadline.
		if herr := rec.lastErr(); herr != nil {
			conn.Close()
			return nil, fmt.Errorf("dial %s: %w", addr, herr)
		}
		if s == connectivity.Idle {
			conn.Connect()
		}
		// The TLS error may be recorded after the state changed (a
		// write fails before the alert is read), and pick_first stays in
		// TRANSIENT_FAILURE while retrying, so look again now and then.
		wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		conn.WaitForStateChange(wctx, s)
		cancel()
		if ctx.Err() != nil {
			conn.Close()
			if herr := rec.lastErr(); herr != nil {
				return nil, fmt.Errorf("dial %s: %w (last handshake error: %v)", addr, ctx.Err(), herr)
			}
			return nil, fmt.Errorf("dial %s: %w (connection state %s)", addr, ctx.Err(), s)
		}
	}
}

// recordingCreds keeps the last TLS error, which gRPC would otherwise only
// log, so that a failed Dial can say why (bad certificate, wrong server)
// rather than just "deadline exceeded". Under TLS 1.3 the server judges the
// client certificate after the client's handshake has completed, so alerts
// read from the connection afterwards are recorded too.
type recordingCreds struct {
	credentials.TransportCredentials
	mu  sync.Mutex
	err error
}

func (r *recordingCreds) ClientHandshake(ctx context.Context, authority string, raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn, info, err := r.TransportCredentials.ClientHandshake(ctx, authority, raw)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			r.record(err)
		}
		return conn, info, err
	}
	return &alertConn{Conn: conn, rec: r}, info, nil
}

func (r *recordingCreds) record(err error) {
	r.mu.Lock()
	r.err = err
	r.mu.Unlock()
}

// alertConn records TLS alerts received from the server, and the server
// hanging up before it sent any data: under TLS 1.3 a refused client
// certificate often shows only as a reset, the alert being discarded.
type alertConn struct {
	net.Conn
	rec     *recordingCreds
	gotData atomic.Bool
}

func (c *alertConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.gotData.Store(true)
	}
	c.check(err)
	return n, err
}

func (c *alertConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.check(err)
	return n, err
}

func (c *alertConn) check(err error) {
	if err == nil || errors.Is(err, net.ErrClosed) {
		return
	}
	var op *net.OpError
	switch {
	case errors.As(err, &op) && op.Op == "remote error":
		c.rec.record(err)
	case !c.gotData.Load():
		c.rec.record(fmt.Errorf("server closed the connection right after the TLS handshake "+
			"(client certificate refused?): %w", err))
	}
}

func (r *recordingCreds) lastErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}
