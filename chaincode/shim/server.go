package shim

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"

	"weft/comm"
	pb "weft/wire/peer"
)

// ServerOptions configure Serve.
type ServerOptions struct {
	// Address is the host:port to listen on (CHAINCODE_SERVER_ADDRESS).
	Address string
	// ChaincodeID is the package ID the peer launched ("label:hash");
	// the peer refuses a chaincode registering under any other name.
	ChaincodeID string
	// TLS, when set, makes the server speak TLS; set ClientAuth in it to
	// require the peer's client certificate.
	TLS *tls.Config
	// Listener, when set, is served instead of listening on Address.
	Listener net.Listener
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Environment variables read by ServerOptionsFromEnv. The TLS ones follow
// the external-chaincode convention of fabric-samples: file paths, TLS on
// when a certificate is given, client certificates required when a client
// CA is given.
const (
	EnvAddress     = "CHAINCODE_SERVER_ADDRESS"
	EnvID          = "CHAINCODE_ID"
	EnvLegacyID    = "CORE_CHAINCODE_ID_NAME"
	EnvTLSDisabled = "CHAINCODE_TLS_DISABLED"
	EnvTLSCert     = "CHAINCODE_TLS_CERT"
	EnvTLSKey      = "CHAINCODE_TLS_KEY"
	EnvClientCA    = "CHAINCODE_CLIENT_CA_CERT"
)

// ServerOptionsFromEnv reads the options from the environment.
func ServerOptionsFromEnv() (ServerOptions, error) {
	return optionsFrom(os.Getenv)
}

func optionsFrom(getenv func(string) string) (ServerOptions, error) {
	o := ServerOptions{Address: getenv(EnvAddress), ChaincodeID: getenv(EnvID)}
	if o.ChaincodeID == "" {
		o.ChaincodeID = getenv(EnvLegacyID)
	}
	if o.Address == "" {
		return o, fmt.Errorf("%s is not set", EnvAddress)
	}
	if o.ChaincodeID == "" {
		return o, fmt.Errorf("neither %s nor %s is set", EnvID, EnvLegacyID)
	}
	if v := getenv(EnvTLSDisabled); v != "" {
		off, err := strconv.ParseBool(v)
		if err != nil {
			return o, fmt.Errorf("%s=%q: not a boolean", EnvTLSDisabled, v)
		}
		if off {
			return o, nil
		}
	}
	certFile, keyFile, caFile := getenv(EnvTLSCert), getenv(EnvTLSKey), getenv(EnvClientCA)
	if certFile == "" && keyFile == "" {
		if caFile != "" {
			return o, fmt.Errorf("%s is set but %s and %s are not", EnvClientCA, EnvTLSCert, EnvTLSKey)
		}
		return o, nil
	}
	if certFile == "" || keyFile == "" {
		return o, fmt.Errorf("%s and %s must be set together", EnvTLSCert, EnvTLSKey)
	}
	read := func(name, path string) ([]byte, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return b, nil
	}
	cert, err := read(EnvTLSCert, certFile)
	if err != nil {
		return o, err
	}
	key, err := read(EnvTLSKey, keyFile)
	if err != nil {
		return o, err
	}
	var cas [][]byte
	if caFile != "" {
		ca, err := read(EnvClientCA, caFile)
		if err != nil {
			return o, err
		}
		cas = append(cas, ca)
	}
	o.TLS, err = comm.ServerTLSConfig(cert, key, cas, len(cas) > 0)
	if err != nil {
		return o, fmt.Errorf("chaincode server TLS: %w", err)
	}
	return o, nil
}

// Serve runs cc as a chaincode server until ctx ends, which is a normal
// return (nil). Every peer connection gets its own stream and registration.
func Serve(ctx context.Context, cc Chaincode, opts ServerOptions) error {
	if cc == nil {
		return errors.New("chaincode server: chaincode is nil")
	}
	if opts.ChaincodeID == "" {
		return errors.New("chaincode server: chaincode ID is empty (it must be the package ID the peer runs)")
	}
	lis := opts.Listener
	if lis == nil {
		if opts.Address == "" {
			return errors.New("chaincode server: address is empty")
		}
		if _, _, err := net.SplitHostPort(opts.Address); err != nil {
			return fmt.Errorf("chaincode server: address %q: %w", opts.Address, err)
		}
		var err error
		if lis, err = net.Listen("tcp", opts.Address); err != nil {
			return fmt.Errorf("chaincode server: %w", err)
		}
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	srv := comm.NewGRPCServer(opts.TLS, comm.ServerOptions{})
	pb.RegisterChaincodeServer(srv, &service{cc: cc, ccid: opts.ChaincodeID, log: log})
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	log.Info("chaincode server listening", "address", lis.Addr().String(), "ccid", opts.ChaincodeID)
	select {
	case <-ctx.Done():
		// Peers keep their streams open for good, so a graceful stop
		// would never finish.
		srv.Stop()
		<-errc
		return nil
	case err := <-errc:
		return fmt.Errorf("chaincode server: %w", err)
	}
}

type service struct {
	pb.UnimplementedChaincodeServer
	cc   Chaincode
	ccid string
	log  *slog.Logger
}

func (s *service) Connect(stream pb.Chaincode_ConnectServer) error {
	h := &handler{cc: s.cc, ccid: s.ccid, stream: stream, log: s.log,
		txs: map[txKey]chan *pb.ChaincodeMessage{}, done: make(chan struct{})}
	err := h.run()
	s.log.Info("peer stream ended", "ccid", s.ccid, "err", err)
	return err
}
