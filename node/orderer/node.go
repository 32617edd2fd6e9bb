package orderer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"google.golang.org/grpc"

	"weft/comm"
	"weft/deliver"
	"weft/msp"
	"weft/node/operations"
	"weft/orderer/broadcast"
	"weft/orderer/cluster"
	"weft/orderer/participation"
	"weft/orderer/registrar"
	ordererpb "weft/wire/orderer"
)

// Node is a running orderer.
type Node struct {
	cfg       *Config
	log       *slog.Logger
	registrar *registrar.Registrar
	grpc      *grpc.Server
	listener  net.Listener
	admin     *http.Server
	adminLn   net.Listener
	ops       *operations.Server
	wg        sync.WaitGroup
	stopOnce  sync.Once
}

// Options carry what is not in the config file.
type Options struct {
	Logger  *slog.Logger
	Level   *slog.LevelVar
	Version string
}

// Start brings an orderer up: identity, channels found on disk, the gRPC
// services, the admin API and the operations endpoint. It returns once
// every listener is bound.
func Start(cfg *Config, opts Options) (_ *Node, err error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("node", "orderer", "msp", cfg.General.LocalMSPID)
	// n is not the named result: `return nil, err` must leave it set so
	// that the cleanup below can stop what was started.
	n := &Node{cfg: cfg, log: log}
	defer func() {
		if err != nil {
			n.Stop()
		}
	}()

	signer, err := msp.LoadSigningIdentity(cfg.path(cfg.General.LocalMSPDir), cfg.General.LocalMSPID)
	if err != nil {
		return nil, fmt.Errorf("General.LocalMSPDir: %w", err)
	}
	certPEM, keyPEM, err := readPair(cfg.path(cfg.General.TLS.Certificate), cfg.path(cfg.General.TLS.PrivateKey))
	if err != nil {
		return nil, fmt.Errorf("General.TLS: %w", err)
	}
	clientRoots, err := readAll(cfg.paths(cfg.General.TLS.ClientRootCAs))
	if err != nil {
		return nil, fmt.Errorf("General.TLS.ClientRootCAs: %w", err)
	}
	clusterCert, clusterKey := certPEM, keyPEM
	if cfg.General.Cluster.ClientCertificate != "" {
		if clusterCert, clusterKey, err = readPair(cfg.path(cfg.General.Cluster.ClientCertificate), cfg.path(cfg.General.Cluster.ClientPrivateKey)); err != nil {
			return nil, fmt.Errorf("General.Cluster: %w", err)
		}
	}

	cm := cluster.New(cluster.Config{
		ClientCertPEM: clusterCert, ClientKeyPEM: clusterKey,
		Logger: log, QueueSize: cfg.General.Cluster.SendBufferSize,
	})
	ledgerDir := cfg.path(cfg.FileLedger.Location)
	if err := os.MkdirAll(ledgerDir, 0o750); err != nil {
		return nil, fmt.Errorf("FileLedger.Location: %w", err)
	}
	n.registrar, err = registrar.New(registrar.Config{
		LedgerDir: ledgerDir, WALDir: cfg.path(cfg.Consensus.WALDir),
		Signer: signer, ClusterCertPEM: clusterCert, ClusterKeyPEM: clusterKey,
		Comm: cm, SnapshotEvery: cfg.Consensus.SnapshotEvery, Logger: log,
	})
	if err != nil {
		return nil, err
	}

	// One listener serves clients and the cluster, as Fabric's orderer
	// does by default; client certificates are verified when presented
	// (and required when ClientAuthRequired), which the cluster service
	// and the deliver TLS binding rely on.
	serverTLS, err := comm.ServerTLSConfig(certPEM, keyPEM, clientRoots, cfg.General.TLS.ClientAuthRequired)
	if err != nil {
		return nil, fmt.Errorf("General.TLS: %w", err)
	}
	n.grpc = comm.NewGRPCServer(serverTLS, comm.ServerOptions{})
	ordererpb.RegisterAtomicBroadcastServer(n.grpc, &abServer{
		bc: &broadcast.Handler{Registrar: n.registrar, Logger: log, Timeout: 30 * time.Second},
		dl: &deliver.Handler{Source: n.registrar, Logger: log, ClientCertHash: comm.ClientCertHash, MutualTLS: cfg.General.TLS.ClientAuthRequired},
	})
	ordererpb.RegisterClusterServer(n.grpc, cm.Server())
	addr := net.JoinHostPort(cfg.General.ListenAddress, fmt.Sprint(cfg.General.ListenPort))
	if n.listener, err = net.Listen("tcp", addr); err != nil {
		return nil, fmt.Errorf("General.ListenAddress/ListenPort %s: %w", addr, err)
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if err := n.grpc.Serve(n.listener); err != nil {
			log.Error("gRPC server stopped", "err", err)
		}
	}()

	if cfg.ChannelParticipation.Enabled {
		if err := n.startAdmin(); err != nil {
			return nil, err
		}
	}
	if cfg.Operations.ListenAddress != "" {
		n.ops = operations.New(operations.Options{
			ListenAddress: cfg.Operations.ListenAddress, Version: opts.Version, Level: opts.Level, Logger: log,
			Profiling: cfg.General.Profile.Enabled,
		})
		n.ops.RegisterChecker("channels", n.registrar)
		registerMetrics(n.ops.Registry(), n.registrar)
		if err := n.ops.Start(); err != nil {
			return nil, fmt.Errorf("Operations.ListenAddress: %w", err)
		}
	}
	log.Info("orderer started", "listen", n.listener.Addr().String(), "channels", n.registrar.Channels())
	return n, nil
}

