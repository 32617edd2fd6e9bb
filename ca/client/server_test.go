package client

import (
	"context"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"weft/ca/server"
	"weft/ca/store"
	"weft/fabcrypto"
	"weft/msp"
)

// realCA starts weft's CA server (over TLS) issuing from an intermediate
// CA, with the bootstrap registrar admin:adminpw.
func realCA(t *testing.T) *Client {
	t.Helper()
	ctx := context.Background()
	f := newFakeCA(t, true) // only for its root and intermediate keys
	st, err := store.Open(ctx, store.DriverSQLite, filepath.Join(t.TempDir(), "ca.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h, err := server.New(ctx, server.Options{Version: "test", CAs: []server.CAConfig{{
		Name: "ca-org1", Cert: f.issuer.Cert, Key: f.issuer.Key, Chain: []*x509.Certificate{f.root.Cert}, Store: st, MaxEnrollments: -1,
		Bootstrap:            []server.BootstrapIdentity{server.AdminIdentity("admin", "adminpw")},
		Affiliations:         []string{"org1.department1"},
		AllowIdentityRemoval: true, AllowAffiliationRemoval: true,
	}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return &Client{URL: srv.URL, CAName: "ca-org1", HTTP: srv.Client()}
}

func TestAgainstServer(t *testing.T) {
	ctx := context.Background()
	c := realCA(t)

	info, err := c.CAInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if certs, err := fabcrypto.ParseCertsPEM(info.CAChain); err != nil || len(certs) != 2 || info.CAName != "ca-org1" {
		t.Fatalf("cainfo chain %d certs, name %q, %v", len(certs), info.CAName, err)
	}
	admin, err := c.Enroll(ctx, "admin", "adminpw", EnrollRequest{})
	if err != nil {
		t.Fatal(err)
	}
	reg := admin.Signer()

	secret, err := c.Register(ctx, reg, RegistrationRequest{Name: "orderer0", Type: "orderer", Affiliation: "org1"})
	if err != nil || secret == "" {
		t.Fatalf("register = %q, %v", secret, err)
	}
	e, err := c.Enroll(ctx, "orderer0", secret, EnrollRequest{Hosts: []string{"orderer0.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "msp")
	if err := WriteMSP(dir, e, MSPOptions{NodeOUs: true}); err != nil {
		t.Fatal(err)
	}
	cfg, err := msp.ConfigFromDir(dir, "Org1MSP")
	if err != nil {
		t.Fatal(err)
	}
	m, err := msp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	si, err := msp.LoadSigningIdentity(dir, "Org1MSP")
	if err != nil {
		t.Fatal(err)
	}
	id, err := m.DeserializeIdentity(si.Serialize())
	if err != nil {
		t.Fatal(err)
	}
	if roles, err := m.Roles(id); err != nil || roles[len(roles)-1] != msp.RoleOrderer {
		t.Fatalf("orderer0 roles = %v, %v", roles, err)
	}
	loaded, err := LoadSigner(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Reenroll(ctx, loaded, EnrollRequest{}); err != nil {
		t.Fatalf("reenroll with the loaded signer: %v", err)
	}

	if s, err := c.AddIdentity(ctx, reg, RegistrationRequest{Name: "user2", Type: "client", Affiliation: "org1.department1", Secret: "pw2"}); err != nil || s != "pw2" {
		t.Fatalf("add identity = %q, %v", s, err)
	}
	mod, err := c.ModifyIdentity(ctx, reg, "user2", ModifyIdentityRequest{Type: "peer"})
	if err != nil || mod.Type != "peer" {
		t.Fatalf("modify identity = %+v, %v", mod, err)
	}
	if _, err := c.AddAffiliation(ctx, reg, "org3", false); err != nil {
		t.Fatal(err)
	}
	if a, err := c.ModifyAffiliation(ctx, reg, "org3", "org4", false); err != nil || a.Name != "org4" {
		t.Fatalf("modify affiliation = %+v, %v", a, err)
	}
	if a, err := c.GetAffiliation(ctx, reg, "org4"); err != nil || a.Name != "org4" {
		t.Fatalf("get affiliation = %+v, %v", a, err)
	}
	if _, err := c.RemoveAffiliation(ctx, reg, "org4", false); err != nil {
		t.Fatal(err)
	}
	certs, err := c.ListCertificates(ctx, reg, CertificateFilter{ID: "orderer0"})
	if err != nil || len(certs) != 2 {
		t.Fatalf("certificates of orderer0: %d, %v", len(certs), err)
	}
	cert, _ := fabcrypto.ParseCertPEM(e.Cert)
	rev, err := c.Revoke(ctx, reg, RevocationRequest{Serial: cert.SerialNumber.Text(16), AKI: hexOf(cert.AuthorityKeyId), GenCRL: true})
	if err != nil || len(rev.RevokedCerts) != 1 || len(rev.CRL) == 0 {
		t.Fatalf("revoke by serial = %+v, %v", rev, err)
	}
	if _, err := c.GenCRL(ctx, reg, CRLFilter{}); err != nil {
		t.Fatal(err)
	}

	// Errors come back typed, naming the endpoint.
	var se *ServerError
	if _, err := c.Enroll(ctx, "admin", "wrong", EnrollRequest{}); !errors.As(err, &se) || se.HTTPStatus != 401 || se.Code == 0 || se.Endpoint != "enroll" {
		t.Errorf("wrong secret: %#v", err)
	}
	user, err := c.Enroll(ctx, "user2", "pw2", EnrollRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Register(ctx, user.Signer(), RegistrationRequest{Name: "x"}); !errors.As(err, &se) || se.HTTPStatus != 403 || se.Endpoint != "register" {
		t.Errorf("register by a non-registrar: %#v", err)
	}
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }
