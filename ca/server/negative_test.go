package server

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"weft/fabcrypto"
)

// fixture: a CA with an enrolled admin, a limited registrar "reg1" (may
// register peers, give app.* attributes) and an enrolled client "alice".
type fixture struct {
	*testCA
	admin, reg1, alice *creds
	aliceSecret        string
}

func newFixture(t *testing.T, mutate func([]CAConfig) []CAConfig) *fixture {
	tc := startCA(t, mutate)
	f := &fixture{testCA: tc}
	f.admin = tc.enroll("admin", "adminpw", nil)
	regSecret := tc.register(f.admin, map[string]any{"id": "reg1", "type": "client", "affiliation": "org1", "max_enrollments": -1,
		"attrs": []map[string]any{{"name": "hf.Registrar.Roles", "value": "peer"}, {"name": "hf.Registrar.Attributes", "value": "app.*"}}})
	f.reg1 = tc.enroll("reg1", regSecret, nil)
	f.aliceSecret = tc.register(f.admin, map[string]any{"id": "alice", "affiliation": "org1.department1", "max_enrollments": 1})
	f.alice = tc.enroll("alice", f.aliceSecret, nil)
	return f
}

func TestNegative(t *testing.T) {
	f := newFixture(t, func(c []CAConfig) []CAConfig {
		other := newRoot(t, "ca2")
		c = append(c, baseConfig(t, "ca2", other, openStore(t)))
		return c
	})
	csr := func(cn string) map[string]any { return map[string]any{"certificate_request": csrFor(t, newKey(t), cn)} }
	// A token with alice's certificate but reg1's signature.
	mixed := func(r *http.Request, body []byte) {
		tokA := signToken(t, f.alice.certPEM, f.alice.key, r.Method, r.URL.RequestURI(), body)
		tokB := signToken(t, f.reg1.certPEM, f.reg1.key, r.Method, r.URL.RequestURI(), body)
		r.Header.Set("Authorization", strings.Split(tokA, ".")[0]+"."+strings.Split(tokB, ".")[1])
	}
	otherAdmin := func() *creds {
		key := newKey(t)
		r := f.do("POST", "/api/v1/enroll?ca=ca2", map[string]any{"certificate_request": csrFor(t, key, "admin")}, basic("admin", "adminpw"))
		if !r.Success {
			t.Fatalf("enroll on ca2: %+v", r.Errors)
		}
		return credsFrom(t, "admin", r, key)
	}()

	tests := []struct {
		name   string
		method string
		path   string
		body   any
		auth   func(*http.Request, []byte)
		status int
		code   int
	}{
		{"wrong secret", "POST", "/api/v1/enroll", csr("alice"), basic("alice", "nope"), 401, ErrAuthenticationFailure},
		{"unknown user", "POST", "/api/v1/enroll", csr("mallory"), basic("mallory", "x"), 401, ErrAuthenticationFailure},
		{"max enrollments exceeded", "POST", "/api/v1/enroll", csr("alice"), basic("alice", f.aliceSecret), 401, ErrAuthenticationFailure},
		{"no authorization header", "POST", "/api/v1/enroll", csr("alice"), nil, 401, ErrNoAuthHdr},
		{"malformed CSR", "POST", "/api/v1/enroll", map[string]any{"certificate_request": "not a csr"}, basic("admin", "adminpw"), 400, ErrBadCSR},
		{"CSR of another CN", "POST", "/api/v1/enroll", csr("someoneelse"), basic("admin", "adminpw"), 403, ErrCNInvalidEnroll},
		{"unknown profile", "POST", "/api/v1/enroll", map[string]any{"certificate_request": csrFor(t, newKey(t), "admin"), "profile": "bogus"}, basic("admin", "adminpw"), 400, ErrBadReqBody},
		{"CA cert without hf.IntermediateCA", "POST", "/api/v1/reenroll", map[string]any{"certificate_request": csrFor(t, newKey(t), "reg1"), "profile": "ca"}, f.reg1.tok(t), 403, ErrAuthorizationFailure},
		{"empty body", "POST", "/api/v1/enroll", nil, basic("admin", "adminpw"), 400, ErrEmptyReqBody},
		{"body not JSON", "POST", "/api/v1/register", []byte("{"), f.admin.tok(t), 400, ErrBadReqBody},
		{"registrar without the role", "POST", "/api/v1/register", map[string]any{"id": "c1", "type": "client", "affiliation": "org1"}, f.reg1.tok(t), 403, ErrAuthorizationFailure},
		{"registrar outside its affiliation", "POST", "/api/v1/register", map[string]any{"id": "p1", "type": "peer", "affiliation": "org2"}, f.reg1.tok(t), 403, ErrAuthorizationFailure},
		{"attribute not in hf.Registrar.Attributes", "POST", "/api/v1/register", map[string]any{"id": "p2", "type": "peer", "attrs": []map[string]any{{"name": "other.x", "value": "1"}}}, f.reg1.tok(t), 403, ErrAuthorizationFailure},
		{"hf right the registrar lacks", "POST", "/api/v1/register", map[string]any{"id": "p3", "type": "peer", "attrs": []map[string]any{{"name": "hf.Revoker", "value": "true"}}}, f.reg1.tok(t), 403, ErrAuthorizationFailure},
		{"fixed attribute", "POST", "/api/v1/register", map[string]any{"id": "p4", "type": "peer", "attrs": []map[string]any{{"name": "hf.EnrollmentID", "value": "x"}}}, f.admin.tok(t), 403, ErrAuthorizationFailure},
		{"not a registrar", "POST", "/api/v1/register", map[string]any{"id": "p5"}, f.alice.tok(t), 403, ErrAuthorizationFailure},
		{"duplicate identity", "POST", "/api/v1/register", map[string]any{"id": "alice", "affiliation": "org1"}, f.admin.tok(t), 409, ErrDupIdentityReg},
		{"max enrollments below -1", "POST", "/api/v1/register", map[string]any{"id": "p6", "max_enrollments": -5}, f.admin.tok(t), 400, ErrInvalidMaxEnroll},
		{"unknown affiliation", "POST", "/api/v1/register", map[string]any{"id": "p7", "affiliation": "org9"}, f.admin.tok(t), 403, ErrAuthorizationFailure},
		{"token: cert of A, signature of B", "POST", "/api/v1/register", map[string]any{"id": "p8"}, mixed, 401, ErrAuthenticationFailure},
		{"token: garbage", "GET", "/api/v1/identities", nil, func(r *http.Request, _ []byte) { r.Header.Set("Authorization", "abc.def") }, 401, ErrAuthenticationFailure},
		{"token: basic auth on a token endpoint", "GET", "/api/v1/identities", nil, basic("admin", "adminpw"), 401, ErrAuthenticationFailure},
		{"token: certificate from another CA", "GET", "/api/v1/identities", nil, otherAdmin.tok(t), 401, ErrAuthenticationFailure},
		{"unknown caname (query)", "GET", "/api/v1/cainfo?ca=nope", nil, nil, 404, ErrCANotFound},
		{"unknown caname (body)", "POST", "/api/v1/enroll", map[string]any{"caname": "nope", "certificate_request": "x"}, basic("admin", "adminpw"), 404, ErrCANotFound},
		{"method not allowed", "GET", "/api/v1/enroll", nil, nil, 405, ErrMethodNotAllowed},
		{"gencrl without hf.GenCRL", "POST", "/api/v1/gencrl", map[string]any{}, f.reg1.tok(t), 403, ErrAuthorizationFailure},
		{"gencrl bad window", "POST", "/api/v1/gencrl", map[string]any{"revokedafter": "2020-01-02T00:00:00Z", "revokedbefore": "2020-01-01T00:00:00Z"}, f.admin.tok(t), 400, ErrInvalidRevokedAfter},
		{"revoke without hf.Revoker", "POST", "/api/v1/revoke", map[string]any{"id": "alice"}, f.reg1.tok(t), 403, ErrAuthorizationFailure},
		{"revoke without arguments", "POST", "/api/v1/revoke", map[string]any{}, f.admin.tok(t), 400, ErrMissingRevokeArgs},
		{"revoke unknown reason", "POST", "/api/v1/revoke", map[string]any{"id": "alice", "reason": "bored"}, f.admin.tok(t), 400, ErrBadReqBody},
		{"revoke unknown certificate", "POST", "/api/v1/revoke", map[string]any{"serial": "abc", "aki": "def"}, f.admin.tok(t), 404, ErrRevCertNotFound},
		{"affiliations without hf.AffiliationMgr", "GET", "/api/v1/affiliations", nil, f.reg1.tok(t), 403, ErrAuthorizationFailure},
		{"add existing affiliation", "POST", "/api/v1/affiliations", map[string]any{"name": "org1"}, f.admin.tok(t), 409, ErrUpdateConfigAddAff},
		{"add affiliation without parent", "POST", "/api/v1/affiliations", map[string]any{"name": "org7.x"}, f.admin.tok(t), 400, ErrUpdateConfigAddAff},
		{"delete affiliation in use", "DELETE", "/api/v1/affiliations/org1", nil, f.admin.tok(t), 400, ErrUpdateConfigRemoveAff},
		{"identity outside registrar's reach", "GET", "/api/v1/identities/admin", nil, f.reg1.tok(t), 403, ErrAuthorizationFailure},
		{"unknown identity", "GET", "/api/v1/identities/nobody", nil, f.admin.tok(t), 404, ErrDBGet},
		{"delete self without force", "DELETE", "/api/v1/identities/admin", nil, f.admin.tok(t), 403, ErrRemoveIdentity},
		{"bad force value", "DELETE", "/api/v1/identities/alice?force=maybe", nil, f.admin.tok(t), 400, ErrGettingBoolQueryParm},
		{"certificates without rights", "GET", "/api/v1/certificates", nil, f.alice.tok(t), 403, ErrAuthorizationFailure},
		{"certificates bad time", "GET", "/api/v1/certificates?expired_start=yesterday", nil, f.admin.tok(t), 400, ErrGettingCert},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(tt.method, tt.path, tt.body, tt.auth)
			if r.Success || r.status != tt.status || r.code() != tt.code {
				t.Fatalf("got success=%v status %d errors %+v, want status %d code %d", r.Success, r.status, r.Errors, tt.status, tt.code)
			}
			if len(r.Result) == 0 || string(r.Result) != `""` {
				t.Fatalf("error result = %s, want \"\"", r.Result)
			}
		})
	}
}

