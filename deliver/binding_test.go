package deliver

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	grpcpeer "google.golang.org/grpc/peer"

	"weft/wire/common"
	"weft/wire/orderer"
)

func TestCheckBinding(t *testing.T) {
	hashA, hashB := []byte("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), []byte("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
	cases := []struct {
		name            string
		mutual          bool
		claimed, actual []byte
		ok              bool
	}{
		{"no TLS client auth, nothing claimed", false, nil, nil, true},
		{"mutual, matching", true, hashA, hashA, true},
		{"mutual, mismatch", true, hashA, hashB, false},
		{"mutual, not claimed", true, nil, hashA, false},
		{"mutual, no client cert", true, hashA, nil, false},
		{"optional cert, matching", false, hashA, hashA, true},
		{"optional cert, mismatch", false, hashA, hashB, false},
		{"optional cert presented, not claimed", false, nil, hashA, true},
		{"claimed without presented cert (Fabric ignores)", false, hashA, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := &Handler{MutualTLS: c.mutual, ClientCertHash: func(context.Context) []byte { return c.actual }}
			err := h.checkBinding(context.Background(), c.claimed)
			if (err == nil) != c.ok {
				t.Fatalf("err = %v, want ok %v", err, c.ok)
			}
		})
	}
}

// tlsPair is a throw-away CA-signed certificate for TLS tests.
func tlsCert(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, cn string, server bool) (tls.Certificate, *x509.Certificate) {
	t.Helper()
	key := check(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.DNSNames = []string{cn}
	}
	der := check(x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey))(t)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, check(x509.ParseCertificate(der))(t)
}

// peerCertHash is what comm.ClientCertHash does: SHA-256 of the presented
// client certificate's DER.
func peerCertHash(ctx context.Context) []byte {
	p, ok := grpcpeer.FromContext(ctx)
	if !ok {
		return nil
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.PeerCertificates) == 0 {
		return nil
	}
	sum := sha256.Sum256(info.State.PeerCertificates[0].Raw)
	return sum[:]
}

func TestTLSBindingEndToEnd(t *testing.T) {
	f := newFixture(t, 1)
	caKey := check(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))(t)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tlsca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	ca := check(x509.ParseCertificate(check(x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey))(t)))(t)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	serverCert, _ := tlsCert(t, ca, caKey, "bufnet", true)
	clientCert, clientX509 := tlsCert(t, ca, caKey, "client", false)
	goodHash := sha256.Sum256(clientX509.Raw)

	h := f.handler()
	h.MutualTLS = true
	h.ClientCertHash = peerCertHash
	conn := serve(t,
		func(s *grpc.Server) { orderer.RegisterAtomicBroadcastServer(s, abServer{h: h}) },
		[]grpc.ServerOption{grpc.Creds(credentials.NewTLS(&tls.Config{
			Certificates: []tls.Certificate{serverCert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert,
		}))},
		grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{
			Certificates: []tls.Certificate{clientCert}, RootCAs: pool, ServerName: "bufnet",
		})))

	cases := []struct {
		name   string
		hash   []byte
		status common.Status
		blocks int
	}{
		{"matching hash", goodHash[:], common.Status_SUCCESS, 2},
		{"hash of another certificate", make([]byte, 32), common.Status_BAD_REQUEST, 0},
		{"no hash", nil, common.Status_BAD_REQUEST, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := check(NewSeekEnvelope(testChannelID, f.client, seekInfo(0, 1), c.hash, time.Now()))(t)
			r := doRequest(t, conn, env)
			if r.status != c.status || len(r.blocks) != c.blocks {
				t.Fatalf("got %v %v, want %d blocks %v", r.numbers(), r.status, c.blocks, c.status)
			}
		})
	}
	// Pull carries the binding too.
	var got int
	if err := Pull(context.Background(), conn, testChannelID, f.client, 0, 1, goodHash[:], func(*common.Block) error { got++; return nil }); err != nil || got != 2 {
		t.Fatalf("pull with binding: %v, %d blocks", err, got)
	}
}
