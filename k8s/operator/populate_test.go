package operator

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "weft/k8s/api/v1alpha1"
	"weft/k8s/render"
	"weft/spec"
)

// Until every node has a ready pod, population does nothing and every
// channel and chaincode says it is waiting, naming what for.
func TestPopulateWaitsForPods(t *testing.T) {
	net := &v1alpha1.Network{ObjectMeta: metav1.ObjectMeta{Name: "n", Namespace: "weft", Generation: 3},
		Spec: v1alpha1.NetworkSpec{FabricNetwork: v1alpha1.FromSpec(spec.Default())}}
	orgs, chs, ccs := statusNames(net.NetworkSpec())
	net.Status.Orgs, net.Status.Channels, net.Status.Chaincodes = components(nil, orgs), components(nil, chs), components(nil, ccs)
	ready := &readiness{notReady: map[string][]string{"Org1": {"peer peer0"}}}
	r := &NetworkReconciler{}
	if err := r.populate(context.Background(), net, "", nil, ready); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*metav1.Condition{
		meta.FindStatusCondition(*component(net.Status.Channels, "mychannel"), v1alpha1.ConditionJoined),
		meta.FindStatusCondition(*component(net.Status.Chaincodes, "mychannel/basic"), v1alpha1.ConditionCommitted),
	} {
		if c == nil || c.Status != metav1.ConditionFalse || c.Reason != ReasonWaitingForPods || c.ObservedGeneration != 3 ||
			c.Message != "waiting for ready pods of Org1: peer peer0" {
			t.Errorf("condition %+v", c)
		}
	}
}

func TestChaincodeServersReady(t *testing.T) {
	cc := &spec.Chaincode{Name: "basic", Channel: "mychannel"}
	pkgs := []render.Package{
		{Chaincode: "basic", Channel: "mychannel", Address: "cc-basic.n-org1.svc.cluster.local:9999"},
		{Chaincode: "basic", Channel: "mychannel", Address: "cc-basic.n-org2.svc.cluster.local:9999"},
		{Chaincode: "other", Channel: "mychannel", Address: "cc-other.n-org1.svc.cluster.local:9999"},
	}
	cases := []struct {
		name  string
		ready map[string]bool
		want  bool
	}{
		{"both orgs", map[string]bool{"n-org1/cc-basic": true, "n-org2/cc-basic": true}, true},
		{"one org", map[string]bool{"n-org1/cc-basic": true, "n-org2/cc-basic": false}, false},
		{"unknown", map[string]bool{}, false},
		{"other chaincode ready only", map[string]bool{"n-org1/cc-other": true}, false},
	}
	for _, c := range cases {
		if got := chaincodeServersReady(pkgs, cc, &readiness{chaincodes: c.ready}); got != c.want {
			t.Errorf("%s: %v", c.name, got)
		}
	}
}

func TestReadinessSummary(t *testing.T) {
	r := &readiness{notReady: map[string][]string{"Org1": {"chaincode cc-basic"}}}
	if !r.nodesReady() || r.orgReady("Org1") || !r.orgReady("Org2") {
		t.Fatal("a missing chaincode server is not a missing node")
	}
	r.notReady["OrdererOrg"] = []string{"orderer orderer0"}
	if r.nodesReady() {
		t.Fatal("orderer0 not ready, yet nodes ready")
	}
	if got := r.waiting(); got != "waiting for ready pods of OrdererOrg: orderer orderer0; Org1: chaincode cc-basic" {
		t.Fatalf("waiting() = %q", got)
	}
}
