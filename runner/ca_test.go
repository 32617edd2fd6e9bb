package runner

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"weft/fabcrypto"
	"weft/gen/network"
	nodeca "weft/node/ca"
	"weft/spec"
)

// caFixture generates the default network with Org2 opted out of a CA,
// material as weft up makes it (CA orgs without offline identities).
func caFixture(t *testing.T) *up {
	t.Helper()
	n := spec.Default()
	off := false
	n.Orgs[1].CA = &off
	dir := t.TempDir()
	ep := network.EndpointsFrom(30050)
	if _, err := network.Generate(n, dir, network.Options{Endpoints: ep, EnrollFromCA: true}); err != nil {
		t.Fatal(err)
	}
	return &up{opts: Options{Dir: dir}, n: n, ep: ep, l: network.Layout{Dir: dir}}
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestWriteCAConfigs(t *testing.T) {
	u := caFixture(t)
	if err := writeCAConfigs(u.n, u.l, u.ep); err != nil {
		t.Fatal(err)
	}
	org1, org2 := &u.n.Orgs[0], &u.n.Orgs[1]
	if _, err := os.Stat(u.l.CADir(org2)); err == nil {
		t.Error("Org2 (ca: false) got a CA folder")
	}
	dir := u.l.CADir(org1)
	for file, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, caSecretFile): 0o600,
		filepath.Join(dir, caTLSKeyFile): 0o600, u.l.CAConfigPath(org1): 0o644} {
		if got := mode(t, file); got != want {
			t.Errorf("%s: mode %v, want %v", file, got, want)
		}
	}

	// node/ca reads what the runner wrote: ports, both CAs on the org's
	// cryptogen keys, the bootstrap admin from the secret file.
	cfg, err := nodeca.LoadConfig(u.l.CAConfigPath(org1), nil)
	if err != nil {
		t.Fatalf("node/ca rejects the runner's config: %v", err)
	}
	if cfg.Port != 30054 || cfg.Operations.ListenAddress != "127.0.0.1:30055" || cfg.Address != "127.0.0.1" || !cfg.TLS.Enabled {
		t.Errorf("listeners: port %d ops %q address %q tls %v", cfg.Port, cfg.Operations.ListenAddress, cfg.Address, cfg.TLS.Enabled)
	}
	if cfg.DB.Type != "sqlite" || len(cfg.CAs) != 2 || cfg.CAs[0].Name != "ca-org1" || cfg.CAs[1].Name != "tlsca-org1" {
		t.Fatalf("db %q, CAs %+v", cfg.DB.Type, cfg.CAs)
	}
	signCert, signKey, tlsCert, tlsKey := orgCAFiles(u.l, org1)
	for i, want := range [][2]string{{signCert, signKey}, {tlsCert, tlsKey}} {
		got := [2]string{filepath.Join(dir, cfg.CAs[i].CertFile), filepath.Join(dir, cfg.CAs[i].KeyFile)}
		if filepath.Clean(got[0]) != want[0] || filepath.Clean(got[1]) != want[1] {
			t.Errorf("CA %d files %v, want %v", i, got, want)
		}
	}
	ids := cfg.Registry.Identities
	if len(ids) != 1 || ids[0].Name != caAdmin || ids[0].PassFile != caSecretFile || ids[0].Pass != "" {
		t.Errorf("bootstrap identities %+v", ids)
	}
	raw, _ := os.ReadFile(u.l.CAConfigPath(org1))
	secret, err := readCASecret(u.l, org1)
	if err != nil || len(secret) < 20 {
		t.Fatalf("secret %q: %v", secret, err)
	}
	if bytes.Contains(raw, []byte(secret)) {
		t.Error("the CA config holds the admin secret in clear")
	}

	// The server's TLS certificate comes from the org's TLS CA and names
	// what apps dial.
	cert, err := fabcrypto.ReadCertFile(filepath.Join(dir, caTLSCertFile))
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := fabcrypto.ReadCertFile(tlsCert)
	if err := cert.CheckSignatureFrom(ca); err != nil {
		t.Errorf("CA TLS certificate not issued by the org TLS CA: %v", err)
	}
	if err := cert.VerifyHostname("localhost"); err != nil {
		t.Error(err)
	}
	if err := cert.VerifyHostname("127.0.0.1"); err != nil {
		t.Error(err)
	}

	// A re-run keeps the secret, the key pair and the file.
	before, _ := os.Stat(u.l.CAConfigPath(org1))
	certBefore, _ := os.ReadFile(filepath.Join(dir, caTLSCertFile))
	if err := writeCAConfigs(u.n, u.l, u.ep); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(u.l.CAConfigPath(org1))
	certAfter, _ := os.ReadFile(filepath.Join(dir, caTLSCertFile))
	if s2, _ := readCASecret(u.l, org1); s2 != secret || !bytes.Equal(certBefore, certAfter) || !after.ModTime().Equal(before.ModTime()) {
		t.Error("a re-run changed the secret, the TLS certificate or the unchanged config file")
	}
}

func TestWriteCAConfigsNeedsOrgCAs(t *testing.T) {
	u := caFixture(t)
	os.RemoveAll(filepath.Join(u.l.PeerOrgDir(&u.n.Orgs[0]), "tlsca"))
	err := writeCAConfigs(u.n, u.l, u.ep)
	if err == nil || !strings.Contains(err.Error(), `org "Org1"`) || !strings.Contains(err.Error(), "TLS") {
		t.Fatalf("want an error naming Org1's TLS CA, got %v", err)
	}
}

