package client

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"weft/fabcrypto"
)

// fakeCA is a small in-memory Fabric CA for the client's tests. It checks
// what the real protocol requires of a client (Basic auth on enroll, the
// CN rule, token signatures over the exact URI and body) and records the
// last request so tests can look at the wire form.
type fakeCA struct {
	t      *testing.T
	root   *fabcrypto.CA
	issuer *fabcrypto.CA // root, or an intermediate when chained
	chain  []byte

	mu       sync.Mutex
	ids      map[string]*fakeID
	certs    [][]byte
	revoked  []*x509.Certificate
	last     fakeReq
	failWith *fakeFailure
}

type fakeID struct {
	secret, typ, affiliation string
	attrs                    []Attribute
}

type fakeReq struct {
	method, uri, auth, caller string
	body                      map[string]any
}

type fakeFailure struct {
	status, code int
	message      string
	raw          string // sent as is instead of an envelope
}

func newFakeCA(t *testing.T, intermediate bool) *fakeCA {
	t.Helper()
	root, err := fabcrypto.NewRootCA(fabcrypto.RootSpec{Subject: fabcrypto.Subject{CommonName: "ca.org1.example.com", Organization: "org1"}})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeCA{t: t, root: root, issuer: root, ids: map[string]*fakeID{
		"admin": {secret: "adminpw", typ: "admin", affiliation: ""},
	}}
	f.chain = fabcrypto.EncodeCertPEM(root.Cert)
	if intermediate {
		key, err := fabcrypto.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		ic, err := root.Issue(fabcrypto.CertSpec{CommonName: "ica.org1.example.com", IsCA: true, PublicKey: &key.PublicKey,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature})
		if err != nil {
			t.Fatal(err)
		}
		f.issuer = &fabcrypto.CA{Cert: ic, Key: key}
		f.chain = append(fabcrypto.EncodeCertPEM(ic), f.chain...)
	}
	return f
}

func (f *fakeCA) start(tlsServer bool) (*httptest.Server, *Client) {
	var srv *httptest.Server
	if tlsServer {
		srv = httptest.NewTLSServer(f)
	} else {
		srv = httptest.NewServer(f)
	}
	f.t.Cleanup(srv.Close)
	return srv, &Client{URL: srv.URL, CAName: "ca-org1", HTTP: srv.Client()}
}

func (f *fakeCA) reply(w http.ResponseWriter, status int, result any) {
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"result": result, "errors": []any{}, "messages": []any{}, "success": true})
}

func (f *fakeCA) fail(w http.ResponseWriter, status, code int, msg string) {
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"result": "", "errors": []any{map[string]any{"code": code, "message": msg}},
		"messages": []any{}, "success": false})
}

func (f *fakeCA) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	raw, _ := io.ReadAll(r.Body)
	f.last = fakeReq{method: r.Method, uri: r.URL.RequestURI(), auth: r.Header.Get("Authorization")}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &f.last.body); err != nil {
			f.fail(w, 400, 1, "body is not JSON")
			return
		}
	}
	if ff := f.failWith; ff != nil {
		if ff.raw != "" {
			w.WriteHeader(ff.status)
			_, _ = io.WriteString(w, ff.raw)
			return
		}
		f.fail(w, ff.status, ff.code, ff.message)
		return
	}
	endpoint, name, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/api/v1/"), "/")
	switch endpoint {
	case "cainfo":
		f.reply(w, 200, f.info())
		return
	case "enroll":
		id, secret, ok := r.BasicAuth()
		if !ok || f.ids[id] == nil || f.ids[id].secret != secret {
			f.fail(w, 401, 20, "authentication failure")
			return
		}
		f.issue(w, id)
		return
	}
	caller, ok := f.authenticate(r, raw)
	if !ok {
		f.fail(w, 401, 20, "authentication failure")
		return
	}
	f.last.caller = caller
	body := f.last.body
	str := func(k string) string { s, _ := body[k].(string); return s }
	switch {
	case endpoint == "reenroll":
		f.issue(w, caller)
	case endpoint == "register" || endpoint == "identities" && r.Method == "POST":
		id := str("id")
		if f.ids[id] != nil {
			f.fail(w, 409, 74, "identity '"+id+"' is already registered")
			return
		}
		secret := str("secret")
		if secret == "" {
			secret = "generated"
		}
		var attrs []Attribute
		if a, err := json.Marshal(body["attrs"]); err == nil {
			_ = json.Unmarshal(a, &attrs)
		}
		f.ids[id] = &fakeID{secret: secret, typ: str("type"), affiliation: str("affiliation"), attrs: attrs}
		f.reply(w, 201, map[string]any{"id": id, "secret": secret})
	case endpoint == "identities" && name == "":
		var list []IdentityInfo
		for id, x := range f.ids {
			list = append(list, IdentityInfo{ID: id, Type: x.typ, Affiliation: x.affiliation, Attributes: x.attrs})
		}
		f.reply(w, 200, map[string]any{"identities": list, "caname": r.URL.Query().Get("ca")})
	case endpoint == "identities":
		x := f.ids[name]
		if x == nil {
			f.fail(w, 404, 63, "identity '"+name+"' not found")
			return
		}
		if r.Method == "DELETE" {
			delete(f.ids, name)
		}
		f.reply(w, 200, IdentityInfo{ID: name, Type: x.typ, Affiliation: x.affiliation, Attributes: x.attrs})
	case endpoint == "affiliations":
		f.reply(w, 200, AffiliationInfo{Name: ".", Affiliations: []AffiliationInfo{{Name: "org1", Affiliations: []AffiliationInfo{{Name: "org1.department1"}}}}})
	case endpoint == "certificates":
		var certs []map[string]string
		for _, c := range f.certs {
			certs = append(certs, map[string]string{"PEM": string(c)})
		}
		f.reply(w, 200, map[string]any{"certs": certs, "caname": r.URL.Query().Get("ca")})
	case endpoint == "revoke":
		var out []RevokedCert
		for _, c := range f.certs {
			cert, _ := fabcrypto.ParseCertPEM(c)
			if cert.Subject.CommonName == str("id") || hex.EncodeToString(cert.SerialNumber.Bytes()) == str("serial") {
				f.revoked = append(f.revoked, cert)
				out = append(out, RevokedCert{Serial: hex.EncodeToString(cert.SerialNumber.Bytes()), AKI: hex.EncodeToString(cert.AuthorityKeyId)})
			}
		}
		res := map[string]any{"RevokedCerts": out}
		if body["gencrl"] == true {
			res["CRL"] = f.crl()
		}
		f.reply(w, 200, res)
	case endpoint == "gencrl":
		f.reply(w, 200, map[string]any{"CRL": f.crl()})
	default:
		f.fail(w, 404, 0, "no such endpoint")
	}
}

