package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCryptogenGenerate(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "crypto-config.yaml")
	if err := os.WriteFile(cfg, []byte(`
PeerOrgs:
  - Name: Org1
    Domain: org1.example.com
    EnableNodeOUs: true
    Template: {Count: 1}
    Users: {Count: 1}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "organizations")
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"cryptogen", "generate", "--config=" + cfg, "--output=" + out}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d, stderr: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "peer0.org1.example.com") {
		t.Errorf("progress output = %q", stdout.String())
	}
	key := filepath.Join(out, "peerOrganizations", "org1.example.com", "peers", "peer0.org1.example.com", "tls", "server.key")
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("server.key: %v %v", fi, err)
	}

	// Running generate again over the same output is refused.
	stdout.Reset()
	stderr.Reset()
	if code := Main([]string{"cryptogen", "generate", "--config=" + cfg, "--output=" + out}, &stdout, &stderr); code == 0 || !strings.Contains(stderr.String(), "already exists") {
		t.Fatalf("regenerate: exit %d, stderr %q", code, stderr.String())
	}
	// extend adds only what is missing.
	stdout.Reset()
	stderr.Reset()
	if code := Main([]string{"cryptogen", "extend", "--config=" + cfg, "--input=" + out}, &stdout, &stderr); code != 0 || strings.Contains(stdout.String(), "peer0") {
		t.Fatalf("extend: exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}

func TestCryptogenErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("PeerOrgs:\n  - Name: Org1\n    Domian: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown field", []string{"cryptogen", "generate", "--config=" + bad, "--output=" + dir}, "Domian"},
		{"missing config file", []string{"cryptogen", "generate", "--config=" + filepath.Join(dir, "nope.yaml")}, "no such file"},
		{"stray argument", []string{"cryptogen", "generate", "extra"}, "unknown command"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := Main(tc.args, &stdout, &stderr); code == 0 || !strings.Contains(stderr.String(), tc.want) {
				t.Fatalf("exit %d, stderr %q, want containing %q", code, stderr.String(), tc.want)
			}
		})
	}
}

func TestCryptogenShowTemplateAndDefaultConfig(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"cryptogen", "showtemplate"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "PeerOrgs:") || !strings.Contains(stdout.String(), "OrdererOrgs:") {
		t.Fatalf("template = %q", stdout.String())
	}
	// The printed template is what generate uses without --config.
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(cfg, stdout.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	if code := Main([]string{"cryptogen", "generate", "--config=" + cfg, "--output=" + filepath.Join(dir, "out")}, &stdout, &stderr); code != 0 {
		t.Fatalf("generate from showtemplate: exit %d: %s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "ordererOrganizations", "example.com", "orderers", "orderer2.example.com", "tls", "server.crt")); err != nil {
		t.Fatal(err)
	}
}
