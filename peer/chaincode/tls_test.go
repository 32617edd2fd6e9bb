package chaincode

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"
)

type tlsFiles struct {
	ca, serverCert, serverKey, clientCert, clientKey []byte
}

func newTLSFiles(t *testing.T) *tlsFiles {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leaf := func(serial int64, usage x509.ExtKeyUsage) ([]byte, []byte) {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "leaf"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, _ := x509.MarshalPKCS8PrivateKey(k)
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
			pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
	}
	f := &tlsFiles{ca: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})}
	f.serverCert, f.serverKey = leaf(2, x509.ExtKeyUsageServerAuth)
	f.clientCert, f.clientKey = leaf(3, x509.ExtKeyUsageClientAuth)
	return f
}

func TestExecuteMutualTLS(t *testing.T) {
	files := newTLSFiles(t)
	f := startFakeCCTLS(t, "tls:1", func(s *fakeStub) { s.ok("secure") }, files)
	l := newTestLedger(t)
	r := newTestRuntime(t, Options{})
	conn := &Connection{Address: f.addr, DialTimeout: 2 * time.Second, TLSRequired: true, ClientAuthRequired: true,
		RootCert: files.ca, ClientCert: files.clientCert, ClientKey: files.clientKey}
	tx := &fakeTx{sim: l.sim("t1"), channel: "ch", txid: "t1", name: "cc"}
	resp, _, err := r.Execute(context.Background(), "tls:1", conn, tx, input("x"), false)
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetStatus() != 200 || string(resp.GetPayload()) != "secure" {
		t.Fatalf("response %v", resp)
	}

	for _, tc := range []struct {
		name string
		conn *Connection
		want string
	}{
		{"no client cert", &Connection{Address: f.addr, DialTimeout: time.Second, TLSRequired: true, RootCert: files.ca}, "dial"},
		{"wrong root", &Connection{Address: f.addr, DialTimeout: time.Second, TLSRequired: true, ClientAuthRequired: true,
			RootCert: files.clientCert, ClientCert: files.clientCert, ClientKey: files.clientKey}, "dial"},
		{"plaintext", &Connection{Address: f.addr, DialTimeout: 500 * time.Millisecond}, "dial"},
		{"bad client key", &Connection{Address: f.addr, DialTimeout: time.Second, TLSRequired: true, ClientAuthRequired: true,
			RootCert: files.ca, ClientCert: files.clientCert, ClientKey: []byte("junk")}, "TLS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newTestRuntime(t, Options{})
			tx := &fakeTx{sim: l.sim("t2"), channel: "ch", txid: "t2", name: "cc"}
			_, _, err := r.Execute(context.Background(), "tls:1", tc.conn, tx, input("x"), false)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}