func TestPasswordLockout(t *testing.T) {
	tc := startCA(t, func(c []CAConfig) []CAConfig { c[0].PasswordAttempts = 2; return c })
	body := func() map[string]any { return map[string]any{"certificate_request": csrFor(t, newKey(t), "admin")} }
	for i := 0; i < 2; i++ {
		if r := tc.do("POST", "/api/v1/enroll", body(), basic("admin", "wrong")); r.code() != ErrAuthenticationFailure {
			t.Fatalf("attempt %d: %+v", i, r.Errors)
		}
	}
	r := tc.do("POST", "/api/v1/enroll", body(), basic("admin", "adminpw"))
	if r.status != 401 || r.code() != ErrPasswordAttempts {
		t.Fatalf("after lockout: %d %+v", r.status, r.Errors)
	}
}

func TestCorrectSecretResetsAttempts(t *testing.T) {
	tc := startCA(t, func(c []CAConfig) []CAConfig { c[0].PasswordAttempts = 2; return c })
	body := func() map[string]any { return map[string]any{"certificate_request": csrFor(t, newKey(t), "admin")} }
	tc.do("POST", "/api/v1/enroll", body(), basic("admin", "wrong"))
	tc.enroll("admin", "adminpw", nil)
	tc.do("POST", "/api/v1/enroll", body(), basic("admin", "wrong"))
	tc.enroll("admin", "adminpw", nil)
}

