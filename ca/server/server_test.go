package server

import (
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"reflect"
	"sort"
	"testing"

	"weft/fabcrypto"
)

func TestCAInfo(t *testing.T) {
	tc := startCA(t, nil)
	for _, tt := range []struct{ method, path string }{
		{"GET", "/api/v1/cainfo"}, {"POST", "/api/v1/cainfo"}, {"GET", "/cainfo"},
	} {
		r := tc.do(tt.method, tt.path, nil, nil)
		if !r.Success || r.status != 200 {
			t.Fatalf("%s %s: %d %+v", tt.method, tt.path, r.status, r.Errors)
		}
		var info caInfo
		if err := json.Unmarshal(r.Result, &info); err != nil {
			t.Fatal(err)
		}
		chain, _ := base64.StdEncoding.DecodeString(info.CAChain)
		if info.CAName != "ca-org1" || string(chain) != string(fabcrypto.EncodeCertPEM(tc.root.Cert)) || info.Version != "test" {
			t.Fatalf("%s %s: cainfo %+v", tt.method, tt.path, info)
		}
	}
}

func TestLifecycle(t *testing.T) {
	tc := startCA(t, nil)
	admin := tc.enroll("admin", "adminpw", nil)
	if err := admin.cert.CheckSignatureFrom(tc.root.Cert); err != nil {
		t.Fatalf("admin cert not issued by the CA: %v", err)
	}
	if got := admin.cert.Subject.OrganizationalUnit; !reflect.DeepEqual(got, []string{"client"}) {
		t.Fatalf("admin OU = %v, want [client]", got)
	}
	if want := map[string]string{"hf.EnrollmentID": "admin", "hf.Type": "client", "hf.Affiliation": ""}; !reflect.DeepEqual(certAttrs(t, admin.cert), want) {
		t.Fatalf("admin attrs = %v, want %v", certAttrs(t, admin.cert), want)
	}
	if string(admin.cert.AuthorityKeyId) != string(tc.root.Cert.SubjectKeyId) || admin.cert.IsCA ||
		admin.cert.KeyUsage != 1 /* digitalSignature */ {
		t.Fatalf("admin cert: aki/isCA/usage wrong: %x %v %v", admin.cert.AuthorityKeyId, admin.cert.IsCA, admin.cert.KeyUsage)
	}

	secret := tc.register(admin, map[string]any{
		"id": "user1", "type": "peer", "affiliation": "org1.department1", "max_enrollments": 2,
		"attrs": []map[string]any{{"name": "app.role", "value": "auditor", "ecert": true}, {"name": "other", "value": "x"}},
	})
	user := tc.enroll("user1", secret, map[string]any{"hosts": []string{"peer0.example.com", "10.0.0.1"}})
	if got := user.cert.Subject.OrganizationalUnit; !reflect.DeepEqual(got, []string{"peer", "org1", "department1"}) {
		t.Fatalf("user OU = %v", got)
	}
	if got, want := certAttrs(t, user.cert), map[string]string{"app.role": "auditor", "hf.EnrollmentID": "user1",
		"hf.Type": "peer", "hf.Affiliation": "org1.department1"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("user attrs = %v, want %v", got, want)
	}
	if len(user.cert.DNSNames) != 1 || user.cert.DNSNames[0] != "peer0.example.com" || len(user.cert.IPAddresses) != 1 {
		t.Fatalf("hosts not in SANs: %v %v", user.cert.DNSNames, user.cert.IPAddresses)
	}
	// Explicit attribute requests: only those, optional ones may be missing.
	user2 := tc.enroll("user1", secret, map[string]any{"attr_reqs": []map[string]any{{"name": "other"}, {"name": "nope", "optional": true}}})
	if got := certAttrs(t, user2.cert); !reflect.DeepEqual(got, map[string]string{"other": "x"}) {
		t.Fatalf("requested attrs = %v", got)
	}

	// TLS profile.
	tlsSecret := tc.register(admin, map[string]any{"id": "tlsuser", "affiliation": "org1", "max_enrollments": 0})
	tlsCert := tc.enroll("tlsuser", tlsSecret, map[string]any{"profile": "tls", "hosts": []string{"localhost"}})
	if len(tlsCert.cert.ExtKeyUsage) != 2 || tlsCert.cert.DNSNames[0] != "localhost" {
		t.Fatalf("tls profile: eku %v dns %v", tlsCert.cert.ExtKeyUsage, tlsCert.cert.DNSNames)
	}

	// Reenroll with the current certificate.
	key := newKey(t)
	r := tc.do("POST", "/api/v1/reenroll", map[string]any{"certificate_request": csrFor(t, key, "user1")}, user.tok(t))
	if !r.Success || r.status != http.StatusCreated {
		t.Fatalf("reenroll: %d %+v", r.status, r.Errors)
	}
	re := credsFrom(t, "user1", r, key)
	if re.cert.SerialNumber.Cmp(user.cert.SerialNumber) == 0 || re.cert.Subject.CommonName != "user1" {
		t.Fatal("reenroll returned the old certificate")
	}

	// Certificates of user1: three (two enrolls and the reenroll).
	r = tc.do("GET", "/api/v1/certificates?id=user1&ca=ca-org1", nil, admin.tok(t))
	var certs struct {
		Certs  []struct{ PEM string }
		CAName string `json:"caname"`
	}
	if err := json.Unmarshal(r.Result, &certs); err != nil || !r.Success || len(certs.Certs) != 3 || certs.CAName != "ca-org1" {
		t.Fatalf("certificates: %d %+v %s", r.status, r.Errors, r.Result)
	}

	// Revoke user1 by id with a CRL.
	r = tc.do("POST", "/api/v1/revoke", map[string]any{"id": "user1", "reason": "keycompromise", "gencrl": true}, admin.tok(t))
	var rev struct {
		RevokedCerts []struct{ Serial, AKI string }
		CRL          string
	}
	if err := json.Unmarshal(r.Result, &rev); err != nil || !r.Success || len(rev.RevokedCerts) != 3 {
		t.Fatalf("revoke: %d %+v %s", r.status, r.Errors, r.Result)
	}
	crl := parseCRL(t, rev.CRL, tc)
	var serials []string
	for _, e := range crl.RevokedCertificateEntries {
		serials = append(serials, e.SerialNumber.Text(16))
		if e.ReasonCode != 1 {
			t.Fatalf("CRL reason = %d, want 1 (keyCompromise)", e.ReasonCode)
		}
	}
	var want []string
	for _, c := range rev.RevokedCerts {
		want = append(want, c.Serial)
	}
	sort.Strings(serials)
	sort.Strings(want)
	if !reflect.DeepEqual(serials, want) {
		t.Fatalf("CRL serials %v, revoked %v", serials, want)
	}
	// gencrl agrees; a window before any revocation is empty.
	r = tc.do("POST", "/api/v1/gencrl", map[string]any{}, admin.tok(t))
	var g struct{ CRL string }
	if err := json.Unmarshal(r.Result, &g); err != nil || !r.Success {
		t.Fatalf("gencrl: %d %+v", r.status, r.Errors)
	}
	if n := len(parseCRL(t, g.CRL, tc).RevokedCertificateEntries); n != 3 {
		t.Fatalf("gencrl: %d entries, want 3", n)
	}
	r = tc.do("POST", "/api/v1/gencrl", map[string]any{"revokedbefore": "2001-01-01T00:00:00Z"}, admin.tok(t))
	if err := json.Unmarshal(r.Result, &g); err != nil || !r.Success || len(parseCRL(t, g.CRL, tc).RevokedCertificateEntries) != 0 {
		t.Fatalf("gencrl window: %d %+v", r.status, r.Errors)
	}
	// The revoked identity can neither enroll nor use its certificate.
	if r := tc.do("POST", "/api/v1/enroll", map[string]any{"certificate_request": csrFor(t, newKey(t), "user1")}, basic("user1", secret)); r.status != 401 || r.code() != ErrAuthenticationFailure {
		t.Fatalf("revoked enroll: %d %+v", r.status, r.Errors)
	}
	// Revoke one certificate by serial and AKI.
	serial, aki := certKeys(tlsCert.cert)
	r = tc.do("POST", "/api/v1/revoke", map[string]any{"serial": "00" + serial, "aki": aki}, admin.tok(t))
	if !r.Success || r.status != 200 {
		t.Fatalf("revoke serial: %d %+v", r.status, r.Errors)
	}
	r = tc.do("POST", "/api/v1/revoke", map[string]any{"serial": serial, "aki": aki}, admin.tok(t))
	if r.status != 404 || r.code() != ErrCertAlreadyRevoked {
		t.Fatalf("revoke twice: %d %+v", r.status, r.Errors)
	}
}

func parseCRL(t *testing.T, b64crl string, tc *testCA) *x509RevocationList {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(b64crl)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(raw)
	if block == nil || block.Type != "X509 CRL" {
		t.Fatalf("CRL is not PEM X509 CRL: %q", raw)
	}
	crl, err := parseRevocationList(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if err := crl.CheckSignatureFrom(tc.root.Cert); err != nil {
		t.Fatalf("CRL signature: %v", err)
	}
	return crl
}
