package render

import (
	"testing"

	"google.golang.org/protobuf/proto"
	appsv1 "k8s.io/api/apps/v1"

	v1alpha1 "weft/k8s/api/v1alpha1"
	pb "weft/wire/peer"
)

func withOrg3() *v1alpha1.Network {
	n := defaultNetwork()
	n.Spec.Orgs = append(n.Spec.Orgs, v1alpha1.OrgSpec{Name: "Org3", Domain: "org3.example.com", Peers: 1, Users: 1})
	n.Spec.Channels[0].Orgs = append(n.Spec.Channels[0].Orgs, "Org3")
	return n
}

// A new org adds its TLS CA to the orderers' client roots, which they read
// only at start: their pod templates must change so they roll; a render
// of the same material must not change them.
func TestConfigHashRollsOnNewOrg(t *testing.T) {
	dir := t.TempDir()
	small := defaultNetwork()
	if err := GenerateMaterial(small, dir, nil); err != nil {
		t.Fatal(err)
	}
	m1, err := LoadMaterial(small, dir)
	if err != nil {
		t.Fatal(err)
	}
	hash := func(objs []Object, key string) string {
		t.Helper()
		ss, ok := byKind(objs)["StatefulSet"][key].(*appsv1.StatefulSet)
		if !ok {
			t.Fatalf("no StatefulSet %s", key)
		}
		return ss.Spec.Template.Annotations[AnnotationConfigHash]
	}
	a, b := mustObjects(t, small, m1), mustObjects(t, small, m1)
	h0 := hash(a, ordNS+"/orderer0")
	if len(h0) != 64 || h0 != hash(b, ordNS+"/orderer0") {
		t.Fatalf("hash %q is not a stable SHA-256", h0)
	}
	if hash(a, ordNS+"/orderer0") == hash(a, ordNS+"/orderer1") {
		t.Error("two orderers with their own keys share a config hash")
	}
	big := withOrg3()
	if err := GenerateMaterial(big, dir, nil); err != nil {
		t.Fatal(err)
	}
	m2, err := LoadMaterial(big, dir)
	if err != nil {
		t.Fatal(err)
	}
	if hash(mustObjects(t, big, m2), ordNS+"/orderer0") == h0 {
		t.Error("orderer0 keeps its config hash although its client TLS roots gained Org3's CA")
	}

	// The Org3 group the operator adds to the running channel has its
	// anchor peer at its in-cluster Service.
	g, err := ChannelGroup(big, "mychannel", dir)
	if err != nil {
		t.Fatal(err)
	}
	org3 := g.GetGroups()["Application"].GetGroups()["Org3MSP"]
	if org3 == nil {
		t.Fatal("no Org3MSP group")
	}
	var ap pb.AnchorPeers
	if err := proto.Unmarshal(org3.GetValues()["AnchorPeers"].GetValue(), &ap); err != nil || len(ap.GetAnchorPeers()) != 1 ||
		ap.GetAnchorPeers()[0].GetHost() != "peer0.test-network-org3.svc.cluster.local" || ap.GetAnchorPeers()[0].GetPort() != PeerPort {
		t.Fatalf("anchor peers %v (%v)", ap.GetAnchorPeers(), err)
	}
	if _, err := ChannelGroup(big, "nochannel", dir); err == nil {
		t.Error("ChannelGroup of an unknown channel succeeded")
	}
	if _, err := ChannelGroup(big, "mychannel", t.TempDir()); err == nil {
		t.Error("ChannelGroup without material succeeded")
	}
}
