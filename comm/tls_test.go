package comm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func TestTLSHandshakes(t *testing.T) {
	ca := newCA(t, "ca.org1")
	foreign := newCA(t, "ca.evil")
	server := ca.issue(t, "server.org1")
	other := ca.issue(t, "other.org1")
	client := ca.issue(t, "client.org1")
	stranger := foreign.issue(t, "client.evil")

	tests := []struct {
		name        string
		requireCert bool
		client      func(t *testing.T) *tls.Config
		wantOK      bool
		wantCert    *pair // client cert the server should see
	}{
		{"mutual TLS", true, func(t *testing.T) *tls.Config {
			return must(t)(ClientTLSConfig(client.cert, client.key, [][]byte{ca.pem}, "localhost"))
		}, true, &client},
		{"missing client cert rejected", true, func(t *testing.T) *tls.Config {
			return must(t)(ClientTLSConfig(nil, nil, [][]byte{ca.pem}, "localhost"))
		}, false, nil},
		{"client cert from foreign CA rejected", true, func(t *testing.T) *tls.Config {
			return must(t)(ClientTLSConfig(stranger.cert, stranger.key, [][]byte{ca.pem}, "localhost"))
		}, false, nil},
		{"server from unknown CA rejected", true, func(t *testing.T) *tls.Config {
			return must(t)(ClientTLSConfig(client.cert, client.key, [][]byte{foreign.pem}, "localhost"))
		}, false, nil},
		{"wrong server name rejected", true, func(t *testing.T) *tls.Config {
			return must(t)(ClientTLSConfig(client.cert, client.key, [][]byte{ca.pem}, "orderer.example.com"))
		}, false, nil},
		{"optional client cert absent", false, func(t *testing.T) *tls.Config {
			return must(t)(ClientTLSConfig(nil, nil, [][]byte{ca.pem}, "localhost"))
		}, true, nil},
		{"optional client cert from any CA is still seen", false, func(t *testing.T) *tls.Config {
			return must(t)(ClientTLSConfig(stranger.cert, stranger.key, [][]byte{ca.pem}, "localhost"))
		}, true, &stranger},
		{"pinned server cert accepted despite name", true, func(t *testing.T) *tls.Config {
			return must(t)(PinnedClientTLSConfig(client.cert, client.key, server.cert))
		}, true, &client},
		{"pinned config rejects a different server cert", true, func(t *testing.T) *tls.Config {
			return must(t)(PinnedClientTLSConfig(client.cert, client.key, other.cert))
		}, false, nil},
		{"pinned cert outside its validity rejected", true, func(t *testing.T) *tls.Config {
			c := must(t)(PinnedClientTLSConfig(client.cert, client.key, server.cert))
			c.Time = func() time.Time { return time.Now().Add(20 * 365 * 24 * time.Hour) }
			return c
		}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sconf, err := ServerTLSConfig(server.cert, server.key, [][]byte{ca.pem}, tt.requireCert)
			if err != nil {
				t.Fatal(err)
			}
			rec := &recorder{}
			srv := NewGRPCServer(sconf, ServerOptions{})
			healthpb.RegisterHealthServer(srv, rec)
			addr := serve(t, srv)

			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			err = call(ctx, addr, tt.client(t))
			t.Logf("call: %v", err)
			if (err == nil) != tt.wantOK {
				t.Fatalf("call error = %v, want ok=%v", err, tt.wantOK)
			}
			if !tt.wantOK {
				return
			}
			got, hash := rec.last()
			if tt.wantCert == nil {
				if got != nil || hash != nil {
					t.Fatalf("server saw client cert %v / hash %x, want none", got, hash)
				}
				return
			}
			if got == nil || !bytes.Equal(got.Raw, tt.wantCert.x509.Raw) {
				t.Fatalf("server saw client cert %v, want %s", got, tt.wantCert.x509.Subject)
			}
			want := sha256.Sum256(tt.wantCert.x509.Raw)
			if !bytes.Equal(hash, want[:]) {
				t.Fatalf("ClientCertHash = %x, want %x", hash, want)
			}
		})
	}
}

// call dials and makes one RPC. Under TLS 1.3 the server checks the client
// certificate after the client considers the handshake done, so a rejection
// may surface at the RPC rather than at Dial.
func call(ctx context.Context, addr string, conf *tls.Config) error {
	conn, err := Dial(ctx, addr, conf)
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	return err
}

func must(t *testing.T) func(*tls.Config, error) *tls.Config {
	return func(c *tls.Config, err error) *tls.Config {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
}

func TestConfigErrors(t *testing.T) {
	ca := newCA(t, "ca.org1")
	p := ca.issue(t, "node")
	other := ca.issue(t, "other")
	tests := []struct {
		name string
		fn   func() error
		want string
	}{
		{"server without cert", func() error { _, err := ServerTLSConfig(nil, p.key, nil, false); return err }, "certPEM: empty"},
		{"server without key", func() error { _, err := ServerTLSConfig(p.cert, nil, nil, false); return err }, "keyPEM: empty"},
		{"server key mismatch", func() error { _, err := ServerTLSConfig(p.cert, other.key, nil, false); return err }, "key pair"},
		{"server garbage cert", func() error { _, err := ServerTLSConfig([]byte("junk"), p.key, nil, false); return err }, "certPEM"},
		{"required without roots", func() error { _, err := ServerTLSConfig(p.cert, p.key, nil, true); return err }, "clientRootCAs: empty"},
		{"bad client root", func() error {
			_, err := ServerTLSConfig(p.cert, p.key, [][]byte{ca.pem, []byte("x")}, true)
			return err
		}, "clientRootCAs: entry 1"},
		{"client without roots", func() error { _, err := ClientTLSConfig(nil, nil, nil, ""); return err }, "rootCAs: empty"},
		{"client bad root", func() error { _, err := ClientTLSConfig(nil, nil, [][]byte{p.key}, ""); return err }, "rootCAs: entry 0"},
		{"client cert without key", func() error { _, err := ClientTLSConfig(p.cert, nil, [][]byte{ca.pem}, ""); return err }, "keyPEM: empty"},
		{"pinned without server cert", func() error { _, err := PinnedClientTLSConfig(nil, nil, nil); return err }, "serverCertPEM"},
		{"pinned with two server certs", func() error {
			_, err := PinnedClientTLSConfig(nil, nil, append(append([]byte{}, p.cert...), other.cert...))
			return err
		}, "serverCertPEM"},
		{"pinned key without cert", func() error { _, err := PinnedClientTLSConfig(nil, p.key, p.cert); return err }, "certPEM: empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.fn()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
			if body := strings.Split(string(p.key), "\n")[1]; strings.Contains(err.Error(), body) {
				t.Fatalf("error leaks key material: %v", err)
			}
		})
	}
	good, err := ServerTLSConfig(p.cert, p.key, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if good.MinVersion != tls.VersionTLS12 || good.ClientAuth != tls.RequestClientCert {
		t.Fatalf("server config: MinVersion %x ClientAuth %v", good.MinVersion, good.ClientAuth)
	}
}

func TestCertHash(t *testing.T) {
	certPEM := []byte("-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n")
	want := sha256.Sum256([]byte{1, 2, 3})
	if got := CertHash(certPEM); !bytes.Equal(got, want[:]) {
		t.Fatalf("CertHash = %x, want %x", got, want)
	}
	if got := CertHash([]byte("not pem")); got != nil {
		t.Fatalf("CertHash of garbage = %x, want nil", got)
	}
}
