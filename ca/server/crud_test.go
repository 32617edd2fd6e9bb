package server

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"

	"weft/fabcrypto"
)

func TestIdentitiesCRUD(t *testing.T) {
	f := newFixture(t, nil)
	// Add with a generated secret.
	r := f.do("POST", "/api/v1/identities", map[string]any{"id": "bob", "type": "peer", "affiliation": "org1.department1",
		"max_enrollments": 3, "attrs": []map[string]any{{"name": "app.x", "value": "1"}}, "caname": "ca-org1"}, f.admin.tok(t))
	var added identityResponse
	if err := json.Unmarshal(r.Result, &added); err != nil || r.status != http.StatusCreated || added.Secret == "" ||
		added.Type != "peer" || added.MaxEnrollments != 3 || added.CAName != "ca-org1" {
		t.Fatalf("add: %d %+v %s", r.status, r.Errors, r.Result)
	}
	f.enroll("bob", added.Secret, nil)

	// List: admin sees everyone, reg1 (peer roles, org1) only bob.
	list := func(c *creds) []string {
		r := f.do("GET", "/api/v1/identities?ca=ca-org1", nil, c.tok(t))
		var res struct {
			Identities []identityInfo `json:"identities"`
		}
		if err := json.Unmarshal(r.Result, &res); err != nil || !r.Success {
			t.Fatalf("list: %+v", r.Errors)
		}
		var names []string
		for _, i := range res.Identities {
			names = append(names, i.ID)
		}
		return names
	}
	if got := list(f.admin); len(got) != 4 {
		t.Fatalf("admin list = %v", got)
	}
	if got := list(f.reg1); len(got) != 1 || got[0] != "bob" {
		t.Fatalf("reg1 list = %v", got)
	}

	// Modify: type, affiliation, attribute removal, secret.
	r = f.do("PUT", "/api/v1/identities/bob", map[string]any{"affiliation": "org2.department1",
		"attrs": []map[string]any{{"name": "app.x", "value": ""}, {"name": "app.y", "value": "2", "ecert": true}}, "secret": "newpw"}, f.admin.tok(t))
	var mod identityResponse
	if err := json.Unmarshal(r.Result, &mod); err != nil || !r.Success || mod.Affiliation != "org2.department1" {
		t.Fatalf("modify: %+v %s", r.Errors, r.Result)
	}
	bob := f.enroll("bob", "newpw", nil)
	if got := certAttrs(t, bob.cert); got["app.y"] != "2" || got["hf.Affiliation"] != "org2.department1" || got["app.x"] != "" {
		t.Fatalf("attrs after modify = %v", got)
	}
	// reg1 (org1) can no longer manage bob.
	if r := f.do("GET", "/api/v1/identities/bob", nil, f.reg1.tok(t)); r.status != 403 {
		t.Fatalf("reg1 get bob after move: %d", r.status)
	}
	r = f.do("GET", "/api/v1/identities/bob", nil, f.admin.tok(t))
	var got identityResponse
	if err := json.Unmarshal(r.Result, &got); err != nil || got.ID != "bob" || got.Type != "peer" {
		t.Fatalf("get: %+v %s", r.Errors, r.Result)
	}

	// Delete revokes bob's certificates.
	if r := f.do("DELETE", "/api/v1/identities/bob", nil, f.admin.tok(t)); !r.Success {
		t.Fatalf("delete: %+v", r.Errors)
	}
	if r := f.do("GET", "/api/v1/identities/bob", nil, f.admin.tok(t)); r.status != 404 {
		t.Fatalf("get after delete: %d", r.status)
	}
	if r := f.do("GET", "/api/v1/identities", nil, bob.tok(t)); r.status != 401 {
		t.Fatalf("deleted identity's token: %d", r.status)
	}
}

func TestIdentityRemovalDisabled(t *testing.T) {
	f := newFixture(t, func(c []CAConfig) []CAConfig { c[0].AllowIdentityRemoval = false; return c })
	if r := f.do("DELETE", "/api/v1/identities/alice", nil, f.admin.tok(t)); r.status != 403 || r.code() != ErrRemoveIdentity {
		t.Fatalf("delete disabled: %d %+v", r.status, r.Errors)
	}
}