func TestReadCASecretErrors(t *testing.T) {
	u := caFixture(t)
	o := &u.n.Orgs[0]
	if _, err := readCASecret(u.l, o); err == nil || !strings.Contains(err.Error(), "Org1") {
		t.Fatalf("missing secret: %v", err)
	}
	os.MkdirAll(u.l.CADir(o), 0o700)
	os.WriteFile(filepath.Join(u.l.CADir(o), caSecretFile), []byte("  \n"), 0o600)
	if _, err := readCASecret(u.l, o); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("blank secret: %v", err)
	}
}

func TestNodeProcsStartWithCAs(t *testing.T) {
	u := caFixture(t)
	procs := nodeProcs(u.n, u.opts.Dir, "weft", u.ep)
	if len(procs) != 1+3+2 {
		t.Fatalf("%d procs, want 1 CA, 3 orderers, 2 peers", len(procs))
	}
	p := procs[0]
	if p.name != "ca.org1.example.com" || p.kind != kindCA || p.health != "http://127.0.0.1:30055/healthz" ||
		!slices.Equal(p.listens, []string{"127.0.0.1:30054", "127.0.0.1:30055"}) ||
		!slices.Equal(p.args, []string{"node", "ca", "--config", u.l.CAConfigPath(&u.n.Orgs[0])}) {
		t.Errorf("CA proc %+v", p)
	}
	for _, q := range procs[1:] {
		if q.kind == kindCA || q.kind == "" {
			t.Errorf("proc %s has kind %q", q.name, q.kind)
		}
	}
}

func TestCAIdentities(t *testing.T) {
	u := caFixture(t)
	ids, err := caIdentities(u.n, u.l, 0)
	if err != nil {
		t.Fatal(err)
	}
	o := &u.n.Orgs[0]
	want := []caIdentity{
		{name: "peer0.org1.example.com", typ: "peer", dir: u.l.PeerDir(o, "peer0.org1.example.com")},
		{name: "User1@org1.example.com", typ: "client", dir: filepath.Dir(u.l.UserMSP(o, "User1")), client: true},
		{name: "Admin@org1.example.com", typ: "admin", dir: filepath.Dir(u.l.UserMSP(o, "Admin")), client: true},
	}
	if len(ids) != len(want) {
		t.Fatalf("identities %+v", ids)
	}
	for i := range want {
		got := ids[i]
		if got.name != want[i].name || got.typ != want[i].typ || got.dir != want[i].dir || got.client != want[i].client {
			t.Errorf("identity %d: %+v, want %+v", i, got, want[i])
		}
	}
	if !slices.Contains(ids[0].sans, "localhost") || !slices.Contains(ids[0].sans, "127.0.0.1") || !slices.Contains(ids[0].sans, "peer0.org1.example.com") {
		t.Errorf("peer TLS SANs %v", ids[0].sans)
	}
	if len(ids[1].sans) != 0 {
		t.Errorf("user TLS SANs %v", ids[1].sans)
	}
}

func TestProfileListsTheCA(t *testing.T) {
	u := caFixture(t)
	if err := writeCAConfigs(u.n, u.l, u.ep); err != nil {
		t.Fatal(err)
	}
	paths, err := u.writeProfiles()
	if err != nil || len(paths) != 2 {
		t.Fatalf("profiles %v: %v", paths, err)
	}
	if m := mode(t, paths[0]); m != 0o600 {
		t.Errorf("Org1 profile (holds the registrar secret) has mode %v", m)
	}
	if m := mode(t, paths[1]); m != 0o644 {
		t.Errorf("Org2 profile (no CA) has mode %v", m)
	}
	var prof struct {
		Organizations map[string]struct {
			CertificateAuthorities []string `json:"certificateAuthorities"`
		} `json:"organizations"`
		CertificateAuthorities map[string]struct {
			URL         string                 `json:"url"`
			CAName      string                 `json:"caName"`
			TLSCACerts  struct{ PEM []string } `json:"tlsCACerts"`
			HTTPOptions struct{ Verify bool }  `json:"httpOptions"`
			Registrar   []struct {
				EnrollID     string `json:"enrollId"`
				EnrollSecret string `json:"enrollSecret"`
			} `json:"registrar"`
		} `json:"certificateAuthorities"`
	}
	raw, _ := os.ReadFile(paths[0])
	if err := json.Unmarshal(raw, &prof); err != nil {
		t.Fatal(err)
	}
	if got := prof.Organizations["Org1"].CertificateAuthorities; !slices.Equal(got, []string{"ca.org1.example.com"}) {
		t.Errorf("organizations.Org1.certificateAuthorities = %v", got)
	}
	ca, ok := prof.CertificateAuthorities["ca.org1.example.com"]
	if !ok {
		t.Fatalf("certificateAuthorities: %s", raw)
	}
	secret, _ := readCASecret(u.l, &u.n.Orgs[0])
	_, _, tlsCert, _ := orgCAFiles(u.l, &u.n.Orgs[0])
	tlsPEM, _ := os.ReadFile(tlsCert)
	if ca.URL != "https://localhost:30054" || ca.CAName != "ca-org1" || !ca.HTTPOptions.Verify ||
		len(ca.TLSCACerts.PEM) != 1 || ca.TLSCACerts.PEM[0] != string(tlsPEM) {
		t.Errorf("CA entry: url %q caName %q verify %v pem %d", ca.URL, ca.CAName, ca.HTTPOptions.Verify, len(ca.TLSCACerts.PEM))
	}
	if len(ca.Registrar) != 1 || ca.Registrar[0].EnrollID != "admin" || ca.Registrar[0].EnrollSecret != secret {
		t.Errorf("registrar %+v", ca.Registrar)
	}
	raw2, _ := os.ReadFile(paths[1])
	if bytes.Contains(raw2, []byte("certificateAuthorities")) {
		t.Error("Org2 (ca: false) profile lists a CA")
	}
}
