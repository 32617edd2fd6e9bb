// Package kube gives weft's operator tests a real Kubernetes v1.34.4, run
// through test/cluster/cluster.sh: ControlPlane (etcd + kube-apiserver, for
// API-level tests, ready in seconds) or Cluster (a full single-node cluster
// that runs pods; needs root).
//
// Nothing is skipped silently. When the binaries (or, for Cluster, root or
// the node packages) are missing the test fails and names the command that
// fixes it; only WEFT_K8S_TESTS=0 turns that into a skip. Setting
// WEFT_K8S_CONTROL_PLANE or WEFT_K8S_CLUSTER to a DIR already started with
// cluster.sh reuses it instead of starting (and stopping) a fresh one.
package kube

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Environment variables read by this package.
const (
	EnvTests        = "WEFT_K8S_TESTS"
	EnvControlPlane = "WEFT_K8S_CONTROL_PLANE"
	EnvCluster      = "WEFT_K8S_CLUSTER"
)

// checkMissing is cluster.sh check's exit status for "not built / not
// installed", as opposed to a broken script.
const checkMissing = 3

// Env is a running Kubernetes for one test.
type Env struct {
	Config *rest.Config
	// Dir is cluster.sh's DIR; Dir/admin.conf is an admin kubeconfig.
	Dir  string
	full bool
}

// Kubeconfig is the path of an admin kubeconfig, for kubectl or helm.
func (e *Env) Kubeconfig() string { return filepath.Join(e.Dir, "admin.conf") }

// ControlPlane starts etcd and kube-apiserver for t and stops them when t
// ends. Only the API server runs: no controllers (namespaces are never
// finalized, no ServiceAccount is created) and no node.
func ControlPlane(t testing.TB) *rest.Config {
	t.Helper()
	return start(t, false).Config
}

// Cluster starts the full single-node cluster for t and stops it (undoing
// its host changes) when t ends.
func Cluster(t testing.TB) *rest.Config {
	t.Helper()
	return start(t, true).Config
}

// StartControlPlane is ControlPlane returning the Env.
func StartControlPlane(t testing.TB) *Env {
	t.Helper()
	return start(t, false)
}

// StartCluster is Cluster returning the Env.
func StartCluster(t testing.TB) *Env {
	t.Helper()
	return start(t, true)
}

// ImportImage loads a docker-archive or OCI tarball (for example from
// `weft image build`) into the full cluster, for pods with
// imagePullPolicy Never or IfNotPresent.
func (e *Env) ImportImage(t testing.TB, tarball string) {
	t.Helper()
	if !e.full {
		t.Fatalf("ImportImage %s: the control plane runs no pods; use StartCluster", tarball)
	}
	if out, err := runScript(5*time.Minute, "import", tarball, e.Dir); err != nil {
		t.Fatalf("import %s: %v\n%s", tarball, err, out)
	}
}

// Bin is the path of a binary cluster.sh built (kubectl, helm, etcdctl, ...).
func Bin(name string) string {
	cache := os.Getenv("WEFT_K8S_CACHE")
	if cache == "" {
		cache = "/var/cache/weft-k8s"
	}
	return filepath.Join(cache, "bin", name)
}

// Script is the path of test/cluster/cluster.sh.
func Script() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "cluster", "cluster.sh")
}

func start(t testing.TB, full bool) *Env {
	t.Helper()
	mode, reuseVar := "control-plane", EnvControlPlane
	if full {
		mode, reuseVar = "full", EnvCluster
	}
	if dir := os.Getenv(reuseVar); dir != "" {
		cfg, err := reuse(dir, Script()+" "+upCmd(full, dir))
		if err != nil {
			t.Fatalf("%s=%s: %v", reuseVar, dir, err)
		}
		return &Env{Config: cfg, Dir: dir, full: full}
	}
	out, err := runScript(time.Minute, "check", mode)
	skip, msg := classify(out, err, os.Getenv(EnvTests))
	if skip {
		t.Skip(msg)
	}
	if msg != "" {
		t.Fatal(msg)
	}

	dir := t.TempDir()
	up, down := []string{"control-plane", "up", dir}, []string{"control-plane", "down", "--purge", dir}
	if full {
		up, down = []string{"up", dir}, []string{"down", "--purge", dir}
	}
	// Registered before starting, so a half-started cluster is cleaned up
	// too; it runs before t.TempDir's removal (cleanups run last-first).
	t.Cleanup(func() {
		if out, err := runScript(2*time.Minute, down...); err != nil {
			t.Errorf("stopping kube %s in %s: %v\n%s", mode, dir, err, out)
		}
	})
	began := time.Now()
	if out, err := runScript(10*time.Minute, up...); err != nil {
		t.Fatalf("starting kube %s: %v\n%s", mode, err, out)
	}
	t.Logf("kube %s up in %s (%s)", mode, time.Since(began).Round(100*time.Millisecond), dir)
	cfg, err := loadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	return &Env{Config: cfg, Dir: dir, full: full}
}

// classify turns `cluster.sh check` into: go on (""), skip, or fail (msg).
func classify(out []byte, err error, testsEnv string) (skip bool, msg string) {
	switch testsEnv {
	case "", "0", "1":
	default:
		return false, fmt.Sprintf("%s=%q: want 0 (skip Kubernetes tests whose prerequisites are missing) or 1", EnvTests, testsEnv)
	}
	if err == nil {
		return false, ""
	}
	report := strings.TrimSpace(string(out))
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != checkMissing {
		return false, fmt.Sprintf("cluster.sh check: %v\n%s", err, report)
	}
	if testsEnv == "0" {
		return true, fmt.Sprintf("%s=0 and %s", EnvTests, report)
	}
	return false, fmt.Sprintf("%s\n(or set %s=0 to skip the Kubernetes tests)", report, EnvTests)
}

// reuse accepts dir only if its API server answers now: a stale DIR must
// fail loudly rather than make every test time out.
func reuse(dir, startCmd string) (*rest.Config, error) {
	cfg, err := loadConfig(dir)
	if err != nil {
		return nil, err
	}
	probe := rest.CopyConfig(cfg)
	probe.Timeout = 5 * time.Second
	cs, err := kubernetes.NewForConfig(probe)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx); err != nil {
		return nil, fmt.Errorf("API server not ready (%v %s); start it with: %s", err, body, startCmd)
	}
	return cfg, nil
}

func loadConfig(dir string) (*rest.Config, error) {
	path := filepath.Join(dir, "admin.conf")
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	return cfg, nil
}

func runScript(limit time.Duration, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, Script(), args...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("cluster.sh %s: gave up after %s: %w", strings.Join(args, " "), limit, err)
	}
	return out, err
}

func upCmd(full bool, dir string) string {
	if full {
		return "up " + dir
	}
	return "control-plane up " + dir
}
