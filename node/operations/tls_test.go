package operations

import (
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"testing"

	"weft/fabcrypto"
)

func issuePair(t *testing.T, ca *fabcrypto.CA, cn string) tls.Certificate {
	t.Helper()
	key, err := fabcrypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue(fabcrypto.CertSpec{
		CommonName:  cn,
		SANs:        []string{"127.0.0.1"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		PublicKey:   &key.PublicKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	return keyPair(t, cert, key)
}

func keyPair(t *testing.T, cert *x509.Certificate, key *ecdsa.PrivateKey) tls.Certificate {
	t.Helper()
	keyPEM, err := fabcrypto.MarshalPrivateKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return pair
}

func TestTLSClientCertGuards(t *testing.T) {
	ca, err := fabcrypto.NewRootCA(fabcrypto.RootSpec{Subject: fabcrypto.Subject{CommonName: "ops-ca"}})
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	_, base := startServer(t, Options{TLS: &tls.Config{
		Certificates: []tls.Certificate{issuePair(t, ca, "node0")},
		ClientAuth:   tls.VerifyClientCertIfGiven,
		ClientCAs:    pool,
	}})
	base = "https" + base[len("http"):]

	client := func(certs ...tls.Certificate) *http.Client {
		return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: certs}}}
	}
	anon, admin := client(), client(issuePair(t, ca, "ops-admin"))

	cases := []struct {
		name   string
		c      *http.Client
		path   string
		status int
	}{
		{"healthz open", anon, "/healthz", 200},
		{"version open", anon, "/version", 200},
		{"metrics needs cert", anon, "/metrics", 401},
		{"logspec needs cert", anon, "/logspec", 401},
		{"metrics with cert", admin, "/metrics", 200},
		{"logspec with cert", admin, "/logspec", 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, body := call(t, tc.c, "GET", base+tc.path, "")
			if code != tc.status {
				t.Fatalf("GET %s: %d %q, want %d", tc.path, code, body, tc.status)
			}
		})
	}
	// Plain HTTP against the TLS listener must not be served.
	if resp, err := http.Get("http://" + base[len("https://"):] + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("plain HTTP request was served by the TLS listener")
		}
	}
}