func TestReplayedTokenRefused(t *testing.T) {
	f := newFixture(t, nil)
	body := []byte(`{"id":"replay1","affiliation":"org1"}`)
	tok := signToken(t, f.admin.certPEM, f.admin.key, "POST", "/api/v1/register", body)
	auth := func(r *http.Request, _ []byte) { r.Header.Set("Authorization", tok) }
	if r := f.do("POST", "/api/v1/register", body, auth); !r.Success {
		t.Fatalf("first use: %+v", r.Errors)
	}
	if r := f.do("POST", "/api/v1/register", body, auth); r.status != 401 || r.code() != ErrAuthenticationFailure {
		t.Fatalf("replay: %d %+v", r.status, r.Errors)
	}
	// Identical reads repeat tokens legitimately (deterministic ECDSA in
	// the npm client), so they are not refused.
	get := signToken(t, f.admin.certPEM, f.admin.key, "GET", "/api/v1/identities", nil)
	for i := 0; i < 2; i++ {
		if r := f.do("GET", "/api/v1/identities", nil, func(r *http.Request, _ []byte) { r.Header.Set("Authorization", get) }); !r.Success {
			t.Fatalf("read %d: %+v", i, r.Errors)
		}
	}
}

// A token in the pre-1.4 form (body and certificate only) is refused: it
// would authorize any endpoint taking the same body.
func TestLegacyTokenRefused(t *testing.T) {
	f := newFixture(t, nil)
	body := []byte(`{"id":"legacy1","affiliation":"org1"}`)
	b64c := base64.StdEncoding.EncodeToString(f.admin.certPEM)
	sig, err := fabcrypto.Sign(f.admin.key, []byte(base64.StdEncoding.EncodeToString(body)+"."+b64c))
	if err != nil {
		t.Fatal(err)
	}
	tok := b64c + "." + base64.StdEncoding.EncodeToString(sig)
	if r := f.do("POST", "/api/v1/register", body, func(r *http.Request, _ []byte) { r.Header.Set("Authorization", tok) }); r.Success || r.status != http.StatusUnauthorized || r.code() != ErrAuthenticationFailure {
		t.Fatalf("legacy token: status %d success %v %+v", r.status, r.Success, r.Errors)
	}
}

func TestRevokedIdentityToken(t *testing.T) {
	f := newFixture(t, nil)
	if r := f.do("POST", "/api/v1/revoke", map[string]any{"id": "alice"}, f.admin.tok(t)); !r.Success {
		t.Fatalf("revoke: %+v", r.Errors)
	}
	for _, path := range []string{"/api/v1/identities", "/api/v1/certificates"} {
		if r := f.do("GET", path, nil, f.alice.tok(t)); r.status != 401 || r.code() != ErrAuthenticationFailure {
			t.Fatalf("%s with revoked token: %d %+v", path, r.status, r.Errors)
		}
	}
	// A single revoked certificate is refused too, though its owner is not.
	serial, aki := certKeys(f.reg1.cert)
	if r := f.do("POST", "/api/v1/revoke", map[string]any{"serial": serial, "aki": aki}, f.admin.tok(t)); !r.Success {
		t.Fatalf("revoke cert: %+v", r.Errors)
	}
	if r := f.do("GET", "/api/v1/identities", nil, f.reg1.tok(t)); r.status != 401 || r.code() != ErrAuthenticationFailure {
		t.Fatalf("revoked cert: %d %+v", r.status, r.Errors)
	}
}
