package comm

import (
	"crypto/tls"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
)

// Defaults follow Fabric's core.yaml/orderer.yaml so that Fabric clients,
// which ping every minute, are not disconnected for pinging too often.
const (
	DefaultMaxMsgSize             = 100 * 1024 * 1024
	DefaultServerKeepaliveTime    = 2 * time.Hour
	DefaultServerKeepaliveTimeout = 20 * time.Second
	DefaultMinClientPingInterval  = time.Minute
	DefaultConnectionTimeout      = 5 * time.Second
)

// ServerOptions tunes NewGRPCServer; zero fields take the defaults above.
type ServerOptions struct {
	MaxRecvMsgSize int
	MaxSendMsgSize int
	// KeepaliveTime is how long a connection may be idle before the server
	// pings the client; KeepaliveTimeout how long it waits for the answer.
	KeepaliveTime    time.Duration
	KeepaliveTimeout time.Duration
	// MinClientPingInterval is the shortest ping interval tolerated from a
	// client; clients pinging faster are disconnected.
	MinClientPingInterval time.Duration
	// ConnectionTimeout bounds the TLS handshake of a new connection.
	ConnectionTimeout  time.Duration
	UnaryInterceptors  []grpc.UnaryServerInterceptor
	StreamInterceptors []grpc.StreamServerInterceptor
}

// NewGRPCServer returns a gRPC server using tlsConf (nil serves plaintext,
// for tests and TLS-disabled networks).
func NewGRPCServer(tlsConf *tls.Config, opts ServerOptions) *grpc.Server {
	or := func(v, def time.Duration) time.Duration {
		if v > 0 {
			return v
		}
		return def
	}
	size := func(v int) int {
		if v > 0 {
			return v
		}
		return DefaultMaxMsgSize
	}
	sopts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(size(opts.MaxRecvMsgSize)),
		grpc.MaxSendMsgSize(size(opts.MaxSendMsgSize)),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			Time:    or(opts.KeepaliveTime, DefaultServerKeepaliveTime),
			Timeout: or(opts.KeepaliveTimeout, DefaultServerKeepaliveTimeout),
		}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime: or(opts.MinClientPingInterval, DefaultMinClientPingInterval),
			// Orderer cluster links and deliver streams idle for long
			// stretches; their pings must not count as abuse.
			PermitWithoutStream: true,
		}),
		grpc.ConnectionTimeout(or(opts.ConnectionTimeout, DefaultConnectionTimeout)),
		grpc.ChainUnaryInterceptor(opts.UnaryInterceptors...),
		grpc.ChainStreamInterceptor(opts.StreamInterceptors...),
	}
	if tlsConf != nil {
		sopts = append(sopts, grpc.Creds(credentials.NewTLS(tlsConf.Clone())))
	}
	return grpc.NewServer(sopts...)
}
