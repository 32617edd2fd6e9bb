package cryptogen

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"weft/fabcrypto"
)

const testConfig = `
OrdererOrgs:
  - Name: Orderer
    Domain: example.com
    EnableNodeOUs: %s
    Specs:
      - Hostname: orderer0
      - Hostname: orderer1
      - Hostname: orderer2
PeerOrgs:
  - Name: Org1
    Domain: org1.example.com
    EnableNodeOUs: %s
    Template:
      Count: 2
    Users:
      Count: 1
`

func configWithNodeOUs(t *testing.T, on bool) Config {
	t.Helper()
	v := "false"
	if on {
		v = "true"
	}
	cfg, err := ParseConfig([]byte(strings.ReplaceAll(testConfig, "%s", v)))
	if err != nil {
		t.Fatal(err)
	}
	return *cfg
}

// tree lists files, plus empty directories with a trailing slash, relative
// to root: cryptogen leaves admincerts/ empty when NodeOUs are on.
func tree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if ents, _ := os.ReadDir(p); len(ents) == 0 {
				out = append(out, filepath.ToSlash(rel)+"/")
			}
			return nil
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// localMSP lists what cryptogen writes for one node or user, with
// admin naming the cert expected in admincerts ("" = empty folder).
func localMSP(dir, cn, domain, tlsKind, admin string, nodeOUs bool) []string {
	files := []string{
		dir + "/msp/cacerts/ca." + domain + "-cert.pem",
		dir + "/msp/keystore/priv_sk",
		dir + "/msp/signcerts/" + cn + "-cert.pem",
		dir + "/msp/tlscacerts/tlsca." + domain + "-cert.pem",
		dir + "/tls/ca.crt",
		dir + "/tls/" + tlsKind + ".crt",
		dir + "/tls/" + tlsKind + ".key",
	}
	if nodeOUs {
		files = append(files, dir+"/msp/config.yaml", dir+"/msp/admincerts/")
	} else {
		files = append(files, dir+"/msp/admincerts/"+admin+"-cert.pem")
	}
	return files
}

func orgFiles(dir, domain string, nodeOUs bool) []string {
	files := []string{
		dir + "/ca/ca." + domain + "-cert.pem",
		dir + "/ca/priv_sk",
		dir + "/tlsca/tlsca." + domain + "-cert.pem",
		dir + "/tlsca/priv_sk",
		dir + "/msp/cacerts/ca." + domain + "-cert.pem",
		dir + "/msp/tlscacerts/tlsca." + domain + "-cert.pem",
	}
	if nodeOUs {
		return append(files, dir+"/msp/config.yaml", dir+"/msp/admincerts/")
	}
	return append(files, dir+"/msp/admincerts/Admin@"+domain+"-cert.pem")
}

func expectedTree(nodeOUs bool) []string {
	const o, p = "ordererOrganizations/example.com", "peerOrganizations/org1.example.com"
	var want []string
	want = append(want, orgFiles(o, "example.com", nodeOUs)...)
	for _, h := range []string{"orderer0", "orderer1", "orderer2"} {
		cn := h + ".example.com"
		want = append(want, localMSP(o+"/orderers/"+cn, cn, "example.com", "server", "Admin@example.com", nodeOUs)...)
	}
	want = append(want, localMSP(o+"/users/Admin@example.com", "Admin@example.com", "example.com", "client", "Admin@example.com", nodeOUs)...)
	want = append(want, orgFiles(p, "org1.example.com", nodeOUs)...)
	for _, h := range []string{"peer0", "peer1"} {
		cn := h + ".org1.example.com"
		want = append(want, localMSP(p+"/peers/"+cn, cn, "org1.example.com", "server", "Admin@org1.example.com", nodeOUs)...)
	}
	for _, u := range []string{"User1@org1.example.com", "Admin@org1.example.com"} {
		// Users without NodeOUs list themselves as admin, as cryptogen does.
		want = append(want, localMSP(p+"/users/"+u, u, "org1.example.com", "client", u, nodeOUs)...)
	}
	sort.Strings(want)
	return want
}

