// Package k8se2e_test runs a weft network on a real single-node Kubernetes
// cluster (test/cluster) through the operator its Helm chart installs, and
// drives it with the unmodified @hyperledger/fabric-gateway sample app from
// the host through NodePorts: bring-up, pod loss, scaling, chaincode
// upgrade, a new weft image, a new org and deletion.
package k8se2e_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1alpha1 "weft/k8s/api/v1alpha1"
	"weft/k8s/render"
	"weft/test/harness"
	"weft/test/kube"
)

const (
	netName   = "e2e"
	netNS     = "weft"
	nodeIP    = "10.201.0.1" // test/cluster's node IP, where NodePorts answer
	weftImage = "weft.local/weft:e2e"
	ccImage   = "weft.local/basic:e2e"
)

var (
	org1NS = render.OrgNamespace(netName, "Org1")
	org2NS = render.OrgNamespace(netName, "Org2")
)

// network is the Network the test applies: Fabric's test network shape (2
// orgs with a CA each, 3 Raft orderers, mychannel, basic as a chaincode
// service) exposed
// through NodePorts on the node IP.
func network() *v1alpha1.Network {
	size := resource.MustParse("1Gi")
	vol := v1alpha1.Volume{Size: &size}
	return &v1alpha1.Network{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "Network"},
		ObjectMeta: metav1.ObjectMeta{Name: netName, Namespace: netNS},
		Spec: v1alpha1.NetworkSpec{
			FabricNetwork: v1alpha1.FabricNetwork{
				Orderer: v1alpha1.OrdererSpec{Org: "OrdererOrg", MSPID: "OrdererMSP", Domain: "example.com", Nodes: 3, BatchTimeout: "500ms"},
				Orgs: []v1alpha1.OrgSpec{
					{Name: "Org1", Domain: "org1.example.com", Peers: 1, Users: 1},
					{Name: "Org2", Domain: "org2.example.com", Peers: 1, Users: 1},
				},
				Channels: []v1alpha1.ChannelSpec{{Name: "mychannel", Orgs: []string{"Org1", "Org2"}}},
				// On a cluster every chaincode runs as a service; path says
				// where its image came from.
				Chaincodes: []v1alpha1.ChaincodeSpec{{Name: "basic", Channel: "mychannel", Path: "./chaincode/basic", Version: "1.0", Sequence: 1}},
			},
			Kubernetes: v1alpha1.Kubernetes{
				Image:           weftImage,
				ImagePullPolicy: corev1.PullNever,
				ChaincodeImages: []v1alpha1.ChaincodeImage{{Name: "basic", Image: ccImage}},
				Storage:         v1alpha1.Storage{Peer: vol, Orderer: vol},
				Exposure:        v1alpha1.Exposure{Type: v1alpha1.ExposeNodePort, ExternalAddress: nodeIP},
			},
		},
	}
}

func TestNetworkOnCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a network on a full Kubernetes cluster (about 2 minutes)")
	}
	env := kube.StartCluster(t) // skips or fails naming the fix when Kubernetes is missing
	gw := filepath.Join(repoRoot(), "conformance", "node", "node_modules", "@hyperledger", "fabric-gateway")
	if _, err := os.Stat(gw); err != nil {
		t.Fatalf("the sample app needs @hyperledger/fabric-gateway (%v); install it with: cd conformance/node && npm ci", err)
	}
	k := newCluster(t, env, harness.Binary(t))
	tmp := t.TempDir()

	// 1. Images as `weft image build` makes them, imported with no registry.
	weftTar, ccTar := filepath.Join(tmp, "weft.tar"), filepath.Join(tmp, "basic.tar")
	k.run(5*time.Minute, k.root, k.weft, "image", "build", "--tag", weftImage, "--tarball", weftTar)
	k.run(5*time.Minute, k.root, k.weft, "image", "build", "--chaincode", "chaincode/basic", "--tag", ccImage, "--tarball", ccTar)
	env.ImportImage(t, weftTar)
	env.ImportImage(t, ccTar)
	k.logf("images built and imported")

	// 2. The operator from the Helm chart, running the imported image.
	helmHome := t.TempDir()
	k.run(3*time.Minute, k.root, kube.Bin("helm"), "install", "weft-operator", "deploy/helm/weft-operator",
		"--namespace", render.DefaultOperatorNamespace, "--create-namespace", "--kubeconfig", env.Kubeconfig(),
		"--set", "image.repository="+strings.Split(weftImage, ":")[0], "--set", "image.tag=e2e", "--set", "image.pullPolicy=Never",
		"--set", "leaderElection=false", "--wait", "--timeout", "2m",
		"--repository-cache", helmHome, "--repository-config", filepath.Join(helmHome, "repositories.yaml"))
	k.logf("operator installed")

	// 3. Apply the Network and wait for Ready.
	k.kubectl("create", "namespace", netNS)
	raw, err := yaml.Marshal(network())
	if err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(tmp, "network.yaml")
	if err := os.WriteFile(manifest, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	applied := time.Now()
	k.kubectl("apply", "-f", manifest)
	k.waitReady(5 * time.Minute)
	ready := time.Since(applied)

	// 4. The unmodified sample app from the host, through the NodePort in
	// the profile the operator published.
	app := k.userDir(filepath.Join(tmp, "app"), "")
	k.waitPort(k.external("peer0.org1.example.com"), time.Minute)
	k.app(app, "asset-first")
	firstTx := time.Since(applied)
	k.logf("apply to Ready: %.1fs", ready.Seconds())
	k.logf("apply_to_first_tx_seconds: %.1f", firstTx.Seconds())
	fmt.Printf("apply_to_first_tx_seconds: %.1f\n", firstTx.Seconds())

	k.peerRestart(app)
	k.scaleOrg1(tmp)
	k.upgradeChaincode(app)
	k.rollImage(tmp, app)
	k.addOrg3(tmp)
	k.deleteNetwork()
}

// peerRestart deletes Org1's peer pod: it comes back on the same claim with
// its ledger (no re-join), and the app goes on working.
func (k *cluster) peerRestart(app string) {
	k.t.Helper()
	old := k.pod(org1NS, "peer0-0")
	if old == nil {
		k.fatalf("no pod %s/peer0-0", org1NS)
	}
	before, err := k.height(org1NS, "peer0-0")
	if err != nil {
		k.fatalf("height before restart: %v", err)
	}
	began := time.Now()
	k.kubectl("delete", "pod", "-n", org1NS, "peer0-0", "--wait=true")
	var after uint64
	k.eventually(2*time.Minute, 500*time.Millisecond, "peer0 back with its ledger", func() error {
		p := k.pod(org1NS, "peer0-0")
		if p == nil || p.UID == old.UID || !podReady(p) {
			return fmt.Errorf("new pod not ready")
		}
		h, err := k.height(org1NS, "peer0-0")
		if errors.Is(err, errNoChannel) {
			// A ready peer that lost its ledger would have to be joined
			// again: fail rather than wait for the operator to do it.
			k.fatalf("peer0 came back ready without mychannel: the ledger was not kept")
		}
		if err != nil {
			return err
		}
		after = h
		return nil
	})
	k.waitPort(k.external("peer0.org1.example.com"), time.Minute)
	recovered := time.Since(began)
	// Read before anything could have re-joined and caught up: a fresh
	// ledger would start at height 1.
	if after < before {
		k.fatalf("peer0 came back at height %d, had %d: the ledger was not kept", after, before)
	}
	k.logf("pod_restart_recovery_seconds: %.1f (height %d -> %d)", recovered.Seconds(), before, after)
	fmt.Printf("pod_restart_recovery_seconds: %.1f\n", recovered.Seconds())
	k.app(app, "asset-restart")
}

