package k8se2e_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "weft/k8s/api/v1alpha1"
	"weft/k8s/render"
)

const weftImage2 = "weft.local/weft:e2e2"

// rollImage re-tags the weft image, imports it and sets it on the Network:
// every node pod must come back on the new image and Ready, and the app
// goes on working.
func (k *cluster) rollImage(tmp, app string) {
	k.t.Helper()
	tar := filepath.Join(tmp, "weft2.tar")
	k.run(5*time.Minute, k.root, k.weft, "image", "build", "--tag", weftImage2, "--tarball", tar)
	k.env.ImportImage(k.t, tar)
	began := time.Now()
	n := k.network()
	n.Spec.Kubernetes.Image = weftImage2
	if err := k.c.Update(k.ctx, n); err != nil {
		k.fatalf("set image: %v", err)
	}
	k.eventually(5*time.Minute, 2*time.Second, "every node pod on "+weftImage2+" and Ready", func() error {
		pods, err := k.nodePods()
		if err != nil {
			return err
		}
		for _, p := range pods {
			if img := p.Spec.Containers[0].Image; img != weftImage2 || !podReady(&p) || p.DeletionTimestamp != nil {
				return fmt.Errorf("pod %s/%s: image %s, ready %v", p.Namespace, p.Name, img, podReady(&p))
			}
		}
		return nil
	})
	k.waitReady(3 * time.Minute)
	k.waitPort(k.external("peer0.org1.example.com"), time.Minute)
	k.app(app, "asset-rolled")
	k.logf("image_roll_seconds: %.1f (spec change to a committed transaction, every pod on the new image)", time.Since(began).Seconds())
	fmt.Printf("image_roll_seconds: %.1f\n", time.Since(began).Seconds())
}

// nodePods lists the Network's orderer, peer and CA pods (chaincode pods
// run the chaincode image); it fails when there are none.
func (k *cluster) nodePods() ([]corev1.Pod, error) {
	var out []corev1.Pod
	n := k.network()
	nss := []string{render.OrgNamespace(netName, n.Spec.Orderer.Org)}
	for _, o := range n.Spec.Orgs {
		nss = append(nss, render.OrgNamespace(netName, o.Name))
	}
	for _, ns := range nss {
		var pods corev1.PodList
		if err := k.c.List(k.ctx, &pods, client.InNamespace(ns), client.MatchingLabels{render.LabelNetwork: netName}); err != nil {
			return nil, err
		}
		for _, p := range pods.Items {
			if p.Labels[render.LabelComponent] != "chaincode" {
				out = append(out, p)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no node pods in %v", nss)
	}
	return out, nil
}

// addOrg3 adds Org3 to the spec and to mychannel: the operator adds its MSP
// to the channel config, joins its peer and approves the committed
// chaincode for it; the app run as Org3's User1 through Org3's peer then
// submits under the default MAJORITY endorsement policy, which now needs
// two of the three orgs.
func (k *cluster) addOrg3(tmp string) {
	k.t.Helper()
	began := time.Now()
	n := k.network()
	n.Spec.Orgs = append(n.Spec.Orgs, v1alpha1.OrgSpec{Name: "Org3", Domain: "org3.example.com", Peers: 1, Users: 1})
	n.Spec.Channels[0].Orgs = append(n.Spec.Channels[0].Orgs, "Org3")
	if err := k.c.Update(k.ctx, n); err != nil {
		k.fatalf("add Org3: %v", err)
	}
	n = k.waitReady(6 * time.Minute)
	var inChannels bool
	for _, s := range n.Status.Orgs {
		for _, c := range s.Conditions {
			if s.Name == "Org3" && c.Type == "InChannels" && c.Status == "True" && strings.Contains(c.Message, "mychannel") {
				inChannels = true
			}
		}
	}
	if !inChannels {
		k.fatalf("Org3 has no true InChannels condition naming mychannel: %s", summary(n))
	}
	org3NS := render.OrgNamespace(netName, "Org3")
	k.eventually(time.Minute, time.Second, "Org3's peer caught up with Org1's", func() error {
		h1, err := k.height(org1NS, "peer0-0")
		if err != nil {
			return err
		}
		h3, err := k.height(org3NS, "peer0-0")
		if err != nil {
			return err
		}
		if h3 < h1 {
			return fmt.Errorf("peer0.org3 at %d, peer0.org1 at %d", h3, h1)
		}
		return nil
	})
	k.waitPort(k.external("peer0.org3.example.com"), time.Minute)
	added := time.Since(began)
	app := k.orgUserDir(filepath.Join(tmp, "app-org3"), "Org3", org3NS)
	k.app(app, "asset-org3")
	k.logf("add_org_seconds: %.1f (spec change to Org3's peer joined and caught up; app as Org3 after %.1f)", added.Seconds(), time.Since(began).Seconds())
	fmt.Printf("add_org_seconds: %.1f\n", added.Seconds())
}

// orgUserDir lays out org's User1 and connection profile where the
// unmodified sample app reads Org1's: the profile's entry for org is
// renamed Org1, so the app takes its MSP ID, peer and TLS CA from it.
func (k *cluster) orgUserDir(dir, org, ns string) string {
	k.t.Helper()
	raw := k.run(time.Minute, "", k.weft, "k8s", "connection-profile", "--network", netName, "--org", org,
		"--kubeconfig", k.env.Kubeconfig())
	var profile map[string]any
	if err := json.Unmarshal([]byte(raw), &profile); err != nil {
		k.fatalf("%s connection profile: %v", org, err)
	}
	orgs, _ := profile["organizations"].(map[string]any)
	entry, _ := orgs[org].(map[string]any)
	if entry == nil || entry["mspid"] != org+"MSP" {
		k.fatalf("%s connection profile has no entry for %s: %s", org, org, raw)
	}
	peers, _ := entry["peers"].([]any)
	if !slices.ContainsFunc(peers, func(p any) bool { return strings.Contains(fmt.Sprint(p), strings.ToLower(org)) }) {
		k.fatalf("%s connection profile lists no %s peer: %v", org, org, peers)
	}
	profile["organizations"] = map[string]any{"Org1": entry}
	out, err := json.Marshal(profile)
	if err != nil {
		k.t.Fatal(err)
	}
	base := filepath.Join(dir, "organizations", "peerOrganizations", "org1.example.com")
	var s corev1.Secret
	if err := k.c.Get(k.ctx, client.ObjectKey{Namespace: ns, Name: "user1-crypto"}, &s); err != nil {
		k.fatalf("%s User1's Secret: %v", org, err)
	}
	for key, data := range s.Data {
		p := filepath.Join(base, "users", "User1@org1.example.com", render.SecretKeyPath(key))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			k.t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			k.t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(base, "connection-org1.json"), out, 0o600); err != nil {
		k.t.Fatal(err)
	}
	return dir
}
