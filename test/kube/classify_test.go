package kube

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// exitErr runs a shell that exits with code, for a real *exec.ExitError.
func exitErr(t *testing.T, code string) error {
	t.Helper()
	err := exec.Command("sh", "-c", "exit "+code).Run()
	if err == nil {
		t.Fatalf("sh exit %s: no error", code)
	}
	return err
}

func TestClassify(t *testing.T) {
	missing := exitErr(t, "3")
	broken := exitErr(t, "1")
	report := []byte("weft k8s control-plane is not ready:\n  binaries missing -> run: cluster.sh build\n")
	tests := []struct {
		name     string
		err      error
		env      string
		wantSkip bool
		wantMsg  []string // substrings; none means "go on"
	}{
		{name: "ready", err: nil, env: ""},
		{name: "ready, tests on", err: nil, env: "1"},
		{name: "ready, skip asked but nothing missing", err: nil, env: "0"},
		{name: "missing fails with the fix", err: missing, env: "", wantMsg: []string{"cluster.sh build", EnvTests + "=0"}},
		{name: "missing fails with tests on", err: missing, env: "1", wantMsg: []string{"cluster.sh build"}},
		{name: "missing skips only on 0", err: missing, env: "0", wantSkip: true, wantMsg: []string{EnvTests + "=0", "cluster.sh build"}},
		{name: "broken script is never skipped", err: broken, env: "0", wantMsg: []string{"cluster.sh check", "exit status 1"}},
		{name: "script not runnable", err: errors.New("fork/exec: permission denied"), env: "0", wantMsg: []string{"permission denied"}},
		{name: "bad env value", err: missing, env: "no", wantMsg: []string{EnvTests + `="no"`, "want 0"}},
		{name: "bad env value even when ready", err: nil, env: "false", wantMsg: []string{EnvTests}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			skip, msg := classify(report, tt.err, tt.env)
			if skip != tt.wantSkip {
				t.Errorf("skip = %v, want %v (msg %q)", skip, tt.wantSkip, msg)
			}
			if len(tt.wantMsg) == 0 && msg != "" {
				t.Errorf("msg = %q, want none", msg)
			}
			for _, s := range tt.wantMsg {
				if !strings.Contains(msg, s) {
					t.Errorf("msg %q lacks %q", msg, s)
				}
			}
		})
	}
}

func TestReuseRejects(t *testing.T) {
	empty := t.TempDir()
	garbage := t.TempDir()
	if err := os.WriteFile(filepath.Join(garbage, "admin.conf"), []byte("{not yaml"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A well-formed kubeconfig pointing at a port nothing listens on.
	dead := t.TempDir()
	conf := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1', insecure-skip-tls-verify: true}\n" +
		"users:\n- name: u\n  user: {token: x}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n"
	if err := os.WriteFile(filepath.Join(dead, "admin.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dir, want string
	}{
		{"no kubeconfig", empty, "kubeconfig"},
		{"unparsable kubeconfig", garbage, "kubeconfig"},
		{"nothing listening", dead, "not ready"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := reuse(tt.dir, "cluster.sh up")
			if err == nil {
				t.Fatalf("reuse(%s) = %v, want error", tt.dir, cfg.Host)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
		})
	}
}

func TestPaths(t *testing.T) {
	if _, err := os.Stat(Script()); err != nil {
		t.Errorf("Script() = %s: %v", Script(), err)
	}
	t.Setenv("WEFT_K8S_CACHE", "/x/cache")
	if got := Bin("kubectl"); got != "/x/cache/bin/kubectl" {
		t.Errorf("Bin(kubectl) = %s", got)
	}
	t.Setenv("WEFT_K8S_CACHE", "")
	if got := Bin("helm"); got != "/var/cache/weft-k8s/bin/helm" {
		t.Errorf("Bin(helm) with no WEFT_K8S_CACHE = %s", got)
	}
	e := &Env{Dir: "/d"}
	if got := e.Kubeconfig(); got != "/d/admin.conf" {
		t.Errorf("Kubeconfig() = %s", got)
	}
}
