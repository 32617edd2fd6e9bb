package harness

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// Org1UserHTTP is an HTTP client presenting Org1 User1's TLS certificate,
// which the admin listener must refuse: Org1's TLS CA is trusted on the
// client listener only. The certificate is sent even though the server does
// not list its CA as acceptable (Go would otherwise send none), so what is
// tested is the server's verification, and the client trusts the orderer
// TLS CA, so a failure can only come from the server's side.
func (o *Orderers) Org1UserHTTP(t testing.TB) *http.Client {
	t.Helper()
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: o.Org1UserTLS(t)}}
}

// Org1UserTLS is the client TLS config behind Org1UserHTTP, for probing the
// handshake directly.
func (o *Orderers) Org1UserTLS(t testing.TB) *tls.Config {
	t.Helper()
	tlsDir := filepath.Join(o.Layout.PeerOrgDir(o.org1()), "users", "User1@org1.example.com", "tls")
	cert, err := tls.LoadX509KeyPair(filepath.Join(tlsDir, "client.crt"), filepath.Join(tlsDir, "client.key"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(o.TLSCA(t))
	return &tls.Config{
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil },
		RootCAs:              pool, ServerName: "localhost", MinVersion: tls.VersionTLS12,
	}
}

// OpsURL is orderer i's operations endpoint (/metrics, /healthz).
func (o *Orderers) OpsURL(i int) string {
	return fmt.Sprintf("http://127.0.0.1:%d", o.Ep.OrdererOps(i))
}

// AdminTLS is the client TLS config of the orderer admin (what AdminHTTP
// uses), for probing the admin listener's handshake directly.
func (o *Orderers) AdminTLS(t testing.TB) *tls.Config {
	t.Helper()
	tlsDir := filepath.Join(o.ordererOrg(), "users", "Admin@example.com", "tls")
	cert, err := tls.LoadX509KeyPair(filepath.Join(tlsDir, "client.crt"), filepath.Join(tlsDir, "client.key"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(o.TLSCA(t))
	return &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}
}
