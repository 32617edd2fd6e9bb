package peer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"weft/comm"
	"weft/msp"
	"weft/node/operations"
	"weft/peer/chaincode"
	"weft/peer/channel"
	"weft/peer/endorser"
	"weft/peer/gateway"
	"weft/peer/lifecycle"
	"weft/peer/membership"
	"weft/peer/peerdeliver"
	"weft/peer/scc"
	"weft/peer/validator"
	"weft/wire/common"
	gatewaypb "weft/wire/gateway"
	pb "weft/wire/peer"
	membershippb "weft/wire/weft/membership"
)

// Options carry what is not in the config file.
type Options struct {
	Logger  *slog.Logger
	Level   *slog.LevelVar
	Version string
}

// Node is a running peer.
type Node struct {
	cfg      *Config
	log      *slog.Logger
	channels *channels
	runtime  *chaincode.Runtime
	grpc     *grpc.Server
	listener net.Listener
	ops      *operations.Server
	members  *membership.Service
	wg       sync.WaitGroup
	stopOnce sync.Once
}

// Start brings a peer up: identity, the channels found on disk (their
// committers resume pulling blocks), the Endorser, Gateway and Deliver
// services, and the operations endpoint.
func Start(cfg *Config, opts Options) (_ *Node, err error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("node", cfg.Peer.ID, "msp", cfg.Peer.LocalMSPID)
	// n is not the named result: `return nil, err` must leave it set so
	// that the cleanup below can stop what was started.
	n := &Node{cfg: cfg, log: log}
	defer func() {
		if err != nil {
			n.Stop()
		}
	}()

	mspDir := cfg.path(cfg.Peer.MSPConfigPath)
	signer, err := msp.LoadSigningIdentity(mspDir, cfg.Peer.LocalMSPID)
	if err != nil {
		return nil, fmt.Errorf("peer.mspConfigPath: %w", err)
	}
	localCfg, err := msp.ConfigFromDir(mspDir, cfg.Peer.LocalMSPID)
	if err != nil {
		return nil, fmt.Errorf("peer.mspConfigPath: %w", err)
	}
	localMSP, err := msp.New(localCfg)
	if err != nil {
		return nil, fmt.Errorf("peer.mspConfigPath: %w", err)
	}
	certPEM, err := os.ReadFile(cfg.path(cfg.Peer.TLS.Cert.File))
	if err != nil {
		return nil, fmt.Errorf("peer.tls.cert.file: %w", err)
	}
	keyPEM, err := os.ReadFile(cfg.path(cfg.Peer.TLS.Key.File))
	if err != nil {
		return nil, fmt.Errorf("peer.tls.key.file: %w", err)
	}
	var clientRoots [][]byte
	for _, f := range cfg.Peer.TLS.ClientRootCAs.Files {
		b, err := os.ReadFile(cfg.path(f))
		if err != nil {
			return nil, fmt.Errorf("peer.tls.clientRootCAs.files: %w", err)
		}
		clientRoots = append(clientRoots, b)
	}

	data := cfg.path(cfg.Peer.FileSystemPath)
	if err := os.MkdirAll(data, 0o750); err != nil {
		return nil, fmt.Errorf("peer.fileSystemPath: %w", err)
	}
	own := validator.NewOwnSignatures(ownSignatureCapacity)
	n.channels, err = newChannels(filepath.Join(data, "ledgers"), channel.Deps{
		Signer: signer, TLSCertPEM: certPEM, TLSKeyPEM: keyPEM, Logger: log, OwnSignatures: own,
	}, log)
	if err != nil {
		return nil, err
	}
	store, err := lifecycle.OpenStore(filepath.Join(data, "chaincodes"))
	if err != nil {
		return nil, fmt.Errorf("chaincode store: %w", err)
	}
	isAdmin := localAdmin(localMSP)
	lc, err := lifecycle.New(lifecycle.Options{Store: store, IsLocalAdmin: isAdmin, ChannelStates: n.channels.states})
	if err != nil {
		return nil, err
	}
	cscc := &scc.CSCC{Channels: n.channels, IsLocalAdmin: isAdmin}
	qscc := &scc.QSCC{Ledgers: n.channels}
	n.runtime = chaincode.NewRuntime(chaincode.Options{Logger: log, ExecuteTimeout: cfg.Chaincode.ExecuteTimeout})
	end := &endorser.Endorser{
		Channels: endorserChannels{n.channels},
		LocalMSP: localMSP,
		Signer:   recordingSigner{id: signer, own: own},
		SystemChaincodes: map[string]endorser.SystemChaincode{
			"_lifecycle": endorser.LifecycleSystemChaincode(lc),
			"cscc":       endorser.StubSystemChaincode(cscc.Invoke),
			"qscc":       endorser.StubSystemChaincode(qscc.Invoke),
		},
		Lifecycle: endorser.LifecycleState{},
		Executor:  &endorser.RuntimeExecutor{Packages: store, Runtime: n.runtime},
		Logger:    log,
	}

	serverTLS, err := comm.ServerTLSConfig(certPEM, keyPEM, clientRoots, cfg.Peer.TLS.ClientAuthRequired)
	if err != nil {
		return nil, fmt.Errorf("peer.tls: %w", err)
	}
	n.grpc = comm.NewGRPCServer(serverTLS, comm.ServerOptions{})
	pb.RegisterEndorserServer(n.grpc, end)
	bootRoots, err := n.bootstrapRoots(localMSP)
	if err != nil {
		return nil, err
	}
	n.members, err = membership.New(membership.Options{
		Endpoint: cfg.Peer.Gossip.ExternalEndpoint, Signer: signer, Channels: membershipChannels{n.channels},
		Bootstrap: cfg.Peer.Gossip.Bootstrap, BootstrapTLSRoots: bootRoots, Dial: tlsDialer(certPEM, keyPEM),
		Interval: cfg.Peer.Gossip.AliveTimeInterval, Expiration: cfg.Peer.Gossip.AliveExpirationTimeout, Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("peer.gossip: %w", err)
	}
	membershippb.RegisterMembershipServer(n.grpc, n.members)
	if cfg.Peer.Gateway.Enabled {
		gw, err := gateway.New(gateway.Options{
			LocalMSPID: cfg.Peer.LocalMSPID, LocalAddress: cfg.Peer.Address, Local: end,
			Channels: gatewayChannels{n.channels}, TLS: true, ClientCert: certPEM, ClientKey: keyPEM,
			EndorsementTimeout: cfg.Peer.Gateway.EndorsementTimeout, DialTimeout: cfg.Peer.Gateway.DialTimeout,
			Membership: gatewayMembership{n.members}, Logger: log,
		})
		if err != nil {
			return nil, err
		}
		gatewaypb.RegisterGatewayServer(n.grpc, gw)
	}
	pd, err := peerdeliver.New(peerdeliver.Config{Channel: n.channels.get, Logger: log, MutualTLS: cfg.Peer.TLS.ClientAuthRequired})
	if err != nil {
		return nil, err
	}
	pb.RegisterDeliverServer(n.grpc, pd)

	if n.listener, err = net.Listen("tcp", cfg.Peer.ListenAddress); err != nil {
		return nil, fmt.Errorf("peer.listenAddress %s: %w", cfg.Peer.ListenAddress, err)
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if err := n.grpc.Serve(n.listener); err != nil {
			log.Error("gRPC server stopped", "err", err)
		}
	}()

	n.members.Start()

	if cfg.Operations.ListenAddress != "" {
		n.ops = operations.New(operations.Options{
			ListenAddress: cfg.Operations.ListenAddress, Version: opts.Version, Level: opts.Level, Logger: log,
			Profiling: cfg.Peer.Profile.Enabled,
		})
		registerMetrics(n.ops.Registry(), n.channels, n.members)
		if err := n.ops.Start(); err != nil {
			return nil, fmt.Errorf("operations.listenAddress: %w", err)
		}
	}
	log.Info("peer started", "listen", n.listener.Addr().String(), "channels", n.channels.List())
	return n, nil
}

// bootstrapRoots are the TLS CAs the bootstrap peers (of this peer's org)
// must present: peer.tls.rootcert.file and the local MSP's TLS CAs.
func (n *Node) bootstrapRoots(local *msp.MSP) ([][]byte, error) {
	roots := append(append([][]byte{}, local.TLSRootCerts()...), local.TLSIntermediateCerts()...)
	if f := n.cfg.Peer.TLS.RootCert.File; f != "" {
		b, err := os.ReadFile(n.cfg.path(f))
		if err != nil {
			return nil, fmt.Errorf("peer.tls.rootcert.file: %w", err)
		}
		roots = append(roots, b)
	}
	if len(roots) == 0 && len(n.cfg.Peer.Gossip.Bootstrap) > 0 {
		return nil, errors.New("peer.gossip.bootstrap: no TLS CA to trust (set peer.tls.rootcert.file)")
	}
	return roots, nil
}

// localAdmin says whether an identity administers this peer: an admin of
// the peer's own MSP (Fabric's local MSP Admins policy).
func localAdmin(m *msp.MSP) func(id *msp.Identity) bool {
	role, _ := proto.Marshal(&common.MSPRole{MspIdentifier: m.ID(), Role: common.MSPRole_ADMIN})
	principal := &common.MSPPrincipal{PrincipalClassification: common.MSPPrincipal_ROLE, Principal: role}
	return func(id *msp.Identity) bool {
		return id != nil && id.MSPID == m.ID() && m.SatisfiesPrincipal(id, principal) == nil
	}
}

// Addr is the bound listener address.
func (n *Node) Addr() string { return n.listener.Addr().String() }

// Stop shuts the peer down: services first, then chaincode streams and
// channels.
func (n *Node) Stop() {
	n.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if n.ops != nil {
			n.ops.Stop(ctx)
		}
		if n.members != nil {
			n.members.Stop()
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
		if n.runtime != nil {
			n.runtime.Close()
		}
		if n.channels != nil {
			n.channels.close()
		}
		n.wg.Wait()
		n.log.Info("peer stopped")
	})
}
