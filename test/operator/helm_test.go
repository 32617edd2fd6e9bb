package operator_test

import (
	"context"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"weft/k8s/render"
	"weft/test/kube"
)

// The chart installs against a real API server: the CRD, RBAC generated
// from the operator's markers, and a Deployment the "restricted" pod
// security standard admits without warnings.
func TestHelmChartInstalls(t *testing.T) {
	env := kube.StartControlPlane(t)
	helm := kube.Bin("helm")
	if _, err := os.Stat(helm); err != nil {
		t.Fatalf("helm: %v (build it with %s build)", err, kube.Script())
	}
	ctx := context.Background()
	c, err := client.New(env.Config, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Warn on (rather than reject) a Deployment whose pods would break the
	// restricted standard, so helm prints what is wrong.
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: render.DefaultOperatorNamespace, Labels: map[string]string{
		"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/warn": "restricted",
	}}}
	if err := c.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, helm, "install", "weft-operator", "../../deploy/helm/weft-operator",
		"--namespace", render.DefaultOperatorNamespace, "--kubeconfig", env.Kubeconfig(), "--set", "image.tag=test")
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helm install: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "PodSecurity") {
		t.Errorf("pod security warnings:\n%s", out)
	}

	var crd unstructured.Unstructured
	crd.SetAPIVersion("apiextensions.k8s.io/v1")
	crd.SetKind("CustomResourceDefinition")
	if err := c.Get(ctx, client.ObjectKey{Name: "networks.weft.dev"}, &crd); err != nil {
		t.Fatalf("CRD: %v", err)
	}
	var dep appsv1.Deployment
	if err := c.Get(ctx, client.ObjectKey{Namespace: render.DefaultOperatorNamespace, Name: "weft-operator"}, &dep); err != nil {
		t.Fatal(err)
	}
	pod := dep.Spec.Template
	// The networks' NetworkPolicies admit the operator by this label.
	for k, v := range render.OperatorLabel {
		if pod.Labels[k] != v {
			t.Errorf("pod label %s=%q, want %q", k, pod.Labels[k], v)
		}
	}
	if pod.Annotations["prometheus.io/scrape"] != "true" || pod.Annotations["prometheus.io/port"] != "8080" {
		t.Errorf("scrape annotations %v", pod.Annotations)
	}
	ctr := pod.Spec.Containers[0]
	if ctr.Image != "weft.local/weft:test" || ctr.Args[0] != "operator" {
		t.Errorf("container image %s args %v", ctr.Image, ctr.Args)
	}
	if ctr.LivenessProbe == nil || ctr.LivenessProbe.HTTPGet.Path != "/healthz" || ctr.ReadinessProbe == nil || ctr.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("probes %+v %+v", ctr.LivenessProbe, ctr.ReadinessProbe)
	}

	// The ClusterRole is the generated one.
	raw, err := os.ReadFile("../../k8s/config/rbac/role.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var want rbacv1.ClusterRole
	for _, doc := range strings.Split(string(raw), "\n---") {
		var r rbacv1.ClusterRole
		if err := yaml.Unmarshal([]byte(doc), &r); err == nil && r.Kind == "ClusterRole" {
			want = r
		}
	}
	var got rbacv1.ClusterRole
	if err := c.Get(ctx, client.ObjectKey{Name: "weft-operator"}, &got); err != nil {
		t.Fatal(err)
	}
	if len(want.Rules) == 0 || !reflect.DeepEqual(got.Rules, want.Rules) {
		t.Errorf("ClusterRole rules differ from k8s/config/rbac/role.yaml:\n got %+v\nwant %+v", got.Rules, want.Rules)
	}
	var lease rbacv1.Role
	if err := c.Get(ctx, client.ObjectKey{Namespace: render.DefaultOperatorNamespace, Name: "weft-operator"}, &lease); err != nil {
		t.Errorf("leader election Role: %v", err)
	}
}
