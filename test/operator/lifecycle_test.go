package operator_test

import (
	"bytes"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "weft/k8s/api/v1alpha1"
	"weft/k8s/operator"
	"weft/k8s/render"
	"weft/spec"
)

// expected renders what the operator should have applied, from the
// material it stored.
func (e *env) expected(t *testing.T, net *v1alpha1.Network) []render.Object {
	t.Helper()
	dir := t.TempDir()
	found, err := operator.RestoreMaterial(e.ctx, e.c, net, dir)
	if err != nil || !found {
		t.Fatalf("material Secrets: %v (found: %v)", err, found)
	}
	m, err := render.LoadMaterial(net, dir)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := render.Objects(net, m)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// checkApplied verifies every rendered object is on the API server,
// labelled for `kubectl get -l weft.dev/network=<name>` and annotated
// with its owner.
func (e *env) checkApplied(t *testing.T, net *v1alpha1.Network, objs []render.Object) {
	t.Helper()
	for _, o := range objs {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(o.GetObjectKind().GroupVersionKind())
		if err := e.c.Get(e.ctx, client.ObjectKey{Namespace: o.GetNamespace(), Name: o.GetName()}, u); err != nil {
			t.Errorf("%s %s/%s: %v", u.GetKind(), o.GetNamespace(), o.GetName(), err)
			continue
		}
		if u.GetLabels()[render.LabelNetwork] != net.Name || u.GetAnnotations()[operator.AnnotationOwner] != "weft/"+net.Name {
			t.Errorf("%s %s/%s: labels %v annotations %v", u.GetKind(), o.GetNamespace(), o.GetName(), u.GetLabels(), u.GetAnnotations())
		}
	}
}

func countChaincodes(t *testing.T, e *env, ns string) int {
	t.Helper()
	var deps appsv1.DeploymentList
	if err := e.c.List(e.ctx, &deps, client.InNamespace(ns), client.MatchingLabels{render.LabelComponent: string(v1alpha1.KindChaincode)}); err != nil {
		t.Fatal(err)
	}
	return len(deps.Items)
}

func testLifecycle(t *testing.T, e *env) {
	net := newNetwork("net1", spec.Default())
	if err := e.c.Create(e.ctx, net); err != nil {
		t.Fatal(err)
	}
	key := client.ObjectKeyFromObject(net)
	got := e.reconciled(t, key, v1alpha1.PhaseProvisioning)
	if !slicesContains(got.Finalizers, operator.Finalizer) {
		t.Fatalf("finalizers %v", got.Finalizers)
	}
	e.checkApplied(t, got, e.expected(t, got))

	// What the default spec implies, independent of the renderer.
	ordNS, org1NS, org2NS := "net1-ordererorg", "net1-org1", "net1-org2"
	for _, ns := range []string{ordNS, org1NS, org2NS} {
		e.exists(t, &corev1.Namespace{}, "", ns)
		var pols networkingv1.NetworkPolicyList
		if err := e.c.List(e.ctx, &pols, client.InNamespace(ns)); err != nil || len(pols.Items) == 0 {
			t.Errorf("namespace %s: %d NetworkPolicies (%v)", ns, len(pols.Items), err)
		}
		var cms corev1.ConfigMapList
		if err := e.c.List(e.ctx, &cms, client.InNamespace(ns), client.MatchingLabels{render.LabelNetwork: "net1"}); err != nil {
			t.Fatal(err)
		}
		for _, cm := range cms.Items {
			for k, v := range cm.Data {
				if strings.Contains(v, "PRIVATE KEY") {
					t.Errorf("ConfigMap %s/%s key %s holds a private key", ns, cm.Name, k)
				}
			}
		}
	}
	sets := map[string][]string{ordNS: {"orderer0", "orderer1", "orderer2"}, org1NS: {"ca", "peer0"}, org2NS: {"ca", "peer0"}}
	for ns, names := range sets {
		for _, name := range names {
			var s appsv1.StatefulSet
			e.exists(t, &s, ns, name)
			if len(s.Spec.VolumeClaimTemplates) != 1 {
				t.Errorf("StatefulSet %s/%s: %d volume claim templates", ns, name, len(s.Spec.VolumeClaimTemplates))
			}
			e.exists(t, &corev1.Service{}, ns, name)
		}
	}
	var peerCrypto corev1.Secret
	e.exists(t, &peerCrypto, org1NS, "peer0-crypto")
	hasKey := false
	for k := range peerCrypto.Data {
		hasKey = hasKey || strings.HasSuffix(k, "priv_sk") || strings.HasSuffix(k, "server.key")
	}
	if !hasKey {
		t.Errorf("peer0-crypto has no private key: %v", keys(peerCrypto.Data))
	}
	var prof corev1.Secret
	e.exists(t, &prof, org1NS, render.ProfileSecretName)
	if len(prof.Data[render.ProfileKey("Org1")]) == 0 {
		t.Errorf("connection profile Secret keys %v", keys(prof.Data))
	}
	if n := countChaincodes(t, e, org1NS); n != 1 {
		t.Errorf("%d chaincode Deployments in %s, want 1", n, org1NS)
	}

	// No kubelet runs pods: population waits, and the status says so.
	st := got.Status
	if len(st.Endpoints) != 7 {
		t.Errorf("%d endpoints, want 2 CAs + 3 orderers + 2 peers", len(st.Endpoints))
	}
	checks := []struct {
		what string
		c    *metav1.Condition
	}{
		{"org Org1 Ready", condOf(st.Orgs, "Org1", v1alpha1.ConditionReady)},
		{"org OrdererOrg Ready", condOf(st.Orgs, "OrdererOrg", v1alpha1.ConditionReady)},
		{"channel mychannel Joined", condOf(st.Channels, "mychannel", v1alpha1.ConditionJoined)},
		{"chaincode mychannel/basic Committed", condOf(st.Chaincodes, "mychannel/basic", v1alpha1.ConditionCommitted)},
		{"network Ready", meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReady)},
	}
	for _, c := range checks {
		if c.c == nil || c.c.Status != metav1.ConditionFalse || c.c.Reason != operator.ReasonWaitingForPods || c.c.ObservedGeneration != got.Generation {
			t.Errorf("%s: %+v, want False/%s", c.what, c.c, operator.ReasonWaitingForPods)
		}
	}
	if !meta.IsStatusConditionTrue(st.Conditions, v1alpha1.ConditionProgressing) {
		t.Errorf("not Progressing: %+v", st.Conditions)
	}

	// Scale Org1 to two peers and add a chaincode.
	var material corev1.Secret
	e.exists(t, &material, "weft", operator.MaterialSecretName("net1", 0))
	got.Spec.Orgs[0].Peers = 2
	got.Spec.Chaincodes = append(got.Spec.Chaincodes, v1alpha1.ChaincodeSpec{Name: "extra", Channel: "mychannel", Path: "./chaincode/extra"})
	if err := e.c.Update(e.ctx, got); err != nil {
		t.Fatal(err)
	}
	got = e.reconciled(t, key, v1alpha1.PhaseProvisioning)
	e.checkApplied(t, got, e.expected(t, got))
	var peer1 appsv1.StatefulSet
	e.exists(t, &peer1, org1NS, "peer1")
	for _, ns := range []string{org1NS, org2NS} {
		if n := countChaincodes(t, e, ns); n != 2 {
			t.Errorf("%d chaincode Deployments in %s, want 2", n, ns)
		}
	}
	if condOf(got.Status.Chaincodes, "mychannel/extra", v1alpha1.ConditionCommitted) == nil {
		t.Errorf("no status for the new chaincode: %+v", got.Status.Chaincodes)
	}
	// Keys are stable: the existing peer kept its identity; the stored
	// material grew by the new peer.
	var again corev1.Secret
	e.exists(t, &again, org1NS, "peer0-crypto")
	for k, v := range peerCrypto.Data {
		if !bytes.Equal(again.Data[k], v) {
			t.Errorf("peer0-crypto %s changed across reconciles", k)
		}
	}
	var material2 corev1.Secret
	e.exists(t, &material2, "weft", operator.MaterialSecretName("net1", 0))
	if material2.Annotations[operator.AnnotationMaterialHash] == material.Annotations[operator.AnnotationMaterialHash] {
		t.Error("the material was not extended for peer1")
	}

	// Scale back and drop the chaincode: peer1 and the chaincode's
	// objects go, the claim peer1's StatefulSet would have made stays.
	e.claim(t, org1NS, "peer1", "net1")
	got.Spec.Orgs[0].Peers = 1
	got.Spec.Chaincodes = got.Spec.Chaincodes[:1]
	if err := e.c.Update(e.ctx, got); err != nil {
		t.Fatal(err)
	}
	got = e.reconciled(t, key, v1alpha1.PhaseProvisioning)
	e.gone(t, &appsv1.StatefulSet{}, org1NS, "peer1")
	e.gone(t, &corev1.Secret{}, org1NS, "peer1-crypto")
	e.gone(t, &corev1.Service{}, org1NS, "peer1")
	if n := countChaincodes(t, e, org2NS); n != 1 {
		t.Errorf("%d chaincode Deployments in %s after removing one, want 1", n, org2NS)
	}
	e.exists(t, &corev1.PersistentVolumeClaim{}, org1NS, "data-peer1-0")

	// Delete: everything goes but the claim, its namespace and the
	// material.
	if err := e.c.Delete(e.ctx, got); err != nil {
		t.Fatal(err)
	}
	e.gone(t, &v1alpha1.Network{}, "weft", "net1")
	left := func(kind string, list client.ObjectList, items func() []client.Object) {
		if err := e.c.List(e.ctx, list, client.MatchingLabels{render.LabelNetwork: "net1"}); err != nil {
			t.Fatal(err)
		}
		for _, o := range items() {
			if o.GetLabels()[operator.LabelMaterial] == "" {
				t.Errorf("%s %s/%s left after delete", kind, o.GetNamespace(), o.GetName())
			}
		}
	}
	var (
		stss appsv1.StatefulSetList
		deps appsv1.DeploymentList
		svcs corev1.ServiceList
		secs corev1.SecretList
		cms  corev1.ConfigMapList
		pols networkingv1.NetworkPolicyList
	)
	left("StatefulSet", &stss, func() []client.Object { return ptrs(stss.Items) })
	left("Deployment", &deps, func() []client.Object { return ptrs(deps.Items) })
	left("Service", &svcs, func() []client.Object { return ptrs(svcs.Items) })
	left("Secret", &secs, func() []client.Object { return ptrs(secs.Items) })
	left("ConfigMap", &cms, func() []client.Object { return ptrs(cms.Items) })
	left("NetworkPolicy", &pols, func() []client.Object { return ptrs(pols.Items) })
	for _, ns := range []string{ordNS, org1NS, org2NS} {
		var n corev1.Namespace
		e.exists(t, &n, "", ns)
		if n.DeletionTimestamp != nil && ns == org1NS {
			t.Errorf("namespace %s holding a claim is being deleted", ns)
		}
	}
	e.exists(t, &corev1.PersistentVolumeClaim{}, org1NS, "data-peer1-0")
	e.exists(t, &corev1.Secret{}, "weft", operator.MaterialSecretName("net1", 0))
}