func TestAffiliationsCRUD(t *testing.T) {
	f := newFixture(t, nil)
	r := f.do("GET", "/api/v1/affiliations", nil, f.admin.tok(t))
	var all affResponse
	if err := json.Unmarshal(r.Result, &all); err != nil || !r.Success || len(all.Affiliations) != 2 ||
		all.Affiliations[0].Name != "org1" || len(all.Affiliations[0].Affiliations) != 2 {
		t.Fatalf("list: %+v %s", r.Errors, r.Result)
	}
	if r := f.do("POST", "/api/v1/affiliations?force=true", map[string]any{"name": "org3.a.b"}, f.admin.tok(t)); r.status != 201 {
		t.Fatalf("add forced: %d %+v", r.status, r.Errors)
	}
	if r := f.do("POST", "/api/v1/affiliations", map[string]any{"name": "org3.c"}, f.admin.tok(t)); r.status != 201 {
		t.Fatalf("add: %d %+v", r.status, r.Errors)
	}
	r = f.do("GET", "/api/v1/affiliations/org3", nil, f.admin.tok(t))
	var one affResponse
	if err := json.Unmarshal(r.Result, &one); err != nil || !r.Success || one.Name != "org3" || len(one.Affiliations) != 2 {
		t.Fatalf("get: %+v %s", r.Errors, r.Result)
	}
	// Rename org1.department1, which holds alice: force required.
	if r := f.do("PUT", "/api/v1/affiliations/org1.department1", map[string]any{"name": "org1.dept1"}, f.admin.tok(t)); r.code() != ErrUpdateConfigModifyAff {
		t.Fatalf("rename without force: %+v", r.Errors)
	}
	if r := f.do("PUT", "/api/v1/affiliations/org1.department1?force=true", map[string]any{"name": "org1.dept1"}, f.admin.tok(t)); !r.Success {
		t.Fatalf("rename: %+v", r.Errors)
	}
	r = f.do("GET", "/api/v1/identities/alice", nil, f.admin.tok(t))
	var alice identityResponse
	if err := json.Unmarshal(r.Result, &alice); err != nil || alice.Affiliation != "org1.dept1" {
		t.Fatalf("alice after rename: %s", r.Result)
	}
	if v, _ := attrOf(storeIdentity{Attributes: alice.Attributes}.identity(), attrAffiliation); v != "org1.dept1" {
		t.Fatalf("hf.Affiliation after rename = %q", v)
	}
	// Delete with force removes the sub-tree.
	if r := f.do("DELETE", "/api/v1/affiliations/org3?force=true", nil, f.admin.tok(t)); !r.Success {
		t.Fatalf("delete: %+v", r.Errors)
	}
	if r := f.do("GET", "/api/v1/affiliations/org3.c", nil, f.admin.tok(t)); r.status != 404 {
		t.Fatalf("get deleted: %d", r.status)
	}
}

func TestMultipleCAs(t *testing.T) {
	tc := startCA(t, func(c []CAConfig) []CAConfig {
		return append(c, baseConfig(t, "tlsca", newRoot(t, "tlsca.org1.example.com"), openStore(t)))
	})
	r := tc.do("GET", "/api/v1/cainfo?ca=tlsca", nil, nil)
	var info caInfo
	if err := json.Unmarshal(r.Result, &info); err != nil || info.CAName != "tlsca" {
		t.Fatalf("cainfo tlsca: %s", r.Result)
	}
	key := newKey(t)
	r = tc.do("POST", "/api/v1/enroll", map[string]any{"caname": "tlsca", "certificate_request": csrFor(t, key, "admin")}, basic("admin", "adminpw"))
	c := credsFrom(t, "admin", r, key)
	chain, _ := base64.StdEncoding.DecodeString(info.CAChain)
	tlsRoot, err := fabcrypto.ParseCertPEM(chain)
	if err != nil || c.cert.CheckSignatureFrom(tlsRoot) != nil || c.cert.CheckSignatureFrom(tc.root.Cert) == nil {
		t.Fatalf("tlsca enrollment not issued by tlsca: %v", err)
	}
	if names := tc.srv.CANames(); len(names) != 2 || names[0] != "ca-org1" {
		t.Fatalf("CANames = %v", names)
	}
}

