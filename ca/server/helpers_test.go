package server

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"weft/ca/store"
	"weft/fabcrypto"
)

// testCA is a running server plus what tests need to talk to it.
type testCA struct {
	t      *testing.T
	srv    *Server
	ts     *httptest.Server
	root   *fabcrypto.CA
	stores map[string]store.Store
}

// creds is an enrolled identity: its certificate and key.
type creds struct {
	name    string
	certPEM []byte
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
}

func newRoot(t testing.TB, cn string) *fabcrypto.CA {
	t.Helper()
	root, err := fabcrypto.NewRootCA(fabcrypto.RootSpec{Subject: fabcrypto.Subject{CommonName: cn, Organization: "Org1"}})
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func openStore(t testing.TB) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite", filepath.Join(t.TempDir(), "ca.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// baseConfig is a CA with Fabric CA's sample affiliations and an admin.
func baseConfig(t testing.TB, name string, root *fabcrypto.CA, st store.Store) CAConfig {
	return CAConfig{
		Name: name, Cert: root.Cert, Key: root.Key, Store: st, MaxEnrollments: -1,
		Bootstrap:               []BootstrapIdentity{AdminIdentity("admin", "adminpw")},
		Affiliations:            []string{"org1.department1", "org1.department2", "org2.department1"},
		AllowIdentityRemoval:    true,
		AllowAffiliationRemoval: true,
	}
}

// startCA serves the given CAs over TLS (mutate may adjust the default
// configuration before start).
func startCA(t *testing.T, mutate func(cfgs []CAConfig) []CAConfig) *testCA {
	t.Helper()
	root := newRoot(t, "ca.org1.example.com")
	st := openStore(t)
	cfgs := []CAConfig{baseConfig(t, "ca-org1", root, st)}
	if mutate != nil {
		cfgs = mutate(cfgs)
	}
	srv, err := New(context.Background(), Options{CAs: cfgs, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewTLSServer(srv)
	t.Cleanup(ts.Close)
	tc := &testCA{t: t, srv: srv, ts: ts, root: root, stores: map[string]store.Store{}}
	for _, c := range cfgs {
		tc.stores[c.Name] = c.Store
	}
	return tc
}

// reply is a decoded response envelope.
type reply struct {
	status  int
	Success bool            `json:"success"`
	Result  json.RawMessage `json:"result"`
	Errors  []respMsg       `json:"errors"`
}

func (r reply) code() int {
	if len(r.Errors) == 0 {
		return -1
	}
	return r.Errors[0].Code
}

func (tc *testCA) do(method, path string, body any, auth func(req *http.Request, body []byte)) reply {
	tc.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			tc.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, tc.ts.URL+path, bytes.NewReader(raw))
	if err != nil {
		tc.t.Fatal(err)
	}
	if auth != nil {
		auth(req, raw)
	}
	resp, err := tc.ts.Client().Do(req)
	if err != nil {
		tc.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var r reply
	if err := json.Unmarshal(data, &r); err != nil {
		tc.t.Fatalf("%s %s: response %q is not JSON: %v", method, path, data, err)
	}
	r.status = resp.StatusCode
	return r
}

func basic(id, secret string) func(*http.Request, []byte) {
	return func(r *http.Request, _ []byte) { r.SetBasicAuth(id, secret) }
}

// signToken builds the token the npm client computes:
// b64(cert) "." b64(sig over METHOD.b64(uri).b64(body).b64(cert)).
func signToken(t testing.TB, certPEM []byte, key *ecdsa.PrivateKey, method, uri string, body []byte) string {
	t.Helper()
	b64c := base64.StdEncoding.EncodeToString(certPEM)
	msg := method + "." + base64.StdEncoding.EncodeToString([]byte(uri)) + "." +
		base64.StdEncoding.EncodeToString(body) + "." + b64c
	sig, err := fabcrypto.Sign(key, []byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	return b64c + "." + base64.StdEncoding.EncodeToString(sig)
}

// tok authenticates a request as c.
func (c *creds) tok(t testing.TB) func(*http.Request, []byte) {
	return func(r *http.Request, body []byte) {
		r.Header.Set("Authorization", signToken(t, c.certPEM, c.key, r.Method, r.URL.RequestURI(), body))
	}
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := fabcrypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func csrFor(t testing.TB, key *ecdsa.PrivateKey, cn string, hosts ...string) string {
	t.Helper()
	tmpl := &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn, Country: []string{"US"}, OrganizationalUnit: []string{"ignored"}}}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

// enroll enrolls id and fails the test unless it succeeds.
func (tc *testCA) enroll(id, secret string, extra map[string]any) *creds {
	tc.t.Helper()
	key := newKey(tc.t)
	body := map[string]any{"certificate_request": csrFor(tc.t, key, id)}
	for k, v := range extra {
		body[k] = v
	}
	r := tc.do("POST", "/api/v1/enroll", body, basic(id, secret))
	if !r.Success || r.status != http.StatusCreated {
		tc.t.Fatalf("enroll %s: status %d errors %+v", id, r.status, r.Errors)
	}
	return credsFrom(tc.t, id, r, key)
}

func credsFrom(t testing.TB, id string, r reply, key *ecdsa.PrivateKey) *creds {
	t.Helper()
	var res struct {
		Cert       string
		ServerInfo struct{ CAName, CAChain string }
	}
	if err := json.Unmarshal(r.Result, &res); err != nil {
		t.Fatal(err)
	}
	certPEM, err := base64.StdEncoding.DecodeString(res.Cert)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := fabcrypto.ParseCertPEM(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	return &creds{name: id, certPEM: certPEM, cert: cert, key: key}
}

// register registers an identity as registrar and returns its secret.
func (tc *testCA) register(registrar *creds, req map[string]any) string {
	tc.t.Helper()
	r := tc.do("POST", "/api/v1/register", req, registrar.tok(tc.t))
	if !r.Success || r.status != http.StatusCreated {
		tc.t.Fatalf("register %v: status %d errors %+v", req["id"], r.status, r.Errors)
	}
	var res struct {
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal(r.Result, &res); err != nil || res.Secret == "" {
		tc.t.Fatalf("register result %s: %v", r.Result, err)
	}
	return res.Secret
}

// certAttrs decodes Fabric CA's attribute extension ({"attrs":{...}}).
func certAttrs(t testing.TB, cert *x509.Certificate) map[string]string {
	t.Helper()
	for _, e := range cert.Extensions {
		if e.Id.Equal(AttrOID) {
			var v struct {
				Attrs map[string]string `json:"attrs"`
			}
			if err := json.Unmarshal(e.Value, &v); err != nil {
				t.Fatal(err)
			}
			return v.Attrs
		}
	}
	return nil
}

type x509RevocationList = x509.RevocationList

func parseRevocationList(der []byte) (*x509.RevocationList, error) {
	return x509.ParseRevocationList(der)
}

// storeIdentity wraps attributes for attrOf in tests.
type storeIdentity struct {
	Attributes []store.Attribute
}

func (s storeIdentity) identity() *store.Identity { return &store.Identity{Attributes: s.Attributes} }
