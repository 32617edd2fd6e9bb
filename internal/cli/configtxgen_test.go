package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"weft/gen/cryptogen"
)

// configtxgenNetwork lays out <tmp>/organizations (made by cryptogen) and
// <tmp>/configtx/configtx.yaml (the configtxgen package's test file), as
// the fabric-samples test network does, and returns the config directory.
func configtxgenNetwork(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
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
	if err := cryptogen.Generate(cfg, filepath.Join(root, "organizations")); err != nil {
		t.Fatal(err)
	}
	yaml, err := os.ReadFile(filepath.Join("..", "..", "gen", "configtxgen", "testdata", "configtx.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "configtx")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "configtx.yaml"), yaml, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestConfigtxgenOutputAndInspect(t *testing.T) {
	dir := configtxgenNetwork(t)
	blockFile := filepath.Join(t.TempDir(), "mychannel.block")

	code, _, stderr := runCLI("configtxgen", "-configPath", dir, "-profile", "ChannelUsingRaft",
		"-channelID", "mychannel", "-outputBlock", blockFile)
	if code != 0 {
		t.Fatalf("outputBlock: exit %d: %s", code, stderr)
	}
	for _, line := range []string{"Loading configuration", "Generating genesis block", "Writing genesis block"} {
		if !strings.Contains(stderr, line) {
			t.Errorf("progress output lacks %q:\n%s", line, stderr)
		}
	}
	if st, err := os.Stat(blockFile); err != nil || st.Size() == 0 {
		t.Fatalf("block file: %v", err)
	}

	// Double-dash spelling works too, as with Go's flag package.
	code, stdout, stderr := runCLI("configtxgen", "--inspectBlock", blockFile)
	if code != 0 {
		t.Fatalf("inspectBlock: exit %d: %s", code, stderr)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(stdout), &v); err != nil {
		t.Fatalf("inspect output is not JSON: %v\n%s", err, stdout)
	}
	for _, want := range []string{`"mychannel"`, `"OrdererMSP"`, `"Org1MSP"`, `"Org2MSP"`, `"etcdraft"`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("inspect output lacks %s", want)
		}
	}

	code, stdout, stderr = runCLI("configtxgen", "-configPath", dir, "-printOrg", "Org1MSP")
	if code != 0 || !strings.Contains(stdout, `"AnchorPeers"`) || !strings.Contains(stdout, `"peer0.org1.example.com"`) {
		t.Errorf("printOrg: exit %d, stderr %s, stdout %.200s", code, stderr, stdout)
	}
}

func TestConfigtxgenUsesFabricCfgPath(t *testing.T) {
	dir := configtxgenNetwork(t)
	t.Setenv("FABRIC_CFG_PATH", dir)
	blockFile := filepath.Join(t.TempDir(), "b.block")
	if code, _, stderr := runCLI("configtxgen", "-profile", "Org1Only", "-channelID", "ch1", "-outputBlock", blockFile); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}

func TestConfigtxgenErrors(t *testing.T) {
	dir := configtxgenNetwork(t)
	out := filepath.Join(t.TempDir(), "x.block")
	// A sibling of the config dir, so the other relative paths still resolve.
	brokenMSP := filepath.Join(filepath.Dir(dir), "broken")
	if err := os.Mkdir(brokenMSP, 0o755); err != nil {
		t.Fatal(err)
	}
	yaml, err := os.ReadFile(filepath.Join(dir, "configtx.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(yaml), "../organizations/peerOrganizations/org2.example.com/msp", filepath.Join(dir, "..", "nowhere"), 1)
	if err := os.WriteFile(filepath.Join(brokenMSP, "configtx.yaml"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"missing profile", []string{"-configPath", dir, "-channelID", "c", "-outputBlock", out}, []string{"-profile is required"}},
		{"missing channelID", []string{"-configPath", dir, "-profile", "ChannelUsingRaft", "-outputBlock", out}, []string{"channelID"}},
		{"bad channelID", []string{"-configPath", dir, "-profile", "ChannelUsingRaft", "-channelID", "MyChannel", "-outputBlock", out}, []string{"-channelID", "not allowed"}},
		{"unknown profile", []string{"-configPath", dir, "-profile", "Nope", "-channelID", "c", "-outputBlock", out}, []string{`unknown profile "Nope"`, "ChannelUsingRaft", "Org1Only"}},
		{"unreadable MSP dir", []string{"-configPath", brokenMSP, "-profile", "ChannelUsingRaft", "-channelID", "c", "-outputBlock", out}, []string{`org "Org2MSP"`, "nowhere"}},
		{"no config dir", []string{"-configPath", t.TempDir(), "-profile", "ChannelUsingRaft", "-channelID", "c", "-outputBlock", out}, []string{"no configtx.yaml"}},
		{"unknown flag", []string{"-asOrg", "Org1MSP"}, []string{"flag provided but not defined: -asOrg"}},
		{"stray argument", []string{"-profile", "X", "extra"}, []string{`unexpected argument "extra"`}},
		{"nothing to do", []string{"-configPath", dir}, []string{"nothing to do"}},
		{"inspect missing file", []string{"-inspectBlock", filepath.Join(dir, "none.block")}, []string{"-inspectBlock", "no such file"}},
		{"inspect non-block", []string{"-inspectBlock", filepath.Join(dir, "configtx.yaml")}, []string{"not a block"}},
		{"printOrg unknown", []string{"-configPath", dir, "-printOrg", "Org7MSP"}, []string{`"Org7MSP"`, "not listed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("FABRIC_CFG_PATH", "")
			code, _, stderr := runCLI(append([]string{"configtxgen"}, tc.args...)...)
			if code == 0 {
				t.Fatal("exit 0")
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q lacks %q", stderr, w)
				}
			}
		})
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed run wrote the output block")
	}
}

func TestConfigtxgenHelp(t *testing.T) {
	for _, flag := range []string{"-h", "--help", "-help"} {
		code, stdout, _ := runCLI("configtxgen", flag)
		if code != 0 {
			t.Errorf("%s: exit %d", flag, code)
		}
		for _, want := range []string{"Usage:", "Examples:", "-outputBlock string", "-configPath string", "weft configtxgen -inspectBlock"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("%s: help lacks %q", flag, want)
			}
		}
	}
	code, stdout, _ := runCLI("help", "configtxgen")
	if code != 0 || !strings.Contains(stdout, "-outputBlock string") {
		t.Errorf("weft help configtxgen: exit %d, %q", code, stdout)
	}
	code, stdout, _ = runCLI("configtxgen", "-version")
	if code != 0 || !strings.Contains(stdout, "Version:") {
		t.Errorf("-version: exit %d, %q", code, stdout)
	}
}
