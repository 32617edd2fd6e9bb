package render

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "weft/k8s/api/v1alpha1"
)

// flows describes every ingress rule as "namespace: to-pods <- from :ports",
// so a test can compare the admitted traffic with the list it must be.
func flows(objs []Object) []string {
	var out []string
	for _, o := range objs {
		np, ok := o.(*networkingv1.NetworkPolicy)
		if !ok {
			continue
		}
		to := sel(&np.Spec.PodSelector)
		if len(np.Spec.Ingress) == 0 {
			out = append(out, fmt.Sprintf("%s: %s <- nothing", np.Namespace, to))
		}
		for _, r := range np.Spec.Ingress {
			var ports []string
			for _, p := range r.Ports {
				ports = append(ports, p.Port.String())
			}
			from := "anywhere"
			if len(r.From) > 0 {
				var fs []string
				for _, f := range r.From {
					s := "ns(same)"
					if f.NamespaceSelector != nil {
						s = "ns(" + sel(f.NamespaceSelector) + ")"
					}
					if f.PodSelector != nil {
						s += " pods(" + sel(f.PodSelector) + ")"
					}
					fs = append(fs, s)
				}
				from = strings.Join(fs, " | ")
			}
			out = append(out, fmt.Sprintf("%s: %s <- %s :%s", np.Namespace, to, from, strings.Join(ports, ",")))
		}
	}
	sort.Strings(out)
	return out
}

// sel prints a selector's labels, leaving out the network label they all
// carry.
func sel(s *metav1.LabelSelector) string {
	var parts []string
	for k, v := range s.MatchLabels {
		if k == LabelNetwork {
			continue
		}
		parts = append(parts, strings.TrimPrefix(strings.TrimPrefix(k, "app.kubernetes.io/"), "kubernetes.io/metadata.")+"="+v)
	}
	sort.Strings(parts)
	if len(parts) == 0 {
		if _, ok := s.MatchLabels[LabelNetwork]; ok {
			return "network"
		}
		return "all"
	}
	return strings.Join(parts, ",")
}

func TestNetworkPoliciesAdmitExactlyTheNeededFlows(t *testing.T) {
	peerOrg := func(ns string) []string {
		return []string{
			ns + ": all <- nothing",
			ns + ": component=ca <- ns(same) pods(all) :7054",
			ns + ": component=chaincode <- ns(same) pods(component=peer) :9999",
			ns + ": component=peer <- anywhere :7051",
			ns + ": component=peer <- ns(network) pods(component=peer) :7051",
			ns + ": network <- ns(name=weft-system) pods(name=weft-operator) :7051,7054,9443",
			ns + ": network <- ns(weft.dev/metrics=true) :9443",
		}
	}
	base := []string{
		ordNS + ": all <- nothing",
		ordNS + ": component=orderer <- ns(name=weft-system) pods(name=weft-operator) :7050,7053,9443",
		ordNS + ": component=orderer <- ns(network) pods(component=orderer) :7050",
		ordNS + ": component=orderer <- ns(network) pods(component=peer) :7050",
		ordNS + ": network <- ns(weft.dev/metrics=true) :9443",
	}
	base = append(append(base, peerOrg(org1NS)...), peerOrg(org2NS)...)
	cases := []struct {
		name   string
		mutate func(*v1alpha1.Network)
		want   []string
	}{
		{"cluster only", func(*v1alpha1.Network) {}, base},
		{"exposed orderers take outside clients", func(n *v1alpha1.Network) {
			n.Spec.Exposure = v1alpha1.Exposure{Type: v1alpha1.ExposeLoadBalancer}
		}, append(slices.Clone(base), ordNS+": component=orderer <- anywhere :7050")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := defaultNetwork()
			c.mutate(n)
			got := flows(mustObjects(t, n, defaultMaterial(t)))
			want := slices.Clone(c.want)
			sort.Strings(want)
			if !slices.Equal(got, want) {
				t.Errorf("flows:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
}

func TestOperatorNamespaceOption(t *testing.T) {
	objs, err := ObjectsWith(defaultNetwork(), defaultMaterial(t), Options{OperatorNamespace: "ops"})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(flows(objs), "\n")
	if !strings.Contains(got, "ns(name=ops) pods(name=weft-operator)") || strings.Contains(got, "weft-system") {
		t.Errorf("operator namespace not applied:\n%s", got)
	}
}