// TestIntermediateCA: the "ca" profile issues a CA certificate to an
// identity with hf.IntermediateCA, and a CA configured with that
// certificate and its parent chain issues certificates that verify to the
// root.
func TestIntermediateCA(t *testing.T) {
	parent := startCA(t, nil)
	key := newKey(t)
	r := parent.do("POST", "/api/v1/enroll", map[string]any{"profile": "ca", "certificate_request": csrFor(t, key, "admin")}, basic("admin", "adminpw"))
	if !r.Success {
		t.Fatalf("enroll ca profile: %+v", r.Errors)
	}
	inter := credsFrom(t, "admin", r, key)
	if !inter.cert.IsCA || !inter.cert.MaxPathLenZero || inter.cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Fatalf("ca profile cert: isCA %v maxPathLenZero %v usage %v", inter.cert.IsCA, inter.cert.MaxPathLenZero, inter.cert.KeyUsage)
	}
	child := startCA(t, func(c []CAConfig) []CAConfig {
		c[0].Name, c[0].Cert, c[0].Key, c[0].Chain = "ica", inter.cert, key, []*x509.Certificate{parent.root.Cert}
		return c
	})
	leaf := child.enroll("admin", "adminpw", nil)
	roots := x509.NewCertPool()
	roots.AddCert(parent.root.Cert)
	inters := x509.NewCertPool()
	inters.AddCert(inter.cert)
	if _, err := leaf.cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inters, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Fatalf("leaf does not verify to the root: %v", err)
	}
	r = child.do("GET", "/api/v1/cainfo", nil, nil)
	var info caInfo
	_ = json.Unmarshal(r.Result, &info)
	chain, _ := base64.StdEncoding.DecodeString(info.CAChain)
	if certs, err := fabcrypto.ParseCertsPEM(chain); err != nil || len(certs) != 2 {
		t.Fatalf("intermediate chain: %d certs, %v", len(certs), err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	root := newRoot(t, "r")
	other := newRoot(t, "o")
	st := openStore(t)
	leafCA := startCA(t, nil)
	leaf := leafCA.enroll("admin", "adminpw", nil)
	tests := []struct {
		name string
		cfgs []CAConfig
	}{
		{"no CA", nil},
		{"missing key", []CAConfig{{Name: "a", Cert: root.Cert, Store: st}}},
		{"missing store", []CAConfig{{Name: "a", Cert: root.Cert, Key: root.Key}}},
		{"key mismatch", []CAConfig{{Name: "a", Cert: root.Cert, Key: other.Key, Store: st}}},
		{"not a CA cert", []CAConfig{{Name: "a", Cert: leaf.cert, Key: leaf.key, Store: st}}},
		{"wrong chain", []CAConfig{{Name: "a", Cert: root.Cert, Key: root.Key, Store: st, Chain: []*x509.Certificate{other.Cert}}}},
		{"duplicate name", []CAConfig{{Name: "a", Cert: root.Cert, Key: root.Key, Store: st}, {Name: "a", Cert: other.Cert, Key: other.Key, Store: st}}},
		{"bootstrap without secret", []CAConfig{{Name: "a", Cert: root.Cert, Key: root.Key, Store: st, Bootstrap: []BootstrapIdentity{{Name: "x"}}}}},
		{"max enrollments", []CAConfig{{Name: "a", Cert: root.Cert, Key: root.Key, Store: st, MaxEnrollments: -3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(t.Context(), Options{CAs: tt.cfgs}); err == nil {
				t.Fatal("New accepted the configuration")
			}
		})
	}
}
