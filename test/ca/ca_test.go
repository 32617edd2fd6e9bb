// Package ca_test runs `weft node ca` as a process and drives it with the
// unmodified fabric-ca-client npm package (conformance/node/ca.js).
package ca_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"

	"weft/fabcrypto"
	"weft/test/harness"
)

type jsOutput struct {
	AdminCert, AdminRootCert string
	CAInfo                   struct {
		CAName  string `json:"caName"`
		CAChain string `json:"caChain"`
	} `json:"caInfo"`
	UserSecret   string
	UserCert     string
	ReenrollCert string
	Identity     struct {
		ID             string `json:"id"`
		Type           string `json:"type"`
		Affiliation    string `json:"affiliation"`
		MaxEnrollments int    `json:"max_enrollments"`
		CAName         string `json:"caname"`
	}
	Identities         []string
	AffiliationCreated struct{ Name string }
	Affiliation        struct {
		Name         string
		Affiliations []struct{ Name string }
	}
	UserCertCount int
	Revoke        struct {
		RevokedCerts []struct{ Serial, AKI string }
		CRL          string
	}
	CRL                  string
	RevokedReenrollError *jsError
	WrongSecretError     *jsError
}

type jsError struct {
	Message string
	Errors  []struct {
		Code    int
		Message string
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestFabricCAClientAgainstWeftCA runs the same flows with each database
// the CA supports. PostgreSQL comes from WEFT_TEST_POSTGRES_DSN (`make test`
// starts a throwaway server with scripts/postgres-test.sh); every run gets
// a database of its own.
func TestFabricCAClientAgainstWeftCA(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is not installed: the conformance tests need Node.js (see README)")
	}
	t.Run("sqlite", func(t *testing.T) { runFlow(t, "sqlite", "ca.db") })
	t.Run("postgres", func(t *testing.T) {
		dsn := os.Getenv("WEFT_TEST_POSTGRES_DSN")
		if dsn == "" {
			t.Skip("WEFT_TEST_POSTGRES_DSN is not set; `make test` sets it (scripts/postgres-test.sh)")
		}
		runFlow(t, "postgres", freshDatabase(t, dsn))
	})
}

func runFlow(t *testing.T, dbType, datasource string) {
	nodeDir := harness.NodeDir(t)
	dir := t.TempDir()
	port, opsPort := freePort(t), freePort(t)
	config := fmt.Sprintf(`port: %d
address: 127.0.0.1
tls:
  enabled: true
  hosts: [localhost, 127.0.0.1]
db:
  type: %s
  datasource: %q
registry:
  maxenrollments: -1
  identities:
    - name: admin
      passenv: WEFT_TEST_CA_ADMIN
operations:
  listenAddress: 127.0.0.1:%d
cas:
  - name: ca-org1
    csr:
      cn: ca.org1.example.com
      names: [{C: US, O: Org1}]
`, port, dbType, datasource, opsPort)
	cfgPath := filepath.Join(dir, "ca.yaml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &harness.Process{Name: "ca", Args: []string{"node", "ca", "--config", cfgPath}, Dir: dir,
		Env: []string{"WEFT_TEST_CA_ADMIN=adminpw"}, Log: filepath.Join(dir, "ca.log")}
	p.Start(t)
	defer p.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := harness.WaitHTTP(ctx, fmt.Sprintf("http://127.0.0.1:%d/healthz", opsPort)); err != nil {
		t.Fatalf("CA not healthy: %v\n%s", err, p.Tail(30))
	}
	caCert, err := fabcrypto.ReadCertFile(filepath.Join(dir, "ca-org1", "ca-cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	caPEM := string(fabcrypto.EncodeCertPEM(caCert))
	input, _ := json.Marshal(map[string]string{"url": fmt.Sprintf("https://localhost:%d", port), "caName": "ca-org1",
		"tlsRootPem": caPEM, "adminId": "admin", "adminSecret": "adminpw", "mspId": "Org1MSP"})
	inPath := filepath.Join(dir, "input.json")
	if err := os.WriteFile(inPath, input, 0o600); err != nil {
		t.Fatal(err)
	}
	jsCtx, jsCancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer jsCancel()
	cmd := exec.CommandContext(jsCtx, "node", filepath.Join(nodeDir, "ca.js"), inPath)
	cmd.Dir = dir // the client's in-memory key store writes nothing, but keep cwd private
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ca.js: %v\n%s\nCA log:\n%s", err, stderr.String(), p.Tail(40))
	}
	var out jsOutput
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("ca.js output: %v\n%s", err, stdout.String())
	}
	check(t, &out, caCert, caPEM)
	if t.Failed() {
		t.Logf("ca.js output: %s\nCA log:\n%s", stdout.String(), p.Tail(40))
	}
}

func parse(t *testing.T, what, p string, ca *x509.Certificate) *x509.Certificate {
	t.Helper()
	c, err := fabcrypto.ParseCertPEM([]byte(p))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if err := c.CheckSignatureFrom(ca); err != nil {
		t.Fatalf("%s not issued by the CA: %v", what, err)
	}
	return c
}

func attrs(t *testing.T, c *x509.Certificate) map[string]string {
	for _, e := range c.Extensions {
		if e.Id.String() == "1.2.3.4.5.6.7.8.1" {
			var v struct{ Attrs map[string]string }
			if err := json.Unmarshal(e.Value, &v); err != nil {
				t.Fatal(err)
			}
			return v.Attrs
		}
	}
	return nil
}

func crlSerials(t *testing.T, what, b64 string, ca *x509.Certificate) []string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	block, _ := pem.Decode(raw)
	if block == nil || block.Type != "X509 CRL" {
		t.Fatalf("%s is not a PEM CRL: %q", what, raw)
	}
	crl, err := x509.ParseRevocationList(block.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if err := crl.CheckSignatureFrom(ca); err != nil {
		t.Fatalf("%s signature: %v", what, err)
	}
	var s []string
	for _, e := range crl.RevokedCertificateEntries {
		if e.ReasonCode != 1 {
			t.Errorf("%s: reason %d for %x, want 1 (keyCompromise)", what, e.ReasonCode, e.SerialNumber)
		}
		s = append(s, e.SerialNumber.Text(16))
	}
	sort.Strings(s)
	return s
}

func check(t *testing.T, out *jsOutput, ca *x509.Certificate, caPEM string) {
	admin := parse(t, "admin cert", out.AdminCert, ca)
	if admin.Subject.CommonName != "admin" || out.AdminRootCert != caPEM {
		t.Errorf("admin: CN %q, root cert matches CA: %v", admin.Subject.CommonName, out.AdminRootCert == caPEM)
	}
	if out.CAInfo.CAName != "ca-org1" || out.CAInfo.CAChain != caPEM {
		t.Errorf("cainfo: %+v", out.CAInfo)
	}
	if len(out.UserSecret) != 12 {
		t.Errorf("generated secret %q, want 12 characters", out.UserSecret)
	}
	user := parse(t, "user cert", out.UserCert, ca)
	if got := user.Subject.OrganizationalUnit; !reflect.DeepEqual(got, []string{"client", "org1", "department1"}) {
		t.Errorf("user OUs = %v", got)
	}
	if got, want := attrs(t, user), map[string]string{"app.role": "auditor", "hf.EnrollmentID": "user1",
		"hf.Type": "client", "hf.Affiliation": "org1.department1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("user attrs = %v, want %v", got, want)
	}
	re := parse(t, "reenroll cert", out.ReenrollCert, ca)
	if re.Subject.CommonName != "user1" || re.SerialNumber.Cmp(user.SerialNumber) == 0 || re.PublicKey.(*ecdsa.PublicKey).Equal(user.PublicKey) {
		t.Errorf("reenroll: CN %q, new serial/key expected", re.Subject.CommonName)
	}
	if got := attrs(t, re); !reflect.DeepEqual(got, map[string]string{"app.level": "3"}) {
		t.Errorf("reenroll attrs = %v", got)
	}
	if id := out.Identity; id.ID != "user1" || id.Type != "client" || id.Affiliation != "org1.department1" || id.MaxEnrollments != 2 || id.CAName != "ca-org1" {
		t.Errorf("identity = %+v", id)
	}
	if !reflect.DeepEqual(out.Identities, []string{"admin", "user1"}) {
		t.Errorf("identities = %v", out.Identities)
	}
	if out.AffiliationCreated.Name != "org3.unit1" || out.Affiliation.Name != "org3" ||
		len(out.Affiliation.Affiliations) != 1 || out.Affiliation.Affiliations[0].Name != "org3.unit1" {
		t.Errorf("affiliations: created %+v, org3 %+v", out.AffiliationCreated, out.Affiliation)
	}
	if out.UserCertCount != 2 {
		t.Errorf("certificates of user1 = %d, want 2", out.UserCertCount)
	}
	want := []string{user.SerialNumber.Text(16), re.SerialNumber.Text(16)}
	sort.Strings(want)
	var revoked []string
	for _, c := range out.Revoke.RevokedCerts {
		revoked = append(revoked, c.Serial)
	}
	sort.Strings(revoked)
	if !reflect.DeepEqual(revoked, want) {
		t.Errorf("revoked %v, want %v", revoked, want)
	}
	if got := crlSerials(t, "revoke CRL", out.Revoke.CRL, ca); !reflect.DeepEqual(got, want) {
		t.Errorf("revoke CRL serials %v, want %v", got, want)
	}
	if got := crlSerials(t, "gencrl CRL", out.CRL, ca); !reflect.DeepEqual(got, want) {
		t.Errorf("gencrl CRL serials %v, want %v", got, want)
	}
	for name, e := range map[string]*jsError{"revoked reenroll": out.RevokedReenrollError, "wrong secret": out.WrongSecretError} {
		if e == nil || len(e.Errors) != 1 || e.Errors[0].Code != 20 || e.Errors[0].Message != "Authentication failure" {
			t.Errorf("%s: error %+v, want code 20 Authentication failure", name, e)
		}
	}
}
