package render

import (
	"encoding/json"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	v1alpha1 "weft/k8s/api/v1alpha1"
)

func TestNodePortExposure(t *testing.T) {
	n := defaultNetwork()
	n.Spec.Exposure = v1alpha1.Exposure{Type: v1alpha1.ExposeNodePort, ExternalAddress: "192.168.50.4", NodePortBase: 31000}
	k := byKind(mustObjects(t, n, defaultMaterial(t)))
	want := map[string]int32{ // orderers first, then each org's peers
		ordNS + "/orderer0-external": 31000, ordNS + "/orderer2-external": 31002,
		org1NS + "/peer0-external": 31003, org2NS + "/peer0-external": 31004,
	}
	for name, port := range want {
		s, ok := k["Service"][name].(*corev1.Service)
		if !ok {
			t.Fatalf("Service %s missing", name)
		}
		if s.Spec.Type != corev1.ServiceTypeNodePort || len(s.Spec.Ports) != 1 || s.Spec.Ports[0].NodePort != port {
			t.Errorf("%s: type %s ports %+v, want node port %d", name, s.Spec.Type, s.Spec.Ports, port)
		}
	}
	if _, ok := k["Service"][org1NS+"/ca-external"]; ok {
		t.Error("the CA is exposed")
	}
	prof := profileOf(t, k, org2NS, "Org2")
	url := prof["peers"].(map[string]any)["peer0.org2.example.com"].(map[string]any)["url"]
	if url != "grpcs://192.168.50.4:31004" {
		t.Errorf("profile url %v", url)
	}
}

func profileOf(t *testing.T, k map[string]map[string]Object, ns, org string) map[string]any {
	t.Helper()
	s := k["Secret"][ns+"/"+ProfileSecretName].(*corev1.Secret)
	var prof map[string]any
	if err := json.Unmarshal(s.Data[ProfileKey(org)], &prof); err != nil {
		t.Fatalf("profile: %v", err)
	}
	return prof
}

func TestIngressExposure(t *testing.T) {
	n := defaultNetwork()
	n.Spec.Exposure = v1alpha1.Exposure{Type: v1alpha1.ExposeIngress, HostSuffix: "fabric.example.org"}
	k := byKind(mustObjects(t, n, defaultMaterial(t)))
	ing, ok := k["Ingress"][org1NS+"/test-network-nodes"].(*networkingv1.Ingress)
	if !ok {
		t.Fatalf("Ingress missing: %v", keys(k["Ingress"]))
	}
	if ing.Annotations["nginx.ingress.kubernetes.io/ssl-passthrough"] != "true" {
		t.Errorf("annotations %v", ing.Annotations)
	}
	if len(ing.Spec.Rules) != 1 || ing.Spec.Rules[0].Host != "peer0."+org1NS+".fabric.example.org" {
		t.Errorf("rules %+v", ing.Spec.Rules)
	}
	if len(k["Ingress"]) != 3 {
		t.Errorf("%d ingresses", len(k["Ingress"]))
	}
	url := profileOf(t, k, org1NS, "Org1")["peers"].(map[string]any)["peer0.org1.example.com"].(map[string]any)["url"]
	if url != "grpcs://peer0."+org1NS+".fabric.example.org:443" {
		t.Errorf("profile url %v", url)
	}
	for name, s := range k["Service"] {
		if strings.HasSuffix(name, "-external") {
			t.Errorf("Ingress exposure made %s (%s)", name, s.(*corev1.Service).Spec.Type)
		}
	}
}

func TestClusterIPProfileUsesServiceNames(t *testing.T) {
	k := byKind(mustObjects(t, defaultNetwork(), defaultMaterial(t)))
	prof := profileOf(t, k, org1NS, "Org1")
	p := prof["peers"].(map[string]any)["peer0.org1.example.com"].(map[string]any)
	if p["url"] != "grpcs://peer0."+org1NS+".svc.cluster.local:7051" || !strings.Contains(p["tlsCACerts"].(map[string]any)["pem"].(string), "BEGIN CERTIFICATE") {
		t.Errorf("peer entry %v", p)
	}
	if prof["organizations"].(map[string]any)["Org1"].(map[string]any)["mspid"] != "Org1MSP" {
		t.Errorf("organizations %v", prof["organizations"])
	}
}

