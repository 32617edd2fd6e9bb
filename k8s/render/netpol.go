package render

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	v1alpha1 "weft/k8s/api/v1alpha1"
	"weft/spec"
)

// MetricsNamespaceLabel marks namespaces (e.g. Prometheus's) allowed to
// scrape the operations port.
const MetricsNamespaceLabel = "weft.dev/metrics"

// Every namespace denies all ingress, then each policy below admits one
// flow the network needs. Egress is left open: nodes dial each other and
// the chaincode servers by name.

func (r *renderer) policy(name, ns, org string, pods map[string]string, ports []int, from []networkingv1.NetworkPolicyPeer) *networkingv1.NetworkPolicy {
	np := &networkingv1.NetworkPolicy{
		TypeMeta:   typeMeta("networking.k8s.io/v1", "NetworkPolicy"),
		ObjectMeta: r.meta(name, ns, org, "", ""),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: pods},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
		},
	}
	if ports == nil {
		return np // no rule: deny
	}
	rule := networkingv1.NetworkPolicyIngressRule{From: from}
	tcp := corev1.ProtocolTCP
	for _, p := range ports {
		port := intstr.FromInt32(int32(p))
		rule.Ports = append(rule.Ports, networkingv1.NetworkPolicyPort{Protocol: &tcp, Port: &port})
	}
	np.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{rule}
	return np
}

func (r *renderer) denyAll(ns, org string) *networkingv1.NetworkPolicy {
	return r.policy("default-deny-ingress", ns, org, map[string]string{}, nil, nil)
}

// networkPods selects pods of a kind in any namespace of this network.
func (r *renderer) networkPods(kind v1alpha1.NodeKind) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{LabelNetwork: r.t.net.Name}},
		PodSelector:       &metav1.LabelSelector{MatchLabels: selector(r.t.net.Name, string(kind), "")},
	}
}

func (r *renderer) operator() networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": r.opts.OperatorNamespace}},
		PodSelector:       &metav1.LabelSelector{MatchLabels: copyMap(OperatorLabel)},
	}
}

func metricsScrapers() networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{MetricsNamespaceLabel: "true"}},
	}
}

func (r *renderer) kindPods(kind v1alpha1.NodeKind) map[string]string {
	return selector(r.t.net.Name, string(kind), "")
}

func (r *renderer) ordererPolicies() []Object {
	ns, org := r.t.ordererNS, r.t.net.Orderer.Org
	ord := r.kindPods(v1alpha1.KindOrderer)
	out := []Object{
		r.denyAll(ns, org),
		r.policy("allow-orderer-cluster", ns, org, ord, []int{OrdererPort}, []networkingv1.NetworkPolicyPeer{r.networkPods(v1alpha1.KindOrderer)}),
		r.policy("allow-orderer-from-peers", ns, org, ord, []int{OrdererPort}, []networkingv1.NetworkPolicyPeer{r.networkPods(v1alpha1.KindPeer)}),
		r.policy("allow-operator", ns, org, ord, []int{OrdererPort, OrdererAdminPort, OperationsPort}, []networkingv1.NetworkPolicyPeer{r.operator()}),
		r.policy("allow-metrics", ns, org, map[string]string{LabelNetwork: r.t.net.Name}, []int{OperationsPort}, []networkingv1.NetworkPolicyPeer{metricsScrapers()}),
	}
	if r.t.exp.Type != v1alpha1.ExposeClusterIP {
		// Exposed orderers take clients from outside the cluster, whose
		// addresses no selector can name.
		out = append(out, r.policy("allow-orderer-external", ns, org, ord, []int{OrdererPort}, nil))
	}
	return out
}

func (r *renderer) peerOrgPolicies(o *spec.Org) []Object {
	ns := r.t.orgNamespace(o.Name)
	peers := r.kindPods(v1alpha1.KindPeer)
	out := []Object{
		r.denyAll(ns, o.Name),
		// Applications may run anywhere, in or outside the cluster.
		r.policy("allow-peer-gateway", ns, o.Name, peers, []int{PeerPort}, nil),
		r.policy("allow-peer-gossip", ns, o.Name, peers, []int{PeerPort}, []networkingv1.NetworkPolicyPeer{r.networkPods(v1alpha1.KindPeer)}),
		r.policy("allow-operator", ns, o.Name, map[string]string{LabelNetwork: r.t.net.Name}, []int{PeerPort, CAPort, OperationsPort}, []networkingv1.NetworkPolicyPeer{r.operator()}),
		r.policy("allow-metrics", ns, o.Name, map[string]string{LabelNetwork: r.t.net.Name}, []int{OperationsPort}, []networkingv1.NetworkPolicyPeer{metricsScrapers()}),
	}
	if o.HasCA() {
		// Enrolment from the org's own namespace (its applications' jobs).
		out = append(out, r.policy("allow-ca", ns, o.Name, r.kindPods(v1alpha1.KindCA), []int{CAPort},
			[]networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}))
	}
	if r.orgHasChaincode(o) {
		// Chaincode servers answer their own org's peers and nothing else.
		out = append(out, r.policy("allow-chaincode-from-peers", ns, o.Name, r.kindPods(v1alpha1.KindChaincode), []int{ChaincodePort},
			[]networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: r.kindPods(v1alpha1.KindPeer)}}}))
	}
	return out
}
