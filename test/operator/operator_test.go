package operator_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/yaml"

	v1alpha1 "weft/k8s/api/v1alpha1"
	"weft/k8s/operator"
	"weft/k8s/render"
	"weft/spec"
	"weft/test/kube"
)

// env is an API server with the CRD installed and the operator running
// in-process against it.
type env struct {
	c   client.Client
	ctx context.Context
}

func startEnv(t *testing.T) *env {
	t.Helper()
	cfg := kube.ControlPlane(t)
	log.SetLogger(testr.NewWithOptions(t, testr.Options{Verbosity: 0}))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	scheme, err := operator.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	installCRD(t, ctx, c)
	mgr, err := operator.NewManager(rest.CopyConfig(cfg), operator.Options{MetricsAddr: "0", ProbeAddr: "0", WaitInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})
	return &env{c: c, ctx: ctx}
}

func installCRD(t *testing.T, ctx context.Context, c client.Client) {
	t.Helper()
	raw, err := os.ReadFile("../../k8s/crd/weft.dev_networks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(raw, &u.Object); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, u); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the Network CRD is served", func() error {
		return c.List(ctx, &v1alpha1.NetworkList{})
	})
}

// eventually polls f until it returns nil.
func eventually(t *testing.T, limit time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s: %v", what, limit, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (e *env) namespace(t *testing.T, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := e.c.Create(e.ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// reconciled waits until the operator observed the Network's current
// generation and returns it.
func (e *env) reconciled(t *testing.T, key client.ObjectKey, phase v1alpha1.NetworkPhase) *v1alpha1.Network {
	t.Helper()
	var net v1alpha1.Network
	eventually(t, 2*time.Minute, "Network "+key.String()+" reconciled", func() error {
		if err := e.c.Get(e.ctx, key, &net); err != nil {
			return err
		}
		if net.Status.ObservedGeneration != net.Generation || net.Status.Phase != phase {
			return fmt.Errorf("generation %d observed %d phase %q conditions %+v", net.Generation,
				net.Status.ObservedGeneration, net.Status.Phase, net.Status.Conditions)
		}
		return nil
	})
	return &net
}

func (e *env) exists(t *testing.T, obj client.Object, ns, name string) {
	t.Helper()
	if err := e.c.Get(e.ctx, client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
		t.Fatalf("%T %s/%s: %v", obj, ns, name, err)
	}
}

func (e *env) gone(t *testing.T, obj client.Object, ns, name string) {
	t.Helper()
	eventually(t, 30*time.Second, fmt.Sprintf("%T %s/%s removed", obj, ns, name), func() error {
		err := e.c.Get(e.ctx, client.ObjectKey{Namespace: ns, Name: name}, obj)
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err == nil {
			return fmt.Errorf("still there")
		}
		return err
	})
}

func condOf(list []v1alpha1.ComponentStatus, name, typ string) *metav1.Condition {
	for _, c := range list {
		if c.Name == name {
			return meta.FindStatusCondition(c.Conditions, typ)
		}
	}
	return nil
}

func newNetwork(name string, s *spec.Network) *v1alpha1.Network {
	s.Name = ""
	return &v1alpha1.Network{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "Network"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "weft"},
		Spec:       v1alpha1.NetworkSpec{FabricNetwork: v1alpha1.FromSpec(s)},
	}
}

// claim stands in for the claim the StatefulSet controller (not running
// here) would make from a node's volume claim template.
func (e *env) claim(t *testing.T, ns, node, network string) {
	t.Helper()
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data-" + node + "-0", Namespace: ns,
			Labels: map[string]string{render.LabelNetwork: network, render.LabelNode: node}},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	}
	if err := e.c.Create(e.ctx, pvc); err != nil {
		t.Fatal(err)
	}
}

func TestOperator(t *testing.T) {
	e := startEnv(t)
	e.namespace(t, "weft")
	t.Run("invalid networks", func(t *testing.T) { testInvalid(t, e) })
	t.Run("lifecycle", func(t *testing.T) { testLifecycle(t, e) })
	t.Run("delete volumes", func(t *testing.T) { testDeleteVolumes(t, e) })
}

func testInvalid(t *testing.T, e *env) {
	// Rejected by the CRD schema: the API server names the field.
	schema := []struct {
		name   string
		mutate func(*v1alpha1.Network)
		field  string
	}{
		{"no orderers", func(n *v1alpha1.Network) { n.Spec.Orderer.Nodes = 0 }, "spec.orderer.nodes"},
		{"bad org name", func(n *v1alpha1.Network) { n.Spec.Orgs[0].Name = "Org 1" }, "spec.orgs[0].name"},
		{"nodeport without address", func(n *v1alpha1.Network) { n.Spec.Exposure.Type = v1alpha1.ExposeNodePort }, "spec.exposure"},
		{"unknown exposure", func(n *v1alpha1.Network) { n.Spec.Exposure.Type = "Tunnel" }, "spec.exposure.type"},
	}
	for _, c := range schema {
		t.Run(c.name, func(t *testing.T) {
			n := newNetwork("bad", spec.Default())
			c.mutate(n)
			err := e.c.Create(e.ctx, n)
			if err == nil {
				e.c.Delete(e.ctx, n)
				t.Fatal("the API server accepted it")
			}
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), c.field) {
				t.Fatalf("error %v does not name %s", err, c.field)
			}
		})
	}
	// Past the schema, the operator's own validation fails the Network and
	// names the field in its status; nothing is created.
	s := spec.Default()
	s.Channels[0].Orgs = []string{"Org1", "Org9"}
	n := newNetwork("semantic", s)
	if err := e.c.Create(e.ctx, n); err != nil {
		t.Fatal(err)
	}
	got := e.reconciled(t, client.ObjectKeyFromObject(n), v1alpha1.PhaseFailed)
	ready := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionReady)
	if ready == nil || ready.Reason != operator.ReasonRenderFailed || !strings.Contains(ready.Message, "spec.channels[0].orgs") {
		t.Fatalf("Ready condition %+v does not name spec.channels[0].orgs", ready)
	}
	var nss corev1.NamespaceList
	if err := e.c.List(e.ctx, &nss, client.MatchingLabels{render.LabelNetwork: "semantic"}); err != nil || len(nss.Items) != 0 {
		t.Fatalf("namespaces for an invalid network: %d, %v", len(nss.Items), err)
	}
	if err := e.c.Delete(e.ctx, n); err != nil {
		t.Fatal(err)
	}
	e.gone(t, &v1alpha1.Network{}, "weft", "semantic")
}