// scaleOrg1 adds a second peer to Org1: it joins mychannel, catches up, runs
// the chaincode (the app evaluates through it) and appears in the profile.
func (k *cluster) scaleOrg1(tmp string) {
	k.t.Helper()
	began := time.Now()
	n := k.network()
	n.Spec.Orgs[0].Peers = 2
	if err := k.c.Update(k.ctx, n); err != nil {
		k.fatalf("scale Org1: %v", err)
	}
	k.waitReady(3 * time.Minute)
	k.eventually(time.Minute, time.Second, "peer1 caught up with peer0", func() error {
		h0, err := k.height(org1NS, "peer0-0")
		if err != nil {
			return err
		}
		h1, err := k.height(org1NS, "peer1-0")
		if err != nil {
			return err
		}
		if h1 < h0 {
			return fmt.Errorf("peer1 at %d, peer0 at %d", h1, h0)
		}
		return nil
	})
	k.waitPort(k.external("peer1.org1.example.com"), time.Minute)
	scaled := time.Since(began)
	k.logf("scale_to_2_peers_seconds: %.1f", scaled.Seconds())
	fmt.Printf("scale_to_2_peers_seconds: %.1f\n", scaled.Seconds())
	app := k.userDir(filepath.Join(tmp, "app-peer1"), "peer1.org1.example.com")
	k.app(app, "asset-peer1")
}

// upgradeChaincode moves basic to version 1.1, sequence 2: the operator
// approves and commits it and rolls the chaincode servers.
func (k *cluster) upgradeChaincode(app string) {
	k.t.Helper()
	began := time.Now()
	n := k.network()
	n.Spec.Chaincodes[0].Version = "1.1"
	n.Spec.Chaincodes[0].Sequence = 2
	if err := k.c.Update(k.ctx, n); err != nil {
		k.fatalf("upgrade chaincode: %v", err)
	}
	n = k.waitReady(3 * time.Minute)
	k.waitPort(k.external("peer0.org1.example.com"), time.Minute)
	var msg string
	for _, s := range n.Status.Chaincodes {
		for _, c := range s.Conditions {
			if s.Name == "mychannel/basic" && c.Type == v1alpha1.ConditionCommitted {
				msg = c.Message
			}
		}
	}
	if !strings.Contains(msg, "sequence 2") {
		k.fatalf("chaincode condition after the upgrade: %q, want sequence 2", msg)
	}
	var deps appsv1.DeploymentList
	if err := k.c.List(k.ctx, &deps, client.InNamespace(org1NS), client.MatchingLabels{render.LabelComponent: "chaincode"}); err != nil {
		k.fatalf("list chaincode Deployments: %v", err)
	}
	if len(deps.Items) != 1 || !strings.Contains(fmt.Sprint(deps.Items[0].Spec.Template.Spec.Containers[0].Env), "basic_1.1") {
		k.fatalf("chaincode Deployments after the upgrade: %d, env %v", len(deps.Items), envOf(deps.Items))
	}
	k.app(app, "asset-upgraded")
	k.logf("chaincode_upgrade_seconds: %.1f (spec change to a committed transaction on sequence 2)", time.Since(began).Seconds())
	fmt.Printf("chaincode_upgrade_seconds: %.1f\n", time.Since(began).Seconds())
}

func envOf(deps []appsv1.Deployment) []string {
	var out []string
	for _, d := range deps {
		for _, c := range d.Spec.Template.Spec.Containers {
			out = append(out, fmt.Sprint(c.Env))
		}
	}
	return out
}

// deleteNetwork deletes the Network: the finalizer removes the workloads
// and Services, and the peers' claims stay.
func (k *cluster) deleteNetwork() {
	k.t.Helper()
	k.kubectl("delete", "networks.weft.dev", "-n", netNS, netName, "--timeout=2m")
	for _, ns := range []string{org1NS, org2NS} {
		var sets appsv1.StatefulSetList
		var svcs corev1.ServiceList
		k.eventually(time.Minute, time.Second, "workloads in "+ns+" removed", func() error {
			if err := k.c.List(k.ctx, &sets, client.InNamespace(ns)); err != nil {
				return err
			}
			if err := k.c.List(k.ctx, &svcs, client.InNamespace(ns)); err != nil {
				return err
			}
			if len(sets.Items)+len(svcs.Items) > 0 {
				return fmt.Errorf("%d StatefulSets and %d Services left", len(sets.Items), len(svcs.Items))
			}
			return nil
		})
		var pvc corev1.PersistentVolumeClaim
		if err := k.c.Get(k.ctx, client.ObjectKey{Namespace: ns, Name: "data-peer0-0"}, &pvc); err != nil {
			k.fatalf("claim %s/data-peer0-0 after deleting the Network: %v", ns, err)
		}
	}
	k.logf("Network deleted, claims kept")
}
