package ca

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"weft/fabcrypto"
)

const sampleConfig = `
port: 0
address: 127.0.0.1
tls:
  enabled: true
db:
  type: sqlite
  datasource: ca.db
registry:
  maxenrollments: -1
  identities:
    - name: admin
      passenv: TEST_CA_ADMIN_PW
cfg:
  identities:
    passwordattempts: 3
crl:
  expiry: 12h
operations:
  listenAddress: 127.0.0.1:0
cas:
  - name: ca-org1
    csr:
      cn: ca.org1.example.com
      names:
        - C: US
          O: Org1
    affiliations:
      org1: [department1]
  - name: tlsca-org1
    registry:
      identities:
        - name: tlsadmin
          passfile: tlsadmin.secret
`

func writeConfig(t *testing.T, dir, text string) string {
	t.Helper()
	p := filepath.Join(dir, "ca.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func startNode(t *testing.T, dir string) *Node {
	t.Helper()
	cfg, err := LoadConfig(filepath.Join(dir, "ca.yaml"), nil)
	if err != nil {
		t.Fatal(err)
	}
	n, err := Start(cfg, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "test",
		LookupEnv: func(k string) (string, bool) {
			if k == "TEST_CA_ADMIN_PW" {
				return "s3cret", true
			}
			return "", false
		}})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func enroll(t *testing.T, client *http.Client, addr, caname, id, secret string) (int, []byte) {
	t.Helper()
	key, err := fabcrypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: id}}, key)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]string{"caname": caname,
		"certificate_request": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))})
	req, _ := http.NewRequest("POST", "https://"+addr+"/api/v1/enroll", bytes.NewReader(body))
	req.SetBasicAuth(id, secret)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func TestNodeStartEnrollRestart(t *testing.T) {
	dir := t.TempDir()
	writeConfig(t, dir, sampleConfig)
	if err := os.WriteFile(filepath.Join(dir, "tlsadmin.secret"), []byte("tlspw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, dir)
	// Generated keys are private to the owner.
	for _, p := range []string{"ca-org1/ca-key.pem", "tlsca-org1/ca-key.pem", "tls-key.pem"} {
		st, err := os.Stat(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Fatalf("%s mode %v, want 0600", p, st.Mode().Perm())
		}
	}
	root, err := fabcrypto.ReadCertFile(filepath.Join(dir, "ca-org1/ca-cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(root)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	for _, tt := range []struct {
		caname, id, secret string
		status             int
	}{
		{"", "admin", "s3cret", 201},
		{"ca-org1", "admin", "wrong", 401},
		{"tlsca-org1", "tlsadmin", "tlspw", 201},
		{"tlsca-org1", "admin", "s3cret", 401},
		{"nope", "admin", "s3cret", 404},
	} {
		status, body := enroll(t, client, n.Addr(), tt.caname, tt.id, tt.secret)
		if status != tt.status {
			t.Fatalf("enroll %s@%q: %d %s, want %d", tt.id, tt.caname, status, body, tt.status)
		}
	}
	status, body := enroll(t, client, n.Addr(), "", "admin", "s3cret")
	var res struct{ Result struct{ Cert string } }
	if err := json.Unmarshal(body, &res); err != nil || status != 201 {
		t.Fatalf("enroll: %d %s", status, body)
	}
	certPEM, _ := base64.StdEncoding.DecodeString(res.Result.Cert)
	cert, err := fabcrypto.ParseCertPEM(certPEM)
	if err != nil || cert.CheckSignatureFrom(root) != nil || cert.Issuer.Organization[0] != "Org1" {
		t.Fatalf("enrolled cert: %v", err)
	}

	// Operations: health and the request counter.
	resp, err := http.Get("http://" + n.OperationsAddr() + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", err, resp)
	}
	resp.Body.Close()
	resp, err = http.Get("http://" + n.OperationsAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `api_request_count{api_name="enroll",status_code="201"} 3`) {
		t.Fatalf("metrics lack the enroll counter:\n%s", metrics)
	}
	n.Stop()

	// A restart keeps the CA key and the registrations.
	n2 := startNode(t, dir)
	defer n2.Stop()
	root2, err := fabcrypto.ReadCertFile(filepath.Join(dir, "ca-org1/ca-cert.pem"))
	if err != nil || !root2.Equal(root) {
		t.Fatal("restart replaced the CA certificate")
	}
	if status, body := enroll(t, client, n2.Addr(), "", "admin", "s3cret"); status != 201 {
		t.Fatalf("enroll after restart: %d %s", status, body)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"no CAs", "db: {type: sqlite}\n", "cas: at least one CA"},
		{"bad db type", "db: {type: mysql}\ncas: [{name: a}]\n", "db.type"},
		{"bad port", "port: 70000\ncas: [{name: a}]\n", "port: 70000"},
		{"unknown key", "colour: blue\ncas: [{name: a}]\n", "colour"},
		{"duplicate CA", "cas: [{name: a}, {name: a}]\n", "cas[1].name"},
		{"empty CA name", "cas: [{name: ''}]\n", "cas[0].name"},
		{"secret missing", "registry: {identities: [{name: admin}]}\ncas: [{name: a}]\n", "cas[0].registry.identities[0]"},
		{"two secrets", "registry: {identities: [{name: admin, pass: x, passenv: Y}]}\ncas: [{name: a}]\n", "exactly one of pass"},
		{"bad client auth", "tls: {clientauth: {type: Sometimes}}\ncas: [{name: a}]\n", "tls.clientauth.type"},
		{"verify without roots", "tls: {clientauth: {type: RequireAndVerifyClientCert}}\ncas: [{name: a}]\n", "tls.clientauth.certfiles"},
		{"bad affiliation", "cas: [{name: a, affiliations: {'a.b': [x]}}]\n", "cas[0].affiliations"},
		{"bad maxenrollments", "registry: {maxenrollments: -4}\ncas: [{name: a}]\n", "registry.maxenrollments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeConfig(t, t.TempDir(), tt.yaml)
			_, err := LoadConfig(p, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestEnvOverride(t *testing.T) {
	p := writeConfig(t, t.TempDir(), "port: 7054\ncas: [{name: a}]\n")
	cfg, err := LoadConfig(p, []string{"FABRIC_CA_SERVER_PORT=9054", "FABRIC_CA_SERVER_CAS=x"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Port != 9054 || len(cfg.CAs) != 1 {
		t.Fatalf("port %d cas %d", cfg.Port, len(cfg.CAs))
	}
	if _, err := LoadConfig(p, []string{"FABRIC_CA_SERVER_PORT=abc"}); err == nil {
		t.Fatal("non-numeric port accepted")
	}
}

func TestStartErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
		prep             func(dir string)
	}{
		{"passenv unset", "port: 0\nregistry: {identities: [{name: admin, passenv: NOPE_UNSET}]}\ncas: [{name: a}]\n", "passenv", nil},
		{"key without cert", "port: 0\ncas: [{name: a}]\n", "cas[0].certfile", func(dir string) {
			os.MkdirAll(filepath.Join(dir, "a"), 0o755)
			os.WriteFile(filepath.Join(dir, "a", "ca-key.pem"), []byte("x"), 0o600)
		}},
		{"bad cert file", "port: 0\ncas: [{name: a}]\n", "cas[0].certfile", func(dir string) {
			os.MkdirAll(filepath.Join(dir, "a"), 0o755)
			os.WriteFile(filepath.Join(dir, "a", "ca-key.pem"), []byte("x"), 0o600)
			os.WriteFile(filepath.Join(dir, "a", "ca-cert.pem"), []byte("x"), 0o644)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := writeConfig(t, dir, tt.yaml)
			if tt.prep != nil {
				tt.prep(dir)
			}
			cfg, err := LoadConfig(p, nil)
			if err != nil {
				t.Fatal(err)
			}
			n, err := Start(cfg, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), LookupEnv: func(string) (string, bool) { return "", false }})
			if err == nil {
				n.Stop()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}
