package operator

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "weft/k8s/api/v1alpha1"
)

func TestParseOwner(t *testing.T) {
	cases := []struct {
		in       string
		ns, name string
		ok       bool
	}{
		{"weft/net", "weft", "net", true},
		{"", "", "", false},
		{"noslash", "", "", false},
		{"/net", "", "", false},
		{"weft/", "", "", false},
	}
	for _, c := range cases {
		nn, ok := parseOwner(c.in)
		if ok != c.ok || nn.Namespace != c.ns || nn.Name != c.name {
			t.Errorf("parseOwner(%q) = %v, %v", c.in, nn, ok)
		}
	}
}

func TestPackageAddrKey(t *testing.T) {
	cases := map[string]string{
		"cc-basic-mychannel.net-org1.svc.cluster.local:9999": "net-org1/cc-basic-mychannel",
		"host:1":   "",
		"no-port":  "",
		"a.b:9999": "b/a",
		"":         "",
	}
	for in, want := range cases {
		if got := packageAddrKey(in); got != want {
			t.Errorf("packageAddrKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestComponentsKeepsConditions(t *testing.T) {
	old := []v1alpha1.ComponentStatus{
		{Name: "a", Conditions: []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: "X"}}},
		{Name: "gone"},
	}
	got := components(old, []string{"b", "a", "b", ""})
	if len(got) != 2 || got[0].Name != "b" || got[1].Name != "a" {
		t.Fatalf("components = %+v", got)
	}
	if !meta.IsStatusConditionTrue(got[1].Conditions, "Ready") || got[0].Conditions != nil {
		t.Fatalf("conditions not carried over: %+v", got)
	}
	if component(got, "gone") != nil || component(got, "a") == nil {
		t.Fatal("component lookup")
	}
}

func TestPhase(t *testing.T) {
	ready := []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue}}
	cases := []struct {
		name            string
		st              v1alpha1.NetworkStatus
		applied, failed bool
		want            v1alpha1.NetworkPhase
	}{
		{"nothing yet", v1alpha1.NetworkStatus{}, false, false, v1alpha1.PhasePending},
		{"bad spec", v1alpha1.NetworkStatus{}, false, true, v1alpha1.PhaseFailed},
		{"waiting", v1alpha1.NetworkStatus{}, true, false, v1alpha1.PhaseProvisioning},
		{"ready", v1alpha1.NetworkStatus{Conditions: ready}, true, false, v1alpha1.PhaseReady},
		{"was ready, fails", v1alpha1.NetworkStatus{Phase: v1alpha1.PhaseReady}, true, true, v1alpha1.PhaseDegraded},
		{"never ready, fails", v1alpha1.NetworkStatus{Phase: v1alpha1.PhaseProvisioning}, true, true, v1alpha1.PhaseProvisioning},
	}
	for _, c := range cases {
		if got := phase(&c.st, c.applied, c.failed); got != c.want {
			t.Errorf("%s: phase = %s, want %s", c.name, got, c.want)
		}
	}
}

func TestWorkloadReadiness(t *testing.T) {
	two := int32(2)
	cases := []struct {
		name string
		s    appsv1.StatefulSet
		want bool
	}{
		{"fresh", appsv1.StatefulSet{}, false},
		{"ready", appsv1.StatefulSet{Status: appsv1.StatefulSetStatus{ReadyReplicas: 1, UpdatedReplicas: 1}}, true},
		{"old generation", appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Generation: 2},
			Status: appsv1.StatefulSetStatus{ObservedGeneration: 1, ReadyReplicas: 1, UpdatedReplicas: 1}}, false},
		{"rolling", appsv1.StatefulSet{Status: appsv1.StatefulSetStatus{ReadyReplicas: 1, UpdatedReplicas: 0}}, false},
		{"one of two", appsv1.StatefulSet{Spec: appsv1.StatefulSetSpec{Replicas: &two},
			Status: appsv1.StatefulSetStatus{ReadyReplicas: 1, UpdatedReplicas: 2}}, false},
		{"roll unfinished", appsv1.StatefulSet{Status: appsv1.StatefulSetStatus{ReadyReplicas: 1, UpdatedReplicas: 1,
			CurrentRevision: "web-1", UpdateRevision: "web-2"}}, false},
		{"roll finished", appsv1.StatefulSet{Status: appsv1.StatefulSetStatus{ReadyReplicas: 1, UpdatedReplicas: 1,
			CurrentRevision: "web-2", UpdateRevision: "web-2"}}, true},
	}
	for _, c := range cases {
		if got := statefulSetReady(&c.s); got != c.want {
			t.Errorf("%s: ready = %v", c.name, got)
		}
	}
	if deploymentReady(&appsv1.Deployment{}) {
		t.Error("a Deployment with no available replica is ready")
	}
	if !deploymentReady(&appsv1.Deployment{Status: appsv1.DeploymentStatus{Replicas: 1, AvailableReplicas: 1, UpdatedReplicas: 1}}) {
		t.Error("an available Deployment is not ready")
	}
	// The new pod is available but the old one still runs (and still
	// serves the old package ID behind the Service).
	if deploymentReady(&appsv1.Deployment{Status: appsv1.DeploymentStatus{Replicas: 2, AvailableReplicas: 2, UpdatedReplicas: 1}}) {
		t.Error("a Deployment with an old pod left is ready")
	}
	if deploymentReady(&appsv1.Deployment{Status: appsv1.DeploymentStatus{Replicas: 1, AvailableReplicas: 1, UpdatedReplicas: 1, UnavailableReplicas: 1}}) {
		t.Error("a Deployment with an unavailable replica is ready")
	}
}

func TestMaterialSecretName(t *testing.T) {
	if MaterialSecretName("n", 0) != "n-material" || MaterialSecretName("n", 2) != "n-material-2" {
		t.Fatal("names")
	}
	if !isMaterialPart("n-material-3", "n") || isMaterialPart("n-material", "n") || isMaterialPart("m-material-1", "n") {
		t.Fatal("isMaterialPart")
	}
}