func (f *fakeCA) info() map[string]any {
	return map[string]any{"CAName": "ca-org1", "CAChain": base64.StdEncoding.EncodeToString(f.chain),
		"IssuerPublicKey": "", "IssuerRevocationPublicKey": "", "Version": "fake-1"}
}

// issue signs the CSR in the recorded body for id, stamping OU = type as
// Fabric CA does.
func (f *fakeCA) issue(w http.ResponseWriter, id string) {
	csrPEM, _ := f.last.body["certificate_request"].(string)
	block, _ := pem.Decode([]byte(csrPEM))
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		f.fail(w, 400, 1, "no CSR")
		return
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil || csr.CheckSignature() != nil {
		f.fail(w, 400, 1, "bad CSR")
		return
	}
	if csr.Subject.CommonName != id {
		f.fail(w, 403, 1, "CN must equal the enrollment ID")
		return
	}
	x := f.ids[id]
	var sans []string
	if hosts, ok := f.last.body["hosts"].([]any); ok {
		for _, h := range hosts {
			s, _ := h.(string)
			sans = append(sans, s)
		}
	}
	cert, err := f.issuer.Issue(fabcrypto.CertSpec{CommonName: id, OrganizationalUnits: []string{x.typ}, SANs: sans,
		KeyUsage: x509.KeyUsageDigitalSignature, PublicKey: csr.PublicKey.(*ecdsa.PublicKey)})
	if err != nil {
		f.fail(w, 500, 1, err.Error())
		return
	}
	p := fabcrypto.EncodeCertPEM(cert)
	f.certs = append(f.certs, p)
	f.reply(w, 201, map[string]any{"Cert": base64.StdEncoding.EncodeToString(p), "ServerInfo": f.info()})
}

// authenticate checks a token the way Fabric CA does and returns the
// caller's enrollment ID.
func (f *fakeCA) authenticate(r *http.Request, body []byte) (string, bool) {
	b64cert, b64sig, ok := strings.Cut(r.Header.Get("Authorization"), ".")
	if !ok {
		return "", false
	}
	certPEM, err1 := base64.StdEncoding.DecodeString(b64cert)
	sig, err2 := base64.StdEncoding.DecodeString(b64sig)
	if err1 != nil || err2 != nil {
		return "", false
	}
	cert, err := fabcrypto.ParseCertPEM(certPEM)
	if err != nil {
		return "", false
	}
	pool, inter := x509.NewCertPool(), x509.NewCertPool()
	pool.AddCert(f.root.Cert)
	inter.AddCert(f.issuer.Cert)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter}); err != nil {
		return "", false
	}
	for _, rc := range f.revoked {
		if rc.SerialNumber.Cmp(cert.SerialNumber) == 0 {
			return "", false
		}
	}
	b64 := base64.StdEncoding.EncodeToString
	msg := r.Method + "." + b64([]byte(r.URL.RequestURI())) + "." + b64(body) + "." + b64cert
	if fabcrypto.Verify(cert.PublicKey.(*ecdsa.PublicKey), []byte(msg), sig) != nil {
		return "", false
	}
	return cert.Subject.CommonName, true
}

func (f *fakeCA) crl() []byte {
	var entries []x509.RevocationListEntry
	for _, c := range f.revoked {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: c.SerialNumber, RevocationTime: time.Now()})
	}
	signer, _ := fabcrypto.NewSigner(f.issuer.Key)
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1),
		RevokedCertificateEntries: entries, ThisUpdate: time.Now(), NextUpdate: time.Now().Add(time.Hour)},
		f.issuer.Cert, signer.CryptoSigner())
	if err != nil {
		f.t.Errorf("fake CRL: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}

// basicFrom decodes a Basic Authorization header value.
func basicFrom(h string) (id, secret string, ok bool) {
	r, _ := http.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", h)
	return r.BasicAuth()
}

func newRequest(method, uri, token string) (*http.Request, error) {
	r, err := http.NewRequest(method, "http://ca"+uri, nil)
	if err != nil {
		return nil, err
	}
	r.Header.Set("Authorization", token)
	return r, nil
}
