package k8se2e_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "weft/k8s/api/v1alpha1"
	"weft/k8s/operator"
	"weft/k8s/render"
	"weft/test/kube"
)

// cluster is the running cluster with the clients and paths a test step
// needs.
type cluster struct {
	t     *testing.T
	env   *kube.Env
	c     client.Client
	ctx   context.Context
	root  string // repository root
	weft  string // the weft binary
	start time.Time
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func newCluster(t *testing.T, env *kube.Env, weftBin string) *cluster {
	scheme, err := operator.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(env.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return &cluster{t: t, env: env, c: c, ctx: context.Background(), root: repoRoot(), weft: weftBin, start: time.Now()}
}

// run executes a command and returns its combined output, failing the test
// (with the cluster's state) when it fails.
func (k *cluster) run(limit time.Duration, dir string, name string, args ...string) string {
	k.t.Helper()
	out, err := k.try(limit, dir, name, args...)
	if err != nil {
		k.fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return out
}

func (k *cluster) try(limit time.Duration, dir string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(k.ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "KUBECONFIG="+k.env.Kubeconfig())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("gave up after %s: %w", limit, err)
	}
	return out.String(), err
}

func (k *cluster) kubectl(args ...string) string {
	k.t.Helper()
	return k.run(2*time.Minute, "", kube.Bin("kubectl"), args...)
}

// fatalf fails the test with the message followed by what a CI reader
// needs to see why: the Network's status, the pods, recent events and the
// logs of every pod that is not ready plus the operator's.
func (k *cluster) fatalf(format string, args ...any) {
	k.t.Helper()
	k.t.Fatalf(format+"\n\n%s", append(args, k.diagnostics())...)
}

func (k *cluster) diagnostics() string {
	var b strings.Builder
	get := func(title string, args ...string) {
		out, err := k.try(30*time.Second, "", kube.Bin("kubectl"), args...)
		fmt.Fprintf(&b, "==== %s\n%s", title, out)
		if err != nil {
			fmt.Fprintf(&b, "(%v)\n", err)
		}
	}
	get("network", "get", "networks.weft.dev", "-A", "-o", "yaml")
	get("pods", "get", "pods", "-A", "-o", "wide")
	get("events", "get", "events", "-A", "--sort-by=.lastTimestamp")
	var pods corev1.PodList
	if err := k.c.List(k.ctx, &pods); err != nil {
		fmt.Fprintf(&b, "list pods: %v\n", err)
		return b.String()
	}
	for _, p := range pods.Items {
		operatorPod := strings.HasPrefix(p.Name, "weft-operator")
		if !operatorPod && (p.Labels["weft.dev/network"] == "" || podReady(&p)) {
			continue
		}
		get("logs "+p.Namespace+"/"+p.Name, "logs", "-n", p.Namespace, p.Name, "--all-containers", "--tail=60")
		for _, s := range p.Status.ContainerStatuses {
			if s.RestartCount > 0 {
				get("previous logs "+p.Namespace+"/"+p.Name, "logs", "-n", p.Namespace, p.Name, "-c", s.Name, "--previous", "--tail=40")
			}
		}
	}
	return b.String()
}

func podReady(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// logf prefixes the time since the test started.
func (k *cluster) logf(format string, args ...any) {
	k.t.Helper()
	k.t.Logf("[%5.1fs] "+format, append([]any{time.Since(k.start).Seconds()}, args...)...)
}

// eventually polls f every interval until it returns nil, and fails with
// its last error and the diagnostics after limit.
func (k *cluster) eventually(limit, interval time.Duration, what string, f func() error) {
	k.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			k.fatalf("%s: not within %s: %v", what, limit, err)
		}
		time.Sleep(interval)
	}
}

// network reads the Network.
func (k *cluster) network() *v1alpha1.Network {
	k.t.Helper()
	var n v1alpha1.Network
	if err := k.c.Get(k.ctx, client.ObjectKey{Namespace: netNS, Name: netName}, &n); err != nil {
		k.fatalf("get Network: %v", err)
	}
	return &n
}

// summary is a one-line view of the status for progress logs.
func summary(n *v1alpha1.Network) string {
	var parts []string
	parts = append(parts, fmt.Sprintf("gen %d/%d phase %s", n.Status.ObservedGeneration, n.Generation, n.Status.Phase))
	for _, c := range n.Status.Conditions {
		parts = append(parts, fmt.Sprintf("%s=%s(%s)", c.Type, c.Status, c.Reason))
	}
	add := func(kind string, list []v1alpha1.ComponentStatus) {
		for _, s := range list {
			for _, c := range s.Conditions {
				if c.Status != "True" || c.Type != v1alpha1.ConditionReady {
					parts = append(parts, fmt.Sprintf("%s %s %s=%s(%s: %.120s)", kind, s.Name, c.Type, c.Status, c.Reason, c.Message))
				}
			}
		}
	}
	add("org", n.Status.Orgs)
	add("channel", n.Status.Channels)
	add("chaincode", n.Status.Chaincodes)
	return strings.Join(parts, "; ")
}

// waitReady waits until the operator has observed the Network's current
// generation and calls it Ready, logging each new status on the way.
func (k *cluster) waitReady(limit time.Duration) *v1alpha1.Network {
	k.t.Helper()
	var last string
	var n *v1alpha1.Network
	k.eventually(limit, time.Second, "Network Ready", func() error {
		n = k.network()
		if s := summary(n); s != last {
			k.logf("status: %s", s)
			last = s
		}
		current := n.Status.ObservedGeneration == n.Generation
		if current && n.Status.Phase == v1alpha1.PhaseFailed {
			k.fatalf("Network failed: %s", last)
		}
		if !current || n.Status.Phase != v1alpha1.PhaseReady {
			return fmt.Errorf("%s", last)
		}
		return nil
	})
	return n
}

// pod returns a pod or nil when it does not exist.
func (k *cluster) pod(ns, name string) *corev1.Pod {
	var p corev1.Pod
	if err := k.c.Get(k.ctx, client.ObjectKey{Namespace: ns, Name: name}, &p); err != nil {
		return nil
	}
	return &p
}

// errNoChannel: the node answers but has no mychannel ledger.
var errNoChannel = errors.New("no mychannel height in its metrics")

var heightRE = regexp.MustCompile(`(?m)^ledger_blockchain_height\{channel="mychannel"\} (\S+)$`)

// height reads a node's mychannel ledger height from its operations
// endpoint at the pod IP (the host routes to the pod bridge).
func (k *cluster) height(ns, pod string) (uint64, error) {
	p := k.pod(ns, pod)
	if p == nil || p.Status.PodIP == "" {
		return 0, fmt.Errorf("pod %s/%s has no IP yet", ns, pod)
	}
	hc := http.Client{Timeout: 5 * time.Second}
	resp, err := hc.Get("http://" + p.Status.PodIP + ":9443/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return 0, err
	}
	m := heightRE.FindSubmatch(body)
	if m == nil {
		return 0, fmt.Errorf("pod %s/%s: %w", ns, pod, errNoChannel)
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	return uint64(v), err
}

// external is a node's address outside the cluster, from the status.
func (k *cluster) external(host string) string {
	k.t.Helper()
	for _, e := range k.network().Status.Endpoints {
		if e.Node == host && e.External != "" {
			return e.External
		}
	}
	k.fatalf("no external endpoint for %s in the status", host)
	return ""
}

// waitPort waits until addr accepts TCP connections: kube-proxy forwards a
// NodePort only once the Service's endpoints hold a ready pod, a moment
// after the pod itself turned ready.
func (k *cluster) waitPort(addr string, limit time.Duration) {
	k.t.Helper()
	k.eventually(limit, 200*time.Millisecond, "NodePort "+addr+" answers", func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	})
}

// userDir writes what sample-app.js reads (as `weft up` lays it out) from
// the cluster: the org's connection profile as the operator published it,
// fetched with `weft k8s connection-profile`, and User1's MSP folder from
// its Secret. firstPeer, when set, is put first in the org's peer list (the
// app uses the first).
func (k *cluster) userDir(dir, firstPeer string) string {
	k.t.Helper()
	profile := k.run(time.Minute, "", k.weft, "k8s", "connection-profile", "--network", netName, "--org", "Org1",
		"--kubeconfig", k.env.Kubeconfig())
	if firstPeer != "" {
		profile = strings.Replace(profile, `"peers": [`, `"peers": [`+strconv.Quote(firstPeer)+",", 1)
	}
	org := filepath.Join(dir, "organizations", "peerOrganizations", "org1.example.com")
	msp := filepath.Join(org, "users", "User1@org1.example.com")
	var s corev1.Secret
	if err := k.c.Get(k.ctx, client.ObjectKey{Namespace: org1NS, Name: "user1-crypto"}, &s); err != nil {
		k.fatalf("User1's Secret: %v", err)
	}
	for key, data := range s.Data {
		p := filepath.Join(msp, render.SecretKeyPath(key))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			k.t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			k.t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(org, "connection-org1.json"), []byte(profile), 0o600); err != nil {
		k.t.Fatal(err)
	}
	return dir
}

// app runs the unmodified fabric-gateway sample (submit, evaluate,
// submit, evaluate) as User1 of Org1 through the NodePort in the profile.
func (k *cluster) app(dir, asset string) {
	k.t.Helper()
	out, err := k.try(90*time.Second, "", "node", filepath.Join(k.root, "conformance", "node", "sample-app.js"), dir, asset)
	if err != nil {
		k.fatalf("sample app (asset %s): %v\n%s", asset, err, out)
	}
	if !strings.Contains(out, `"oldOwner":"Tom"`) || !strings.Contains(out, `"Owner":"Saptha"`) {
		k.fatalf("sample app (asset %s) output: %s", asset, out)
	}
}
