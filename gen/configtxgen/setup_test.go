package configtxgen

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"weft/gen/cryptogen"
)

// orgsDir holds crypto material made once for the whole test binary by the
// real cryptogen package, laid out as Fabric's cryptogen does.
var orgsDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "configtxgen-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	orgsDir = filepath.Join(dir, "organizations")
	cfg := cryptogen.Config{
		OrdererOrgs: []cryptogen.OrgSpec{{
			Name: "Orderer", Domain: "example.com", EnableNodeOUs: true,
			Specs: []cryptogen.NodeSpec{{Hostname: "orderer0"}, {Hostname: "orderer1"}, {Hostname: "orderer2"}},
		}},
		PeerOrgs: []cryptogen.OrgSpec{
			{Name: "Org1", Domain: "org1.example.com", EnableNodeOUs: true, Template: cryptogen.NodeTemplate{Count: 1}},
			{Name: "Org2", Domain: "org2.example.com", EnableNodeOUs: true, Template: cryptogen.NodeTemplate{Count: 1}},
		},
	}
	if err := cryptogen.Generate(cfg, orgsDir); err != nil {
		fmt.Fprintln(os.Stderr, "cryptogen:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func testdataConfig(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "configtx.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// writeConfig places configtx.yaml (after the given old→new replacements,
// each of which must apply) in <tmp>/configtx next to a link to the shared
// organizations tree, and returns the config directory.
func writeConfig(t *testing.T, replacements ...string) string {
	t.Helper()
	text := testdataConfig(t)
	for i := 0; i+1 < len(replacements); i += 2 {
		if !strings.Contains(text, replacements[i]) {
			t.Fatalf("replacement %q does not apply to testdata/configtx.yaml", replacements[i])
		}
		text = strings.Replace(text, replacements[i], replacements[i+1], 1)
	}
	root := t.TempDir()
	if err := os.Symlink(orgsDir, filepath.Join(root, "organizations")); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "configtx")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "configtx.yaml"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func ordererTLSCert(t *testing.T, host string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(orgsDir, "ordererOrganizations", "example.com", "orderers", host, "tls", "server.crt"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
