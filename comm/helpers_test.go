package comm

import (
	"context"
	"crypto/x509"
	"net"
	"sync"
	"testing"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"weft/fabcrypto"
)

// pair is a PEM certificate and key issued for a test.
type pair struct {
	cert, key []byte
	x509      *x509.Certificate
}

type testCA struct {
	ca  *fabcrypto.CA
	pem []byte
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	ca, err := fabcrypto.NewRootCA(fabcrypto.RootSpec{Subject: fabcrypto.Subject{CommonName: name}})
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{ca: ca, pem: fabcrypto.EncodeCertPEM(ca.Cert)}
}

func (c *testCA) issue(t *testing.T, cn string) pair {
	t.Helper()
	key, err := fabcrypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := c.ca.Issue(fabcrypto.CertSpec{
		CommonName:  cn,
		SANs:        []string{"localhost", "127.0.0.1"},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		PublicKey:   &key.PublicKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := fabcrypto.MarshalPrivateKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	return pair{cert: fabcrypto.EncodeCertPEM(cert), key: keyPEM, x509: cert}
}

// recorder is a health service that remembers what ClientCertificate and
// ClientCertHash saw for the last call.
type recorder struct {
	healthpb.UnimplementedHealthServer
	mu   sync.Mutex
	cert *x509.Certificate
	hash []byte
}

func (r *recorder) Check(ctx context.Context, _ *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	cert, _ := ClientCertificate(ctx)
	r.mu.Lock()
	r.cert, r.hash = cert, ClientCertHash(ctx)
	r.mu.Unlock()
	return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
}

func (r *recorder) last() (*x509.Certificate, []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cert, r.hash
}

// serve starts a gRPC server on a loopback port and returns its address.
func serve(t *testing.T, srv *grpc.Server) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}
