package render

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	v1alpha1 "weft/k8s/api/v1alpha1"
)

// Node ports stay where the status published them when the network
// changes; without a status they run on from the base.
func TestNodePortsStayPut(t *testing.T) {
	const addr = "192.168.50.4"
	ep := func(node string, kind v1alpha1.NodeKind, external string) v1alpha1.Endpoint {
		return v1alpha1.Endpoint{Node: node, Kind: kind, External: external}
	}
	published := []v1alpha1.Endpoint{ // the default network, laid out from 31000
		ep("orderer0.example.com", v1alpha1.KindOrderer, addr+":31000"),
		ep("orderer1.example.com", v1alpha1.KindOrderer, addr+":31001"),
		ep("orderer2.example.com", v1alpha1.KindOrderer, addr+":31002"),
		ep("peer0.org1.example.com", v1alpha1.KindPeer, addr+":31003"),
		ep("peer0.org2.example.com", v1alpha1.KindPeer, addr+":31004"),
	}
	cases := []struct {
		name    string
		base    int32
		org1    int // Org1's peers
		status  []v1alpha1.Endpoint
		want    map[string]string // node -> external address
		wantErr string
	}{
		{name: "no status: in order", base: 31000, org1: 2,
			want: map[string]string{"orderer2.example.com": addr + ":31002", "peer1.org1.example.com": addr + ":31004", "peer0.org2.example.com": addr + ":31005"}},
		{name: "scale up keeps Org2's port", base: 31000, org1: 2, status: published,
			want: map[string]string{"peer0.org1.example.com": addr + ":31003", "peer0.org2.example.com": addr + ":31004", "peer1.org1.example.com": addr + ":31005"}},
		{name: "a removed node's port is not reused at once", base: 31000, org1: 2,
			status: append(append([]v1alpha1.Endpoint(nil), published...), ep("peer7.org1.example.com", v1alpha1.KindPeer, addr+":31005")),
			want:   map[string]string{"peer1.org1.example.com": addr + ":31006"}},
		{name: "other address ignored", base: 31000, org1: 1,
			status: []v1alpha1.Endpoint{ep("peer0.org2.example.com", v1alpha1.KindPeer, "10.0.0.1:31000")},
			want:   map[string]string{"orderer0.example.com": addr + ":31000", "peer0.org2.example.com": addr + ":31004"}},
		{name: "below the base ignored", base: 31000, org1: 1,
			status: []v1alpha1.Endpoint{ep("peer0.org2.example.com", v1alpha1.KindPeer, addr+":30999")},
			want:   map[string]string{"peer0.org2.example.com": addr + ":31004"}},
		{name: "garbage and CA entries ignored", base: 31000, org1: 1,
			status: []v1alpha1.Endpoint{ep("peer0.org2.example.com", v1alpha1.KindPeer, addr+":x"), ep("peer0.org2.example.com", v1alpha1.KindCA, addr+":31000"),
				ep("peer0.org1.example.com", v1alpha1.KindPeer, "no-port")},
			want: map[string]string{"orderer0.example.com": addr + ":31000", "peer0.org1.example.com": addr + ":31003", "peer0.org2.example.com": addr + ":31004"}},
		{name: "one port claimed twice: the first keeps it", base: 31000, org1: 1,
			status: []v1alpha1.Endpoint{ep("peer0.org2.example.com", v1alpha1.KindPeer, addr+":31000"), ep("orderer0.example.com", v1alpha1.KindOrderer, addr+":31000")},
			want:   map[string]string{"peer0.org2.example.com": addr + ":31000", "orderer0.example.com": addr + ":31001", "peer0.org1.example.com": addr + ":31004"}},
		{name: "range exhausted", base: 32763, org1: 1,
			status:  []v1alpha1.Endpoint{ep("peer9.org1.example.com", v1alpha1.KindPeer, addr+":32763")},
			wantErr: "spec.exposure.nodePortBase: no node port left for peer0.org2.example.com"},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			n := defaultNetwork()
			n.Spec.Exposure = v1alpha1.Exposure{Type: v1alpha1.ExposeNodePort, ExternalAddress: addr, NodePortBase: tt.base}
			n.Spec.Orgs[0].Peers = tt.org1
			n.Status.Endpoints = tt.status
			eps, err := Endpoints(n)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			seen := map[string]string{}
			for _, e := range eps {
				got[e.Node] = e.External
				if e.External == "" {
					continue
				}
				if prev, dup := seen[e.External]; dup {
					t.Errorf("%s and %s share %s", prev, e.Node, e.External)
				}
				seen[e.External] = e.Node
			}
			for node, want := range tt.want {
				if got[node] != want {
					t.Errorf("%s at %q, want %q (all: %v)", node, got[node], want, got)
				}
			}
		})
	}
}

// The Services and the profile use the kept ports too.
func TestNodePortsInServicesAndProfile(t *testing.T) {
	n := defaultNetwork()
	n.Spec.Exposure = v1alpha1.Exposure{Type: v1alpha1.ExposeNodePort, ExternalAddress: "192.168.50.4", NodePortBase: 31000}
	n.Status.Endpoints = []v1alpha1.Endpoint{{Node: "peer0.org2.example.com", Kind: v1alpha1.KindPeer, External: "192.168.50.4:31100"}}
	k := byKind(mustObjects(t, n, defaultMaterial(t)))
	svc, ok := k["Service"][org2NS+"/peer0-external"].(*corev1.Service)
	if !ok || len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].NodePort != 31100 {
		t.Fatalf("Org2's peer Service does not keep node port 31100: %+v", svc)
	}
	prof := profileOf(t, k, org2NS, "Org2")
	if url := prof["peers"].(map[string]any)["peer0.org2.example.com"].(map[string]any)["url"]; url != "grpcs://192.168.50.4:31100" {
		t.Errorf("profile url %v", url)
	}
}