func TestKubernetesSettingsApplied(t *testing.T) {
	n := defaultNetwork()
	class := "fast-ssd"
	size := resource.MustParse("50Gi")
	no := false
	n.Spec.Image = "registry.local/weft:1.2"
	n.Spec.ImagePullPolicy = corev1.PullNever
	n.Spec.Storage.Orderer = v1alpha1.Volume{StorageClassName: &class, Size: &size}
	n.Spec.Resources.Peer = corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}}
	n.Spec.Placement = v1alpha1.Placement{AntiAffinity: &no, NodeSelector: map[string]string{"disk": "ssd"},
		Tolerations: []corev1.Toleration{{Key: "fabric", Operator: corev1.TolerationOpExists}}}
	n.Spec.ChaincodeImages = []v1alpha1.ChaincodeImage{{Name: "basic", Image: "registry.local/basic:2"}}
	k := byKind(mustObjects(t, n, defaultMaterial(t)))
	ord := k["StatefulSet"][ordNS+"/orderer0"].(*appsv1.StatefulSet)
	claim := ord.Spec.VolumeClaimTemplates[0].Spec
	if claim.StorageClassName == nil || *claim.StorageClassName != class || claim.Resources.Requests.Storage().String() != "50Gi" {
		t.Errorf("orderer claim %+v", claim)
	}
	pod := ord.Spec.Template.Spec
	if pod.Containers[0].Image != "registry.local/weft:1.2" || pod.Containers[0].ImagePullPolicy != corev1.PullNever {
		t.Errorf("image %s %s", pod.Containers[0].Image, pod.Containers[0].ImagePullPolicy)
	}
	if pod.Affinity != nil || pod.NodeSelector["disk"] != "ssd" || len(pod.Tolerations) != 1 {
		t.Errorf("placement: affinity %v selector %v tolerations %v", pod.Affinity, pod.NodeSelector, pod.Tolerations)
	}
	peer := k["StatefulSet"][org1NS+"/peer0"].(*appsv1.StatefulSet)
	if peer.Spec.Template.Spec.Containers[0].Resources.Limits.Memory().String() != "1Gi" {
		t.Errorf("peer resources %+v", peer.Spec.Template.Spec.Containers[0].Resources)
	}
	if peer.Spec.VolumeClaimTemplates[0].Spec.StorageClassName != nil {
		t.Error("peer claim took the orderer's storage class")
	}
	cc := k["Deployment"][org1NS+"/cc-basic-mychannel"].(*appsv1.Deployment)
	if cc.Spec.Template.Spec.Containers[0].Image != "registry.local/basic:2" {
		t.Errorf("chaincode image %s", cc.Spec.Template.Spec.Containers[0].Image)
	}
}

func TestInvalidNetworkRejected(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*v1alpha1.Network)
		want   string
	}{
		{"spec field", func(n *v1alpha1.Network) { n.Spec.Orderer.Nodes = 0 }, "spec.orderer.nodes"},
		{"exposure", func(n *v1alpha1.Network) { n.Spec.Exposure.Type = v1alpha1.ExposeNodePort }, "spec.exposure.externalAddress"},
		{"pull policy", func(n *v1alpha1.Network) { n.Spec.ImagePullPolicy = "Maybe" }, "spec.imagePullPolicy"},
		{"chaincode image", func(n *v1alpha1.Network) {
			n.Spec.ChaincodeImages = []v1alpha1.ChaincodeImage{{Name: "other", Image: "x"}}
		}, "spec.chaincodeImages[0].name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := defaultNetwork()
			c.mutate(n)
			if _, err := Objects(n, defaultMaterial(t)); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Objects: %v; want an error naming %s", err, c.want)
			}
			if _, err := Endpoints(n); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Endpoints: %v; want an error naming %s", err, c.want)
			}
		})
	}
	if _, err := Objects(nil, defaultMaterial(t)); err == nil {
		t.Error("Objects(nil) succeeded")
	}
}
