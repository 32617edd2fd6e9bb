package client

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"weft/fabcrypto"
)

func TestClientFlow(t *testing.T) {
	ctx := context.Background()
	f := newFakeCA(t, false)
	_, c := f.start(true)

	info, err := c.CAInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.CAName != "ca-org1" || info.Version != "fake-1" || string(info.CAChain) != string(f.chain) {
		t.Fatalf("cainfo = %+v", info)
	}

	admin, err := c.Enroll(ctx, "admin", "adminpw", EnrollRequest{Hosts: []string{"admin.example.com", "127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	if id, secret, ok := basicFrom(f.last.auth); !ok || id != "admin" || secret != "adminpw" {
		t.Errorf("enroll auth = %q", f.last.auth)
	}
	if f.last.body["caname"] != "ca-org1" {
		t.Errorf("enroll body caname = %v", f.last.body["caname"])
	}
	cert := parseCert(t, admin.Cert)
	if cert.Subject.CommonName != "admin" || len(cert.DNSNames) != 1 || len(cert.IPAddresses) != 1 {
		t.Errorf("admin cert subject %v SANs %v %v", cert.Subject, cert.DNSNames, cert.IPAddresses)
	}
	reg := admin.Signer()

	secret, err := c.Register(ctx, reg, RegistrationRequest{Name: "user1", Type: "client", Affiliation: "org1.department1",
		Attributes: []Attribute{{Name: "role", Value: "auditor", ECert: true}}, MaxEnrollments: -1})
	if err != nil {
		t.Fatal(err)
	}
	if secret != "generated" || f.last.caller != "admin" {
		t.Errorf("register: secret %q caller %q", secret, f.last.caller)
	}
	if b := f.last.body; b["id"] != "user1" || b["type"] != "client" || b["affiliation"] != "org1.department1" ||
		b["max_enrollments"] != float64(-1) || b["caname"] != "ca-org1" {
		t.Errorf("register body = %v", b)
	}
	if attrs, _ := f.last.body["attrs"].([]any); len(attrs) != 1 {
		t.Errorf("register attrs = %v", f.last.body["attrs"])
	}

	user, err := c.Enroll(ctx, "user1", secret, EnrollRequest{AttrReqs: []AttrReq{{Name: "role"}}})
	if err != nil {
		t.Fatal(err)
	}
	if ou := parseCert(t, user.Cert).Subject.OrganizationalUnit; len(ou) != 1 || ou[0] != "client" {
		t.Errorf("user OU = %v", ou)
	}
	if reqs, _ := f.last.body["attr_reqs"].([]any); len(reqs) != 1 {
		t.Errorf("attr_reqs = %v", f.last.body["attr_reqs"])
	}
	renewed, err := c.Reenroll(ctx, user.Signer(), EnrollRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if renewed.Key.Equal(user.Key) || parseCert(t, renewed.Cert).Subject.CommonName != "user1" || f.last.caller != "user1" {
		t.Errorf("reenroll did not renew user1's key and certificate")
	}

	ids, err := c.ListIdentities(ctx, reg)
	if err != nil || len(ids) != 2 {
		t.Fatalf("identities = %v, %v", ids, err)
	}
	if f.last.uri != "/api/v1/identities?ca=ca-org1" {
		t.Errorf("identities URI = %q", f.last.uri)
	}
	got, err := c.GetIdentity(ctx, reg, "user1")
	if err != nil || got.Type != "client" || got.Affiliation != "org1.department1" {
		t.Fatalf("get identity = %+v, %v", got, err)
	}
	aff, err := c.ListAffiliations(ctx, reg)
	if err != nil || aff.Name != "." || len(aff.Affiliations) != 1 || aff.Affiliations[0].Affiliations[0].Name != "org1.department1" {
		t.Fatalf("affiliations = %+v, %v", aff, err)
	}
	certs, err := c.ListCertificates(ctx, reg, CertificateFilter{ID: "user1", NotExpired: true})
	if err != nil || len(certs) != 3 {
		t.Fatalf("certificates = %d, %v", len(certs), err)
	}
	parseCert(t, certs[2])
	if !strings.Contains(f.last.uri, "id=user1") || !strings.Contains(f.last.uri, "notexpired=true") {
		t.Errorf("certificates URI = %q", f.last.uri)
	}

	rev, err := c.Revoke(ctx, reg, RevocationRequest{Name: "user1", Reason: "keycompromise", GenCRL: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rev.RevokedCerts) != 2 || f.last.body["reason"] != "keycompromise" || f.last.body["gencrl"] != true {
		t.Errorf("revoke = %+v body %v", rev, f.last.body)
	}
	if crl := parseCRL(t, rev.CRL); len(crl.RevokedCertificateEntries) != 2 {
		t.Errorf("revoke CRL lists %d entries", len(crl.RevokedCertificateEntries))
	}
	crlPEM, err := c.GenCRL(ctx, reg, CRLFilter{})
	if err != nil {
		t.Fatal(err)
	}
	parseCRL(t, crlPEM)
	if _, ok := f.last.body["revokedafter"]; ok {
		t.Errorf("zero times must be left out: %v", f.last.body)
	}
	// A revoked identity can no longer authenticate.
	var se *ServerError
	if _, err := c.Reenroll(ctx, renewed.Signer(), EnrollRequest{}); !errors.As(err, &se) || se.HTTPStatus != 401 {
		t.Errorf("reenroll after revoke: %v", err)
	}

	removed, err := c.RemoveIdentity(ctx, reg, "user1", true)
	if err != nil || removed.ID != "user1" {
		t.Fatalf("remove = %+v, %v", removed, err)
	}
	if f.last.method != "DELETE" || f.last.uri != "/api/v1/identities/user1?ca=ca-org1&force=true" {
		t.Errorf("remove request %s %s", f.last.method, f.last.uri)
	}
}

func TestTokenCoversRequest(t *testing.T) {
	f := newFakeCA(t, false)
	key, _ := fabcrypto.GenerateKey()
	cert, err := f.issuer.Issue(fabcrypto.CertSpec{CommonName: "admin", PublicKey: &key.PublicKey, KeyUsage: x509.KeyUsageDigitalSignature})
	if err != nil {
		t.Fatal(err)
	}
	s := &Signer{Cert: fabcrypto.EncodeCertPEM(cert), Key: key}
	tok, err := s.Token("GET", "/api/v1/identities?ca=x", nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, method, uri string
		body              []byte
		ok                bool
	}{
		{"as signed", "GET", "/api/v1/identities?ca=x", nil, true},
		{"other method", "POST", "/api/v1/identities?ca=x", nil, false},
		{"other query", "GET", "/api/v1/identities?ca=y", nil, false},
		{"added body", "GET", "/api/v1/identities?ca=x", []byte("{}"), false},
	}
	for _, tc := range tests {
		r, _ := newRequest(tc.method, tc.uri, tok)
		if _, ok := f.authenticate(r, tc.body); ok != tc.ok {
			t.Errorf("%s: accepted = %v, want %v", tc.name, ok, tc.ok)
		}
	}
}

func TestClientErrors(t *testing.T) {
	ctx := context.Background()
	f := newFakeCA(t, false)
	_, c := f.start(false)
	admin, err := c.Enroll(ctx, "admin", "adminpw", EnrollRequest{})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := fabcrypto.GenerateKey()
	tests := []struct {
		name    string
		fail    *fakeFailure
		call    func(c *Client) error
		status  int // >0: want a *ServerError with this status
		code    int
		wantMsg string
	}{
		{name: "empty URL", call: func(c *Client) error { c.URL = ""; _, err := c.CAInfo(ctx); return err }, wantMsg: "URL is empty"},
		{name: "bad scheme", call: func(c *Client) error { c.URL = "ftp://h:1"; _, err := c.CAInfo(ctx); return err }, wantMsg: "scheme must be http or https"},
		{name: "no host", call: func(c *Client) error { c.URL = "http://"; _, err := c.CAInfo(ctx); return err }, wantMsg: "host is missing"},
		{name: "unreachable", call: func(c *Client) error { c.URL = "http://127.0.0.1:1"; _, err := c.CAInfo(ctx); return err }, wantMsg: "CA cainfo"},
		{name: "missing id", call: func(c *Client) error { _, err := c.Enroll(ctx, "", "x", EnrollRequest{}); return err }, wantMsg: "enrollment ID is empty"},
		{name: "missing secret", call: func(c *Client) error { _, err := c.Enroll(ctx, "admin", "", EnrollRequest{}); return err }, wantMsg: "secret is empty"},
		{name: "wrong secret", call: func(c *Client) error { _, err := c.Enroll(ctx, "admin", "nope", EnrollRequest{}); return err },
			status: 401, code: 20, wantMsg: "CA enroll: HTTP 401: error 20: authentication failure"},
		{name: "CN differs", call: func(c *Client) error {
			_, err := c.Enroll(ctx, "admin", "adminpw", EnrollRequest{CN: "root"})
			return err
		},
			status: 403, code: 1, wantMsg: "CN must equal"},
		{name: "duplicate", call: func(c *Client) error {
			_, err := c.Register(ctx, admin.Signer(), RegistrationRequest{Name: "admin"})
			return err
		}, status: 409, code: 74, wantMsg: "CA register: HTTP 409"},
		{name: "unknown identity", call: func(c *Client) error { _, err := c.GetIdentity(ctx, admin.Signer(), "ghost"); return err },
			status: 404, code: 63, wantMsg: "CA identities/ghost"},
		{name: "server error", fail: &fakeFailure{status: 500, code: 0, message: "database down"},
			call: func(c *Client) error { _, err := c.CAInfo(ctx); return err }, status: 500, wantMsg: "database down"},
		{name: "non-JSON error page", fail: &fakeFailure{status: 502, raw: "<html>bad gateway</html>"},
			call: func(c *Client) error { _, err := c.CAInfo(ctx); return err }, status: 502, wantMsg: "bad gateway"},
		{name: "non-JSON success", fail: &fakeFailure{status: 200, raw: "hello"},
			call: func(c *Client) error { _, err := c.CAInfo(ctx); return err }, wantMsg: "not JSON"},
		{name: "success false without errors", fail: &fakeFailure{status: 200, raw: `{"success":false}`},
			call: func(c *Client) error { _, err := c.CAInfo(ctx); return err }, status: 200, wantMsg: "without an error message"},
		{name: "nil registrar", call: func(c *Client) error { _, err := c.ListIdentities(ctx, nil); return err }, wantMsg: "signer is nil"},
		{name: "key mismatch", call: func(c *Client) error {
			_, err := c.ListIdentities(ctx, &Signer{Cert: admin.Cert, Key: other})
			return err
		}, wantMsg: "does not belong"},
		{name: "register without name", call: func(c *Client) error { _, err := c.Register(ctx, admin.Signer(), RegistrationRequest{}); return err }, wantMsg: "identity name is empty"},
		{name: "revoke without target", call: func(c *Client) error {
			_, err := c.Revoke(ctx, admin.Signer(), RevocationRequest{Serial: "01"})
			return err
		}, wantMsg: "both serial and AKI"},
		{name: "remove empty name", call: func(c *Client) error { _, err := c.RemoveIdentity(ctx, admin.Signer(), "", false); return err }, wantMsg: "identity name is empty"},
		{name: "affiliation empty name", call: func(c *Client) error { _, err := c.RemoveAffiliation(ctx, admin.Signer(), "", true); return err }, wantMsg: "affiliation name is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.mu.Lock()
			f.failWith = tc.fail
			f.mu.Unlock()
			defer func() { f.mu.Lock(); f.failWith = nil; f.mu.Unlock() }()
			cc := *c
			err := tc.call(&cc)
			if err == nil || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("error = %v, want it to mention %q", err, tc.wantMsg)
			}
			var se *ServerError
			isSE := errors.As(err, &se)
			if isSE != (tc.status > 0) {
				t.Fatalf("ServerError = %v for %v", isSE, err)
			}
			if isSE && (se.HTTPStatus != tc.status || se.Code != tc.code) {
				t.Errorf("ServerError = %+v, want status %d code %d", se, tc.status, tc.code)
			}
		})
	}
}

func TestTLS(t *testing.T) {
	ctx := context.Background()
	f := newFakeCA(t, false)
	srv, _ := f.start(true)
	dir := t.TempDir()
	rootFile := filepath.Join(dir, "tls-root.pem")
	if err := os.WriteFile(rootFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	conf, err := LoadTLSConfig(rootFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&Client{URL: srv.URL, TLS: conf}).CAInfo(ctx); err != nil {
		t.Errorf("with the server's root: %v", err)
	}
	other := filepath.Join(dir, "other.pem")
	if err := os.WriteFile(other, f.chain, 0o644); err != nil {
		t.Fatal(err)
	}
	wrong, err := LoadTLSConfig(other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&Client{URL: srv.URL, TLS: wrong}).CAInfo(ctx); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("with an unrelated root: %v", err)
	}
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not pem"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{filepath.Join(dir, "missing.pem"), garbage} {
		if _, err := LoadTLSConfig(bad); err == nil || !strings.Contains(err.Error(), "TLS root file") {
			t.Errorf("LoadTLSConfig(%s) = %v", bad, err)
		}
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		in, base, id, secret, err string
	}{
		{in: "https://admin:adminpw@localhost:7054", base: "https://localhost:7054", id: "admin", secret: "adminpw"},
		{in: "http://localhost:7054/", base: "http://localhost:7054"},
		{in: "http://u:p%40ss@h:1/ca", base: "http://h:1/ca", id: "u", secret: "p@ss"},
		{in: "localhost:7054", err: "scheme"},
		{in: "https://", err: "host is missing"},
		{in: "http://a b", err: "URL"},
	}
	for _, tc := range tests {
		base, id, secret, err := ParseURL(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseURL(%q) error = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || base != tc.base || id != tc.id || secret != tc.secret {
			t.Errorf("ParseURL(%q) = %q %q %q %v", tc.in, base, id, secret, err)
		}
	}
}

func parseCert(t *testing.T, p []byte) *x509.Certificate {
	t.Helper()
	c, err := fabcrypto.ParseCertPEM(p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func parseCRL(t *testing.T, p []byte) *x509.RevocationList {
	t.Helper()
	b, _ := pem.Decode(p)
	if b == nil {
		t.Fatalf("CRL is not PEM: %q", p)
	}
	crl, err := x509.ParseRevocationList(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return crl
}