func testDeleteVolumes(t *testing.T, e *env) {
	s := spec.Default()
	s.Orderer.Nodes = 1
	s.Orgs = s.Orgs[:1]
	s.Channels[0].Orgs = []string{"Org1"}
	s.Chaincodes = nil
	net := newNetwork("net2", s)
	net.Annotations = map[string]string{operator.AnnotationDeleteVolumes: "true"}
	if err := e.c.Create(e.ctx, net); err != nil {
		t.Fatal(err)
	}
	got := e.reconciled(t, client.ObjectKeyFromObject(net), v1alpha1.PhaseProvisioning)
	e.claim(t, "net2-org1", "peer0", "net2")
	if err := e.c.Delete(e.ctx, got); err != nil {
		t.Fatal(err)
	}
	e.gone(t, &v1alpha1.Network{}, "weft", "net2")
	e.gone(t, &corev1.Secret{}, "weft", operator.MaterialSecretName("net2", 0))
	// Without the namespace controller and the PVC protection controller
	// nothing finishes terminating here; being deleted is what counts.
	for _, ns := range []string{"net2-ordererorg", "net2-org1"} {
		var n corev1.Namespace
		if err := e.c.Get(e.ctx, client.ObjectKey{Name: ns}, &n); err == nil && n.DeletionTimestamp == nil {
			t.Errorf("namespace %s is not being deleted", ns)
		}
	}
	var pvc corev1.PersistentVolumeClaim
	if err := e.c.Get(e.ctx, client.ObjectKey{Namespace: "net2-org1", Name: "data-peer0-0"}, &pvc); err == nil && pvc.DeletionTimestamp == nil {
		t.Error("claim data-peer0-0 is not being deleted")
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func slicesContains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// ptrs turns a list's items into client.Objects.
func ptrs[T any, P interface {
	*T
	client.Object
}](items []T) []client.Object {
	out := make([]client.Object, len(items))
	for i := range items {
		out[i] = P(&items[i])
	}
	return out
}