func TestGenerateTreeLayout(t *testing.T) {
	for _, nodeOUs := range []bool{true, false} {
		t.Run(map[bool]string{true: "NodeOUs", false: "admincerts"}[nodeOUs], func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "crypto-config")
			var progress bytes.Buffer
			if err := GenerateWith(configWithNodeOUs(t, nodeOUs), out, Options{Progress: &progress}); err != nil {
				t.Fatal(err)
			}
			got, want := tree(t, out), expectedTree(nodeOUs)
			if !slices.Equal(got, want) {
				for _, g := range got {
					if !slices.Contains(want, g) {
						t.Errorf("unexpected: %s", g)
					}
				}
				for _, w := range want {
					if !slices.Contains(got, w) {
						t.Errorf("missing: %s", w)
					}
				}
				t.FailNow()
			}
			for _, s := range []string{"org1.example.com\n", "  peer1.org1.example.com\n", "  orderer2.example.com\n", "  Admin@example.com\n"} {
				if !strings.Contains(progress.String(), s) {
					t.Errorf("progress lacks %q:\n%s", s, progress.String())
				}
			}
		})
	}
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	c, err := fabcrypto.ReadCertFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestGeneratedCertificates(t *testing.T) {
	start := time.Now()
	out := t.TempDir()
	if err := Generate(configWithNodeOUs(t, true), out); err != nil {
		t.Fatal(err)
	}
	org := filepath.Join(out, "peerOrganizations", "org1.example.com")
	signCA := readCert(t, filepath.Join(org, "ca", "ca.org1.example.com-cert.pem"))
	tlsCA := readCert(t, filepath.Join(org, "tlsca", "tlsca.org1.example.com-cert.pem"))
	if signCA.Equal(tlsCA) || !signCA.IsCA || !tlsCA.IsCA {
		t.Fatal("signing and TLS CAs must be distinct CA certificates")
	}
	if signCA.Subject.Organization[0] != "org1.example.com" || signCA.Subject.Country[0] != "US" {
		t.Fatalf("CA subject = %v", signCA.Subject)
	}
	pool := func(c *x509.Certificate) *x509.CertPool {
		p := x509.NewCertPool()
		p.AddCert(c)
		return p
	}
	anyEKU := []x509.ExtKeyUsage{x509.ExtKeyUsageAny}

	roles := []struct {
		dir, cn, role, tls string
		ca                 *x509.Certificate
	}{
		{filepath.Join(org, "peers", "peer0.org1.example.com"), "peer0.org1.example.com", "peer", "server", signCA},
		{filepath.Join(org, "users", "Admin@org1.example.com"), "Admin@org1.example.com", "admin", "client", signCA},
		{filepath.Join(org, "users", "User1@org1.example.com"), "User1@org1.example.com", "client", "client", signCA},
		{filepath.Join(out, "ordererOrganizations", "example.com", "orderers", "orderer1.example.com"), "orderer1.example.com", "orderer", "server", nil},
	}
	for _, r := range roles {
		sc := readCert(t, filepath.Join(r.dir, "msp", "signcerts", r.cn+"-cert.pem"))
		if !slices.Equal(sc.Subject.OrganizationalUnit, []string{r.role}) {
			t.Errorf("%s: OU = %v, want [%s]", r.cn, sc.Subject.OrganizationalUnit, r.role)
		}
		if sc.Subject.CommonName != r.cn || sc.KeyUsage != x509.KeyUsageDigitalSignature || sc.IsCA {
			t.Errorf("%s: signcert CN %q KU %v", r.cn, sc.Subject.CommonName, sc.KeyUsage)
		}
		key, err := fabcrypto.ReadPrivateKeyFile(filepath.Join(r.dir, "msp", "keystore", "priv_sk"))
		if err != nil || !key.PublicKey.Equal(sc.PublicKey.(*ecdsa.PublicKey)) {
			t.Errorf("%s: keystore key does not match signcert (%v)", r.cn, err)
		}
		tc := readCert(t, filepath.Join(r.dir, "tls", r.tls+".crt"))
		if r.ca != nil {
			if _, err := sc.Verify(x509.VerifyOptions{Roots: pool(signCA), KeyUsages: anyEKU}); err != nil {
				t.Errorf("%s: signcert does not chain to signing CA: %v", r.cn, err)
			}
			if _, err := sc.Verify(x509.VerifyOptions{Roots: pool(tlsCA), KeyUsages: anyEKU}); err == nil {
				t.Errorf("%s: signcert chains to the TLS CA", r.cn)
			}
			if _, err := tc.Verify(x509.VerifyOptions{Roots: pool(tlsCA), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
				t.Errorf("%s: TLS cert does not chain to TLS CA: %v", r.cn, err)
			}
			if _, err := tc.Verify(x509.VerifyOptions{Roots: pool(signCA), KeyUsages: anyEKU}); err == nil {
				t.Errorf("%s: TLS cert chains to the signing CA", r.cn)
			}
			if ca := readCert(t, filepath.Join(r.dir, "tls", "ca.crt")); !ca.Equal(tlsCA) {
				t.Errorf("%s: tls/ca.crt is not the TLS CA", r.cn)
			}
		}
	}

	peerTLS := readCert(t, filepath.Join(org, "peers", "peer0.org1.example.com", "tls", "server.crt"))
	for _, dns := range []string{"peer0.org1.example.com", "peer0", "localhost"} {
		if !slices.Contains(peerTLS.DNSNames, dns) {
			t.Errorf("peer TLS DNS SANs %v lack %s", peerTLS.DNSNames, dns)
		}
	}
	if !slices.ContainsFunc(peerTLS.IPAddresses, func(ip net.IP) bool { return ip.Equal(net.IPv4(127, 0, 0, 1)) }) {
		t.Errorf("peer TLS IP SANs %v lack 127.0.0.1", peerTLS.IPAddresses)
	}
	if err := peerTLS.VerifyHostname("127.0.0.1"); err != nil {
		t.Error(err)
	}

	var cfgFile nodeOUsFile
	data, err := os.ReadFile(filepath.Join(org, "msp", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &cfgFile); err != nil {
		t.Fatal(err)
	}
	n := cfgFile.NodeOUs
	if !n.Enable || n.PeerOUIdentifier.Certificate != "cacerts/ca.org1.example.com-cert.pem" ||
		n.ClientOUIdentifier.OrganizationalUnitIdentifier != "client" || n.PeerOUIdentifier.OrganizationalUnitIdentifier != "peer" ||
		n.AdminOUIdentifier.OrganizationalUnitIdentifier != "admin" || n.OrdererOUIdentifier.OrganizationalUnitIdentifier != "orderer" {
		t.Errorf("config.yaml = %s", data)
	}

	// Every key is 0600 and every certificate is backdated.
	err = filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case strings.HasSuffix(p, "_sk") || strings.HasSuffix(p, ".key"):
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v, want 0600", p, fi.Mode().Perm())
			}
		case strings.HasSuffix(p, ".pem") || strings.HasSuffix(p, ".crt"):
			c := readCert(t, p)
			if nb := c.NotBefore; nb.After(start.Add(-4*time.Minute)) || nb.Before(start.Add(-7*time.Minute)) {
				t.Errorf("%s: NotBefore %v not backdated ~5 minutes", p, nb)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAdminCertsWithoutNodeOUs(t *testing.T) {
	out := t.TempDir()
	if err := Generate(configWithNodeOUs(t, false), out); err != nil {
		t.Fatal(err)
	}
	org := filepath.Join(out, "peerOrganizations", "org1.example.com")
	admin := readCert(t, filepath.Join(org, "users", "Admin@org1.example.com", "msp", "signcerts", "Admin@org1.example.com-cert.pem"))
	for _, d := range []string{"msp", "peers/peer1.org1.example.com/msp"} {
		if c := readCert(t, filepath.Join(org, d, "admincerts", "Admin@org1.example.com-cert.pem")); !c.Equal(admin) {
			t.Errorf("%s/admincerts does not hold the admin's certificate", d)
		}
	}
	user := readCert(t, filepath.Join(org, "users", "User1@org1.example.com", "msp", "signcerts", "User1@org1.example.com-cert.pem"))
	if len(user.Subject.OrganizationalUnit) != 0 {
		t.Errorf("user OUs without NodeOUs = %v, want none", user.Subject.OrganizationalUnit)
	}
}

func TestGenerateRefusesExistingOrgAndExtends(t *testing.T) {
	out := t.TempDir()
	small := configWithNodeOUs(t, true)
	if err := Generate(small, out); err != nil {
		t.Fatal(err)
	}
	if err := Generate(small, out); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second Generate error = %v, want 'already exists'", err)
	}
	peer0 := filepath.Join(out, "peerOrganizations", "org1.example.com", "peers", "peer0.org1.example.com", "msp", "signcerts", "peer0.org1.example.com-cert.pem")
	before, _ := os.ReadFile(peer0)

	bigger := small
	bigger.PeerOrgs = slices.Clone(small.PeerOrgs)
	bigger.PeerOrgs[0].Template.Count = 3
	bigger.PeerOrgs = append(bigger.PeerOrgs, OrgSpec{Domain: "org2.example.com", Template: NodeTemplate{Count: 1}})
	var progress bytes.Buffer
	if err := GenerateWith(bigger, out, Options{Extend: true, Progress: &progress}); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(peer0); !bytes.Equal(before, after) {
		t.Fatal("extend rewrote an existing peer")
	}
	if strings.Contains(progress.String(), "peer0.org1") || !strings.Contains(progress.String(), "peer2.org1.example.com") {
		t.Fatalf("extend progress = %q", progress.String())
	}
	org := filepath.Join(out, "peerOrganizations", "org1.example.com")
	newCert := readCert(t, filepath.Join(org, "peers", "peer2.org1.example.com", "msp", "signcerts", "peer2.org1.example.com-cert.pem"))
	if err := newCert.CheckSignatureFrom(readCert(t, filepath.Join(org, "ca", "ca.org1.example.com-cert.pem"))); err != nil {
		t.Fatalf("extended peer not issued by the existing CA: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "peerOrganizations", "org2.example.com", "peers", "peer0.org2.example.com")); err != nil {
		t.Fatalf("extend did not create the new org: %v", err)
	}

	// A CA key that no longer matches its certificate is reported.
	if err := fabcrypto.WritePrivateKeyFile(filepath.Join(org, "ca", "priv_sk"), mustKey(t)); err != nil {
		t.Fatal(err)
	}
	bigger.PeerOrgs[0].Template.Count = 4
	if err := GenerateWith(bigger, out, Options{Extend: true}); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("extend with mismatched CA key error = %v", err)
	}
}

func mustKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := fabcrypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestGenerateBadInput(t *testing.T) {
	if err := Generate(Config{}, t.TempDir()); err == nil {
		t.Fatal("empty config accepted")
	}
	if err := Generate(Config{PeerOrgs: []OrgSpec{{Domain: "a.com"}}}, ""); err == nil {
		t.Fatal("empty output dir accepted")
	}
	// Output path blocked by a regular file.
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Generate(Config{PeerOrgs: []OrgSpec{{Domain: "a.com"}}}, f); err == nil {
		t.Fatal("output below a regular file accepted")
	}
}

// A CAOnly org gets its CAs and msp/ but no node or user folder, and its
// plan still lists the nodes and users to be enrolled elsewhere; the
// other orgs are written in full. Turning CAOnly off later (extend) adds
// the identities with the same CAs.
func TestGenerateCAOnly(t *testing.T) {
	for _, nodeOUs := range []bool{true, false} {
		cfg := configWithNodeOUs(t, nodeOUs)
		cfg.PeerOrgs[0].CAOnly = true
		plan, err := cfg.Resolve()
		if err != nil {
			t.Fatal(err)
		}
		var peerOrg *Org
		for i := range plan.Orgs {
			if plan.Orgs[i].Kind == KindPeer {
				peerOrg = &plan.Orgs[i]
			}
		}
		if peerOrg == nil || !peerOrg.CAOnly || len(peerOrg.Nodes) != 2 || len(peerOrg.Users) != 2 {
			t.Fatalf("NodeOUs %v: resolved peer org %+v, want CAOnly with 2 nodes and 2 users listed", nodeOUs, peerOrg)
		}
		out := t.TempDir()
		if err := plan.Write(out, Options{}); err != nil {
			t.Fatalf("NodeOUs %v: %v", nodeOUs, err)
		}
		org := filepath.Join(out, "peerOrganizations", "org1.example.com")
		for _, want := range []string{"ca/priv_sk", "ca/ca.org1.example.com-cert.pem", "tlsca/tlsca.org1.example.com-cert.pem",
			"msp/cacerts/ca.org1.example.com-cert.pem", "msp/tlscacerts/tlsca.org1.example.com-cert.pem"} {
			if _, err := os.Stat(filepath.Join(org, want)); err != nil {
				t.Errorf("NodeOUs %v: %s missing: %v", nodeOUs, want, err)
			}
		}
		for _, absent := range []string{"peers", "users"} {
			if _, err := os.Stat(filepath.Join(org, absent)); err == nil {
				t.Errorf("NodeOUs %v: CAOnly org has %s/", nodeOUs, absent)
			}
		}
		if _, err := os.Stat(filepath.Join(out, "ordererOrganizations", "example.com", "orderers", "orderer0.example.com", "tls", "server.crt")); err != nil {
			t.Errorf("NodeOUs %v: orderer org not written in full: %v", nodeOUs, err)
		}
		caBefore, _ := os.ReadFile(filepath.Join(org, "ca", "priv_sk"))
		cfg.PeerOrgs[0].CAOnly = false
		if err := GenerateWith(cfg, out, Options{Extend: true}); err != nil {
			t.Fatalf("NodeOUs %v: extend: %v", nodeOUs, err)
		}
		if _, err := os.Stat(filepath.Join(org, "peers", "peer1.org1.example.com", "msp", "keystore", "priv_sk")); err != nil {
			t.Errorf("NodeOUs %v: extend without CAOnly did not add the peers: %v", nodeOUs, err)
		}
		if caAfter, _ := os.ReadFile(filepath.Join(org, "ca", "priv_sk")); !bytes.Equal(caBefore, caAfter) {
			t.Errorf("NodeOUs %v: extend re-keyed the CA", nodeOUs)
		}
	}
}

// CAOnly is weft's own switch: crypto-config.yaml cannot set it.
func TestCAOnlyNotInFileFormat(t *testing.T) {
	_, err := ParseConfig([]byte("PeerOrgs:\n  - Name: Org1\n    Domain: org1.example.com\n    CAOnly: true\n"))
	if err == nil || !strings.Contains(err.Error(), "CAOnly") {
		t.Fatalf("CAOnly key accepted in crypto-config.yaml: %v", err)
	}
}
