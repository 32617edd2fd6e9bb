package msp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"weft/fabcrypto"
	"weft/msp/msptest"
)

func nodeOUYAML(cert string) string {
	return strings.ReplaceAll(`NodeOUs:
  Enable: true
  ClientOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: client
  PeerOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: peer
  AdminOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: admin
  OrdererOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: orderer
`, "cacerts/ca.pem", cert)
}

// writeMSPDir lays out a Fabric MSP folder for signer, the way cryptogen
// does, and returns its path.
func writeMSPDir(t *testing.T, org *msptest.Org, signer *msptest.Member, configYAML string) string {
	t.Helper()
	dir := t.TempDir()
	write := func(rel string, data []byte) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("cacerts/ca.pem", org.Root.PEM)
	write("cacerts/README", []byte("not a certificate"))
	if org.Intermediate != nil {
		write("intermediatecerts/ica.pem", org.Intermediate.PEM)
	}
	write("signcerts/cert.pem", signer.PEM)
	if configYAML != "" {
		write("config.yaml", []byte(configYAML))
	}
	if err := os.MkdirAll(filepath.Join(dir, "keystore"), 0o755); err != nil {
		t.Fatal(err)
	}
	other, err := fabcrypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	// A non-matching key listed first must be skipped.
	if err := fabcrypto.WritePrivateKeyFile(filepath.Join(dir, "keystore", "a_sk"), other); err != nil {
		t.Fatal(err)
	}
	if err := fabcrypto.WritePrivateKeyFile(filepath.Join(dir, "keystore", "priv_sk"), signer.Key); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestConfigFromDir(t *testing.T) {
	org := mustOrg(t, "Org1MSP", true)
	peer := mustRole(t, org, "peer0.org1", msptest.OUPeer)
	dir := writeMSPDir(t, org, peer, nodeOUYAML("intermediatecerts/ica.pem"))

	cfg, err := ConfigFromDir(dir, "Org1MSP")
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	fc := m.Config()
	if len(fc.GetRootCerts()) != 1 || len(fc.GetIntermediateCerts()) != 1 || fc.GetSigningIdentity() != nil {
		t.Fatalf("unexpected config: %d roots, %d intermediates, signing identity %v", len(fc.GetRootCerts()), len(fc.GetIntermediateCerts()), fc.GetSigningIdentity())
	}
	if !m.NodeOUsEnabled() || string(fc.GetFabricNodeOus().GetPeerOuIdentifier().GetCertificate()) != string(org.Intermediate.PEM) {
		t.Fatal("NodeOUs not loaded from config.yaml")
	}

	sid, err := LoadSigningIdentity(dir, "Org1MSP")
	if err != nil {
		t.Fatal(err)
	}
	id, err := m.DeserializeIdentity(sid.Serialize())
	if err != nil {
		t.Fatal(err)
	}
	roles, err := m.Roles(id)
	if err != nil {
		t.Fatal(err)
	}
	if len(roles) != 2 || roles[1] != RolePeer {
		t.Fatalf("roles %v, want member+peer", roles)
	}
	sig, err := sid.Sign([]byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if err := id.Verify([]byte("hello"), sig); err != nil {
		t.Fatalf("signature by loaded identity: %v", err)
	}
	if string(sid.Serialize()) != string(peer.Serialized) {
		t.Fatal("serialized identity differs from the one built from the cert file")
	}
}

func TestConfigFromDirErrors(t *testing.T) {
	org := mustOrg(t, "Org1MSP", false)
	peer := mustRole(t, org, "peer0", msptest.OUPeer)
	tests := []struct {
		name   string
		yaml   string
		mutate func(dir string)
		id     string
		want   string
		load   string // LoadSigningIdentity error
	}{
		{name: "no cacerts", mutate: func(dir string) { os.RemoveAll(filepath.Join(dir, "cacerts")) }, want: "cacerts: no CA certificate found"},
		{name: "NodeOU cert missing", yaml: "NodeOUs:\n  Enable: true\n  PeerOUIdentifier:\n    Certificate: cacerts/missing.pem\n    OrganizationalUnitIdentifier: peer\n", want: "NodeOUs.PeerOUIdentifier: certificate"},
		{name: "bad yaml", yaml: "NodeOUs: [", want: "config.yaml"},
		{name: "empty MSP ID", id: "-", want: "MSP ID is empty", load: "MSP ID is empty"},
		{name: "no matching key", mutate: func(dir string) { os.Remove(filepath.Join(dir, "keystore", "priv_sk")) }, load: "no private key matches"},
		{name: "no signcerts", mutate: func(dir string) { os.RemoveAll(filepath.Join(dir, "signcerts")) }, load: "signcerts: no certificate found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeMSPDir(t, org, peer, tc.yaml)
			if tc.mutate != nil {
				tc.mutate(dir)
			}
			id := "Org1MSP"
			if tc.id == "-" {
				id = ""
			}
			_, err := ConfigFromDir(dir, id)
			checkErr(t, err, tc.want)
			_, err = LoadSigningIdentity(dir, id)
			checkErr(t, err, tc.load)
		})
	}
}

// A NodeOU naming the root while members come from the intermediate binds
// the OUs to the wrong chain: Fabric refuses such identities.
func TestConfigFromDirNodeOUWrongCA(t *testing.T) {
	org := mustOrg(t, "Org1MSP", true)
	peer := mustRole(t, org, "peer0", msptest.OUPeer)
	cfg, err := ConfigFromDir(writeMSPDir(t, org, peer, nodeOUYAML("cacerts/ca.pem")), "Org1MSP")
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	id, err := m.DeserializeIdentity(peer.Serialized)
	if err != nil {
		t.Fatal(err)
	}
	checkErr(t, m.Validate(id), "not certified by the CA")
}