func (n *Node) startAdmin() error {
	cfg := n.cfg
	certPEM, keyPEM, err := readPair(cfg.path(cfg.Admin.TLS.Certificate), cfg.path(cfg.Admin.TLS.PrivateKey))
	if err != nil {
		return fmt.Errorf("Admin.TLS: %w", err)
	}
	roots, err := readAll(cfg.paths(cfg.Admin.TLS.ClientRootCAs))
	if err != nil {
		return fmt.Errorf("Admin.TLS.ClientRootCAs: %w", err)
	}
	tlsConf, err := comm.ServerTLSConfig(certPEM, keyPEM, roots, true)
	if err != nil {
		return fmt.Errorf("Admin.TLS: %w", err)
	}
	n.admin = &http.Server{
		Handler: &participation.Handler{
			Registrar: n.registrar, MaxRequestBodySize: cfg.ChannelParticipation.MaxRequestBodySize,
			AllowedClientCNs: cfg.Admin.AllowedClientCNs, Logger: n.log,
		},
		ReadHeaderTimeout: 10 * time.Second,
	}
	if n.adminLn, err = net.Listen("tcp", cfg.Admin.ListenAddress); err != nil {
		return fmt.Errorf("Admin.ListenAddress: %w", err)
	}
	tlsLn := tls.NewListener(n.adminLn, tlsConf)
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if err := n.admin.Serve(tlsLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("admin server stopped", "err", err)
		}
	}()
	return nil
}

// Addr is the bound client/cluster address.
func (n *Node) Addr() string { return n.listener.Addr().String() }

// Registrar gives access to the node's channels.
func (n *Node) Registrar() *registrar.Registrar { return n.registrar }

// Stop shuts the node down: listeners first, then the chains.
func (n *Node) Stop() {
	n.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if n.admin != nil {
			n.admin.Shutdown(ctx)
		}
		if n.ops != nil {
			n.ops.Stop(ctx)
		}
		if n.grpc != nil {
			stopped := make(chan struct{})
			go func() { n.grpc.GracefulStop(); close(stopped) }()
			// Block streams (peers pulling, event listeners) never end on
			// their own; give unary calls a moment, then cut the rest.
			select {
			case <-stopped:
			case <-time.After(time.Second):
				n.grpc.Stop()
			}
		}
		if n.registrar != nil {
			n.registrar.Close()
		}
		n.wg.Wait()
		n.log.Info("orderer stopped")
	})
}

type abServer struct {
	ordererpb.UnimplementedAtomicBroadcastServer
	bc *broadcast.Handler
	dl *deliver.Handler
}

func (s *abServer) Broadcast(srv ordererpb.AtomicBroadcast_BroadcastServer) error {
	return s.bc.Broadcast(srv)
}

func (s *abServer) Deliver(srv ordererpb.AtomicBroadcast_DeliverServer) error {
	return s.dl.Serve(deliver.OrdererStream(srv))
}

func readPair(certPath, keyPath string) (cert, key []byte, err error) {
	if cert, err = os.ReadFile(certPath); err != nil {
		return nil, nil, err
	}
	if key, err = os.ReadFile(keyPath); err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

func readAll(paths []string) ([][]byte, error) {
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(filepath.Clean(p))
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}
