package render

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	v1alpha1 "weft/k8s/api/v1alpha1"
)

// headless governs the StatefulSets of one kind in a namespace. It also
// publishes pods that are not ready yet, so Raft peers find each other
// while they start.
func (r *renderer) headless(ns, org string, kind v1alpha1.NodeKind) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   typeMeta("v1", "Service"),
		ObjectMeta: r.meta(headlessName(kind), ns, org, string(kind), ""),
		Spec: corev1.ServiceSpec{
			ClusterIP:                corev1.ClusterIPNone,
			Selector:                 selector(r.t.net.Name, string(kind), ""),
			PublishNotReadyAddresses: true,
			Ports:                    []corev1.ServicePort{{Name: portName(kind), Port: int32(kindPort(kind))}},
		},
	}
}

func kindPort(kind v1alpha1.NodeKind) int {
	switch kind {
	case v1alpha1.KindOrderer:
		return OrdererPort
	case v1alpha1.KindCA:
		return CAPort
	}
	return PeerPort
}

// nodeServices gives a node its in-cluster name (a ClusterIP Service with
// every port) and, for NodePort and LoadBalancer exposure, a
// "<node>-external" Service with only the client port.
func (r *renderer) nodeServices(nd *node) []Object {
	var ports []corev1.ServicePort
	for _, p := range r.containerPorts(nd) {
		ports = append(ports, corev1.ServicePort{Name: p.Name, Port: p.ContainerPort, TargetPort: intstr.FromString(p.Name)})
	}
	sel := selector(r.t.net.Name, string(nd.kind), nd.name)
	out := []Object{&corev1.Service{
		TypeMeta:   typeMeta("v1", "Service"),
		ObjectMeta: r.meta(nd.name, nd.namespace, nd.orgName, string(nd.kind), nd.name),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: sel,
			Ports:    ports,
			// Raft and gossip need every node reachable by name before it
			// is ready.
			PublishNotReadyAddresses: nd.kind == v1alpha1.KindOrderer,
		},
	}}
	typ := corev1.ServiceType(r.t.exp.Type)
	if nd.kind == v1alpha1.KindCA || (typ != corev1.ServiceTypeNodePort && typ != corev1.ServiceTypeLoadBalancer) {
		return out
	}
	ext := corev1.ServicePort{Name: portName(nd.kind), Port: int32(nd.port), TargetPort: intstr.FromString(portName(nd.kind))}
	if typ == corev1.ServiceTypeNodePort {
		ext.NodePort = int32(nd.extPort)
	}
	m := r.meta(nd.name+"-external", nd.namespace, nd.orgName, string(nd.kind), nd.name)
	if nd.extHost != "" {
		m.Annotations = map[string]string{"weft.dev/external-address": nd.externalAddr()}
	}
	return append(out, &corev1.Service{
		TypeMeta:   typeMeta("v1", "Service"),
		ObjectMeta: m,
		Spec: corev1.ServiceSpec{
			Type:     typ,
			Selector: sel,
			Ports:    []corev1.ServicePort{ext},
		},
	})
}

// ingress routes <node>.<namespace>.<hostSuffix> to the node's client port
// with TLS passed through (ingress-nginx's ssl-passthrough), so mutual TLS
// still ends at the node.
func (r *renderer) ingress(ns, org string, nodes []node) []Object {
	e := r.t.exp
	if e.Type != v1alpha1.ExposeIngress || len(nodes) == 0 {
		return nil
	}
	pathType := networkingv1.PathTypeImplementationSpecific
	var rules []networkingv1.IngressRule
	for _, nd := range nodes {
		rules = append(rules, networkingv1.IngressRule{
			Host: nd.extHost,
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{
					Path: "/", PathType: &pathType,
					Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
						Name: nd.name, Port: networkingv1.ServiceBackendPort{Number: int32(nd.port)},
					}},
				}},
			}},
		})
	}
	m := r.meta(dnsLabel(r.t.net.Name, "nodes"), ns, org, "", "")
	passthrough := e.TLSPassthrough == nil || *e.TLSPassthrough
	m.Annotations = map[string]string{
		"nginx.ingress.kubernetes.io/ssl-passthrough":  strconv.FormatBool(passthrough),
		"nginx.ingress.kubernetes.io/backend-protocol": "GRPCS",
	}
	return []Object{&networkingv1.Ingress{
		TypeMeta:   typeMeta("networking.k8s.io/v1", "Ingress"),
		ObjectMeta: m,
		Spec:       networkingv1.IngressSpec{IngressClassName: copyString(e.IngressClassName), Rules: rules},
	}}
}
