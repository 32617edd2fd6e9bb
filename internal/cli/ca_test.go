package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"weft/ca/server"
	"weft/ca/store"
	"weft/fabcrypto"
	"weft/msp"
)

// caTestServer runs weft's CA over TLS with the bootstrap admin
// admin:adminpw and returns its URL host and a file with its TLS root.
func caTestServer(t *testing.T) (host, tlsRoot string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	root, err := fabcrypto.NewRootCA(fabcrypto.RootSpec{Subject: fabcrypto.Subject{CommonName: "ca.org1.example.com", Organization: "org1"}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, store.DriverSQLite, filepath.Join(dir, "ca.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h, err := server.New(ctx, server.Options{Version: "test", CAs: []server.CAConfig{{
		Name: "ca-org1", Cert: root.Cert, Key: root.Key, Store: st, MaxEnrollments: -1,
		Bootstrap:            []server.BootstrapIdentity{server.AdminIdentity("admin", "adminpw")},
		Affiliations:         []string{"org1.department1"},
		AllowIdentityRemoval: true, AllowAffiliationRemoval: true,
	}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	tlsRoot = filepath.Join(dir, "tls-root.pem")
	if err := os.WriteFile(tlsRoot, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(srv.URL)
	return u.Host, tlsRoot
}

func runCA(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := NewRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append([]string{"ca"}, args...))
	err := root.Execute()
	return out.String(), err
}

// mustCA runs a ca subcommand that has to succeed.
func mustCA(t *testing.T, args ...string) string {
	t.Helper()
	out, err := runCA(t, args...)
	if err != nil {
		t.Fatalf("weft ca %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// roleOf loads an MSP folder with weft's MSP and returns the enrolled
// identity's NodeOU role.
func roleOf(t *testing.T, dir string) msp.Role {
	t.Helper()
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
	roles, err := m.Roles(id)
	if err != nil {
		t.Fatal(err)
	}
	return roles[len(roles)-1]
}

func TestCACommands(t *testing.T) {
	host, tlsRoot := caTestServer(t)
	dir := t.TempDir()
	base := "https://" + host
	conn := []string{"-u", base, "--caname", "ca-org1", "--tls.certfiles", tlsRoot}
	admin := append([]string{"-M", filepath.Join(dir, "admin")}, conn...)
	with := func(args []string, more ...string) []string { return append(append([]string{}, more...), args...) }

	var info map[string]string
	if err := json.Unmarshal([]byte(mustCA(t, with(conn, "cainfo", "-o", "json")...)), &info); err != nil || info["caname"] != "ca-org1" ||
		!strings.Contains(info["cachain"], "BEGIN CERTIFICATE") {
		t.Fatalf("cainfo json = %v, %v", info, err)
	}

	mustCA(t, "enroll", "-u", "https://admin:adminpw@"+host, "--caname", "ca-org1", "--tls.certfiles", tlsRoot,
		"-M", filepath.Join(dir, "admin"), "--nodeous")
	caFile := filepath.Join(dir, "admin", "cacerts", strings.NewReplacer(".", "-", ":", "-").Replace(host)+"-ca-org1.pem")
	if _, err := os.Stat(caFile); err != nil {
		t.Errorf("fabric-ca-client style cacerts file: %v", err)
	}
	if r := roleOf(t, filepath.Join(dir, "admin")); r != msp.RoleClient {
		t.Errorf("bootstrap admin role = %v, want client", r)
	}

	var reg map[string]string
	out := mustCA(t, with(admin, "register", "--id.name", "peer0", "--id.secret", "peer0pw", "--id.type", "peer",
		"--id.affiliation", "org1.department1", "--id.attrs", "app.role=auditor:ecert,level=2", "-o", "json")...)
	if err := json.Unmarshal([]byte(out), &reg); err != nil || reg["secret"] != "peer0pw" {
		t.Fatalf("register json = %q, %v", out, err)
	}
	if out := mustCA(t, with(admin, "register", "--id.name", "user1", "--id.affiliation", "org1")...); !strings.HasPrefix(out, "Password: ") {
		t.Errorf("register text = %q", out)
	}

	peerDir := filepath.Join(dir, "peer0")
	mustCA(t, "enroll", "-u", "https://peer0:peer0pw@"+host, "--caname", "ca-org1", "--tls.certfiles", tlsRoot,
		"-M", peerDir, "--nodeous", "--csr.hosts", "peer0.org1.example.com,127.0.0.1", "--enrollment.attrs", "app.role,missing:opt")
	if r := roleOf(t, peerDir); r != msp.RolePeer {
		t.Errorf("peer0 role = %v, want peer", r)
	}
	cert, err := fabcrypto.ReadCertFile(filepath.Join(peerDir, "signcerts", "cert.pem"))
	if err != nil || len(cert.DNSNames) != 1 || cert.DNSNames[0] != "peer0.org1.example.com" {
		t.Errorf("peer0 certificate SANs = %v, %v", cert, err)
	}
	mustCA(t, with(conn, "reenroll", "-M", peerDir)...)
	if again, _ := fabcrypto.ReadCertFile(filepath.Join(peerDir, "signcerts", "cert.pem")); again == nil || again.SerialNumber.Cmp(cert.SerialNumber) == 0 {
		t.Error("reenroll did not replace the certificate")
	}

	var ids []map[string]any
	if err := json.Unmarshal([]byte(mustCA(t, with(admin, "identity", "list", "-o", "json")...)), &ids); err != nil || len(ids) != 3 {
		t.Fatalf("identity list = %v, %v", ids, err)
	}
	if out := mustCA(t, with(admin, "identity", "get", "peer0")...); !strings.Contains(out, "Type: peer") || !strings.Contains(out, "app.role=auditor:ecert") {
		t.Errorf("identity get = %q", out)
	}

	mustCA(t, with(admin, "affiliation", "add", "org2.department1", "--force")...)
	if out := mustCA(t, with(admin, "affiliation", "list")...); !strings.Contains(out, "affiliation: org2.department1") {
		t.Errorf("affiliation list = %q", out)
	}
	mustCA(t, with(admin, "affiliation", "remove", "org2", "--force")...)
	if out := mustCA(t, with(admin, "affiliation", "list", "-o", "json")...); strings.Contains(out, "org2") {
		t.Errorf("org2 still listed: %s", out)
	}

	var certs []string
	if err := json.Unmarshal([]byte(mustCA(t, with(admin, "certificate", "list", "--id", "peer0", "-o", "json")...)), &certs); err != nil || len(certs) != 2 {
		t.Fatalf("certificate list = %d, %v", len(certs), err)
	}

	if out := mustCA(t, with(admin, "revoke", "-e", "peer0", "-r", "keycompromise", "--gencrl")...); !strings.Contains(out, "Revoked certificate") {
		t.Errorf("revoke = %q", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "admin", "crls", "crl.pem")); err != nil {
		t.Error(err)
	}
	mustCA(t, with(admin, "gencrl", "--revokedafter", "2000-01-01T00:00:00Z")...)
	if _, err := runCA(t, with(conn, "reenroll", "-M", peerDir)...); err == nil || !strings.Contains(err.Error(), "CA reenroll: HTTP 401") {
		t.Errorf("reenroll after revocation: %v", err)
	}
	if out := mustCA(t, with(admin, "identity", "remove", "user1")...); !strings.Contains(out, "Removed identity user1") {
		t.Errorf("identity remove = %q", out)
	}
}

func TestCAErrors(t *testing.T) {
	host, tlsRoot := caTestServer(t)
	dir := t.TempDir()
	base := "https://" + host
	mustCA(t, "enroll", "-u", "https://admin:adminpw@"+host, "--tls.certfiles", tlsRoot, "-M", filepath.Join(dir, "admin"))
	admin := []string{"-u", base, "--tls.certfiles", tlsRoot, "-M", filepath.Join(dir, "admin")}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"enroll without credentials", []string{"enroll", "-u", base, "--tls.certfiles", tlsRoot}, "-u/--url: enroll needs the identity and secret"},
		{"bad URL", []string{"cainfo", "-u", "localhost:7054"}, "-u/--url"},
		{"unreadable TLS file", []string{"cainfo", "-u", base, "--tls.certfiles", filepath.Join(dir, "nope.pem")}, "--tls.certfiles"},
		{"untrusted TLS", []string{"cainfo", "-u", base}, "certificate"},
		{"wrong secret", []string{"enroll", "-u", "https://admin:wrong@" + host, "--tls.certfiles", tlsRoot, "-M", filepath.Join(dir, "x")}, "CA enroll: HTTP 401"},
		{"register without name", append([]string{"register"}, admin...), "--id.name"},
		{"bad id.attrs", append([]string{"register", "--id.name", "u", "--id.attrs", "novalue"}, admin...), "--id.attrs"},
		{"bad enrollment.attrs", []string{"enroll", "-u", "https://admin:adminpw@" + host, "--enrollment.attrs", "a:req"}, "--enrollment.attrs"},
		{"bad csr.names", []string{"enroll", "-u", "https://admin:adminpw@" + host, "--csr.names", "X=1"}, "--csr.names"},
		{"bad output", append([]string{"identity", "list", "-o", "yaml"}, admin...), "-o/--output"},
		{"no msp", []string{"identity", "list", "-u", base, "--tls.certfiles", tlsRoot, "-M", filepath.Join(dir, "none")}, "-M/--mspdir"},
		{"revoke without target", append([]string{"revoke", "-s", "01"}, admin...), "-e/--revoke.name"},
		{"gencrl bad time", append([]string{"gencrl", "--revokedafter", "yesterday"}, admin...), "--revokedafter"},
		{"bad revocation range", append([]string{"certificate", "list", "--revocation", "2024"}, admin...), "--revocation"},
		{"get without name", append([]string{"identity", "get"}, admin...), "identity name"},
		{"unknown identity", append([]string{"identity", "get", "ghost"}, admin...), "CA identities/ghost: HTTP 404"},
		{"duplicate register", append([]string{"register", "--id.name", "admin"}, admin...), "CA register: HTTP"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runCA(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v (output %q), want it to mention %q", err, out, tc.want)
			}
		})
	}
}

func TestCAHelpHasExamples(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Example == "" {
			t.Errorf("weft %s has no Example", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			if sub.Name() != "help" && sub.Name() != "completion" {
				walk(sub)
			}
		}
	}
	walk(newCACmd())
	out, err := runCA(t, "register", "--help")
	if err != nil || !strings.Contains(out, "Examples:") || !strings.Contains(out, "--id.maxenrollments") {
		t.Errorf("register --help = %q, %v", out, err)
	}
}

func TestCAParseIDAttrs(t *testing.T) {
	tests := []struct {
		in   string
		want string // name=value[:ecert] joined by ';'
		err  string
	}{
		{in: "a=b:ecert,c=d", want: "a=b:ecert;c=d"},
		{in: `"hf.Registrar.Roles=peer,client",hf.Revoker=true`, want: "hf.Registrar.Roles=peer,client;hf.Revoker=true"},
		{in: "empty=", want: "empty="},
		{in: "", want: ""},
		{in: "novalue", err: `"novalue": want name=value`},
		{in: "=x", err: "want name=value"},
		{in: `"a=b`, err: "unbalanced double quote"},
	}
	for _, tc := range tests {
		attrs, err := parseIDAttrs(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "--id.attrs") {
				t.Errorf("parseIDAttrs(%q) error = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		var got []string
		for _, a := range attrs {
			s := a.Name + "=" + a.Value
			if a.ECert {
				s += ":ecert"
			}
			got = append(got, s)
		}
		if err != nil || strings.Join(got, ";") != tc.want {
			t.Errorf("parseIDAttrs(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
