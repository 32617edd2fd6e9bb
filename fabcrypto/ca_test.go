package fabcrypto

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func mustCA(t *testing.T, cn string) *CA {
	t.Helper()
	ca, err := NewRootCA(RootSpec{Subject: Subject{
		CommonName: cn, Organization: "org1.example.com", OrganizationalUnit: "Fabric",
		Country: "US", Province: "California", Locality: "San Francisco",
	}})
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func checkBackdated(t *testing.T, c *x509.Certificate, start time.Time) {
	t.Helper()
	// Rounding to the minute may move "now" by up to 30s either way.
	lo, hi := start.Add(-Backdate-time.Minute), start.Add(-Backdate+31*time.Second)
	if c.NotBefore.Before(lo) || c.NotBefore.After(hi) {
		t.Fatalf("%s: NotBefore %v not backdated ~5m from %v", c.Subject.CommonName, c.NotBefore, start)
	}
	if got := c.NotAfter.Sub(c.NotBefore); got != DefaultValidity {
		t.Fatalf("%s: validity %v, want %v", c.Subject.CommonName, got, DefaultValidity)
	}
}

func TestNewRootCA(t *testing.T) {
	start := time.Now()
	ca := mustCA(t, "ca.org1.example.com")
	c := ca.Cert
	checkBackdated(t, c, start)
	if !c.IsCA || !c.BasicConstraintsValid {
		t.Fatal("root is not marked as CA")
	}
	wantKU := x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	if c.KeyUsage != wantKU {
		t.Fatalf("KeyUsage = %v, want %v", c.KeyUsage, wantKU)
	}
	ski, _ := SKI(&ca.Key.PublicKey)
	if !bytes.Equal(c.SubjectKeyId, ski) {
		t.Fatal("CA SubjectKeyId is not the SHA-256 SKI")
	}
	if c.Subject.CommonName != "ca.org1.example.com" || c.Subject.Organization[0] != "org1.example.com" {
		t.Fatalf("subject = %v", c.Subject)
	}
	if err := c.CheckSignatureFrom(c); err != nil {
		t.Fatalf("self signature: %v", err)
	}
	if _, err := NewRootCA(RootSpec{}); err == nil {
		t.Fatal("NewRootCA with empty CommonName succeeded")
	}
	if _, err := NewRootCA(RootSpec{Subject: Subject{CommonName: "x"}, Validity: -time.Hour}); err == nil {
		t.Fatal("NewRootCA with negative validity succeeded")
	}
}

func TestIssue(t *testing.T) {
	start := time.Now()
	ca := mustCA(t, "ca.org1.example.com")
	other := mustCA(t, "other")
	leafKey := mustKey(t)
	cert, err := ca.Issue(CertSpec{
		CommonName:          "peer0.org1.example.com",
		OrganizationalUnits: []string{"peer"},
		SANs:                []string{"peer0.org1.example.com", "peer0", "localhost", "127.0.0.1", "::1"},
		KeyUsage:            x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:         []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		PublicKey:           &leafKey.PublicKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	checkBackdated(t, cert, start)
	// DER sorts a multi-valued RDN, so only membership is meaningful.
	if ous := cert.Subject.OrganizationalUnit; len(ous) != 2 || !slices.Contains(ous, "Fabric") || !slices.Contains(ous, "peer") {
		t.Fatalf("OUs = %q, want the CA's OU and the node OU", ous)
	}
	if len(cert.Subject.Organization) != 0 || cert.Subject.Locality[0] != "San Francisco" {
		t.Fatalf("subject = %v", cert.Subject)
	}
	if got := strings.Join(cert.DNSNames, ","); got != "peer0.org1.example.com,peer0,localhost" {
		t.Fatalf("DNSNames = %q", got)
	}
	if len(cert.IPAddresses) != 2 || !cert.IPAddresses[0].Equal(net.ParseIP("127.0.0.1")) {
		t.Fatalf("IPAddresses = %v", cert.IPAddresses)
	}
	if cert.IsCA {
		t.Fatal("leaf marked CA")
	}
	if !bytes.Equal(cert.AuthorityKeyId, ca.Cert.SubjectKeyId) {
		t.Fatal("AuthorityKeyId does not name the issuing CA")
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: "localhost", KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		t.Fatalf("chain to issuing CA: %v", err)
	}
	wrong := x509.NewCertPool()
	wrong.AddCert(other.Cert)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: wrong}); err == nil {
		t.Fatal("leaf verified against an unrelated CA")
	}
	// Certificates carry low-S signatures like cryptogen's.
	if low, err := IsLowS(ca.Cert.PublicKey.(*ecdsa.PublicKey), cert.Signature); err != nil || !low {
		t.Fatalf("certificate signature low-S = %v, %v", low, err)
	}

	bad := []struct {
		name string
		ca   *CA
		spec CertSpec
	}{
		{"no CN", ca, CertSpec{PublicKey: &leafKey.PublicKey}},
		{"no key", ca, CertSpec{CommonName: "x"}},
		{"nil CA", nil, CertSpec{CommonName: "x", PublicKey: &leafKey.PublicKey}},
		{"CA without key", &CA{Cert: ca.Cert}, CertSpec{CommonName: "x", PublicKey: &leafKey.PublicKey}},
	}
	for _, tc := range bad {
		if _, err := tc.ca.Issue(tc.spec); err == nil {
			t.Errorf("%s: Issue succeeded", tc.name)
		}
	}
}

func TestIntermediateCAHasSHA256SKI(t *testing.T) {
	ca := mustCA(t, "root")
	k := mustKey(t)
	ic, err := ca.Issue(CertSpec{CommonName: "ica", IsCA: true, KeyUsage: x509.KeyUsageCertSign, PublicKey: &k.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	ski, _ := SKI(&k.PublicKey)
	if !ic.IsCA || !bytes.Equal(ic.SubjectKeyId, ski) {
		t.Fatal("intermediate lacks IsCA or SHA-256 SKI")
	}
}

func TestCertPEM(t *testing.T) {
	a, b := mustCA(t, "a"), mustCA(t, "b")
	one := EncodeCertPEM(a.Cert)
	bundle := append(append([]byte{}, one...), EncodeCertPEM(b.Cert)...)

	if c, err := ParseCertPEM(one); err != nil || !c.Equal(a.Cert) {
		t.Fatalf("ParseCertPEM(single) = %v", err)
	}
	certs, err := ParseCertsPEM(bundle)
	if err != nil || len(certs) != 2 || !certs[1].Equal(b.Cert) {
		t.Fatalf("ParseCertsPEM(bundle) = %d certs, %v", len(certs), err)
	}
	keyPEM, _ := MarshalPrivateKeyPEM(a.Key)
	bad := []struct {
		name, want string
		in         []byte
	}{
		{"bundle as single", "want exactly 1", bundle},
		{"empty", "no PEM certificate", nil},
		{"key block", "want \"CERTIFICATE\"", keyPEM},
		{"trailing junk", "trailing data", append(append([]byte{}, one...), "junk"...)},
		{"bad DER", "block 0", []byte("-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n")},
	}
	for _, tc := range bad {
		if _, err := ParseCertPEM(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error = %v, want containing %q", tc.name, err, tc.want)
		}
	}

	p := filepath.Join(t.TempDir(), "ca-cert.pem")
	if err := WriteCertFile(p, a.Cert); err != nil {
		t.Fatal(err)
	}
	if c, err := ReadCertFile(p); err != nil || !c.Equal(a.Cert) {
		t.Fatalf("ReadCertFile: %v", err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o644 {
		t.Fatalf("cert mode = %v", fi.Mode().Perm())
	}
	if err := WriteCertFile(p, nil); err == nil {
		t.Fatal("WriteCertFile(nil) succeeded")
	}
}
