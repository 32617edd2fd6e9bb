package render

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"weft/peer/chaincode"
)

// Scaling an org's peers renders whole extra nodes, each with its own
// identity, and leaves the existing ones as they were.
func TestScalePeers(t *testing.T) {
	dir := t.TempDir()
	small := defaultNetwork()
	if err := GenerateMaterial(small, dir, nil); err != nil {
		t.Fatal(err)
	}
	m1, err := LoadMaterial(small, dir)
	if err != nil {
		t.Fatal(err)
	}
	before := byKind(mustObjects(t, small, m1))
	big := defaultNetwork()
	big.Spec.Orgs[0].Peers = 3
	if _, err := LoadMaterial(big, dir); err == nil {
		t.Fatal("LoadMaterial accepted material without the new peers")
	}
	if err := GenerateMaterial(big, dir, nil); err != nil {
		t.Fatal(err)
	}
	m2, err := LoadMaterial(big, dir)
	if err != nil {
		t.Fatal(err)
	}
	after := byKind(mustObjects(t, big, m2))
	for _, name := range []string{"peer1", "peer2"} {
		if after["StatefulSet"][org1NS+"/"+name] == nil || after["Secret"][org1NS+"/"+name+"-crypto"] == nil || after["Service"][org1NS+"/"+name] == nil {
			t.Errorf("%s not rendered", name)
		}
	}
	wantSS := append(keys(before["StatefulSet"]), org1NS+"/peer1", org1NS+"/peer2")
	slices.Sort(wantSS)
	if got := keys(after["StatefulSet"]); !slices.Equal(got, wantSS) {
		t.Errorf("StatefulSets %v, want %v", got, wantSS)
	}
	s0, s1 := after["Secret"][org1NS+"/peer0-crypto"].(*corev1.Secret), before["Secret"][org1NS+"/peer0-crypto"].(*corev1.Secret)
	if string(s0.Data[secretKey("tls/server.key")]) != string(s1.Data[secretKey("tls/server.key")]) {
		t.Error("peer0 was re-keyed")
	}
	p1 := after["Secret"][org1NS+"/peer1-crypto"].(*corev1.Secret)
	if string(p1.Data[secretKey("tls/server.key")]) == string(s0.Data[secretKey("tls/server.key")]) {
		t.Error("peer1 shares peer0's key")
	}
	cm := after["ConfigMap"][org1NS+"/peer2-config"].(*corev1.ConfigMap).Data["core.yaml"]
	for _, other := range []string{"peer0", "peer1"} {
		if !strings.Contains(cm, other+"."+org1NS+".svc.cluster.local:7051") {
			t.Errorf("peer2 does not bootstrap from %s:\n%s", other, cm)
		}
	}
}

// Each org runs its own chaincode server, so its package (and ID) names its
// own Service, and the Deployment is told that ID.
func TestChaincodePackages(t *testing.T) {
	n := defaultNetwork()
	pkgs, err := Packages(n)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 2 || pkgs[0].Org != "Org1" || pkgs[1].Org != "Org2" {
		t.Fatalf("packages %+v", pkgs)
	}
	if pkgs[0].ID == pkgs[1].ID || !strings.HasPrefix(pkgs[0].ID, "basic_1.0:") {
		t.Errorf("IDs %s %s", pkgs[0].ID, pkgs[1].ID)
	}
	parsed, err := chaincode.ParsePackage(pkgs[1].Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !parsed.IsCCaaS() || pkgs[1].Address != "cc-basic-mychannel."+org2NS+".svc.cluster.local:9999" {
		t.Errorf("package for Org2: ccaas %v address %s", parsed.IsCCaaS(), pkgs[1].Address)
	}
	k := byKind(mustObjects(t, n, defaultMaterial(t)))
	dep := k["Deployment"][org2NS+"/cc-basic-mychannel"].(*appsv1.Deployment)
	env := map[string]string{}
	for _, e := range dep.Spec.Template.Spec.Containers[0].Env {
		env[e.Name] = e.Value
	}
	if env["CHAINCODE_ID"] != pkgs[1].ID || env["CHAINCODE_SERVER_ADDRESS"] != "0.0.0.0:9999" {
		t.Errorf("chaincode env %v", env)
	}
	if dep.Spec.Template.Spec.Containers[0].Image != "weft-cc-basic:1.0" {
		t.Errorf("default chaincode image %s", dep.Spec.Template.Spec.Containers[0].Image)
	}
	if sc := dep.Spec.Template.Spec.SecurityContext; sc == nil || !*sc.RunAsNonRoot {
		t.Error("chaincode pod may run as root")
	}
}

func TestEndpoints(t *testing.T) {
	eps, err := Endpoints(defaultNetwork())
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) != 7 {
		t.Fatalf("%d endpoints", len(eps))
	}
	var got []string
	for _, e := range eps {
		got = append(got, string(e.Kind)+" "+e.Node+" "+e.Internal+" "+e.External)
	}
	for _, want := range []string{
		"ca ca.org1.example.com ca." + org1NS + ".svc.cluster.local:7054 ",
		"orderer orderer1.example.com orderer1." + ordNS + ".svc.cluster.local:7050 ",
		"peer peer0.org2.example.com peer0." + org2NS + ".svc.cluster.local:7051 ",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("missing %q in %v", want, got)
		}
	}
}

func TestLabels(t *testing.T) {
	long := strings.Repeat("a", 60)
	cases := []struct {
		in     []string
		strict bool
		want   string
	}{
		{[]string{"test-network", "Org1"}, false, "test-network-org1"},
		{[]string{"net", "OrdererOrg"}, false, "net-ordererorg"},
		{[]string{"cc", "basic", "mychannel"}, true, "cc-basic-mychannel"},
		// Case only differs: strict names keep apart with a hash.
		{[]string{"cc", "Basic", "mychannel"}, true, "cc-basic-mychannel-"},
		{[]string{"cc", "my_cc", "ch.one"}, true, "cc-my-cc-ch-one-"},
		{[]string{long, "Org1"}, false, strings.Repeat("a", 54) + "-"},
	}
	for _, c := range cases {
		got := makeLabel(strings.Join(c.in, "-"), !c.strict)
		ok := got == c.want
		if strings.HasSuffix(c.want, "-") {
			ok = strings.HasPrefix(got, c.want) && len(got) == len(c.want)+8
		}
		if !ok || len(got) > 63 {
			t.Errorf("label(%v) = %q, want %q", c.in, got, c.want)
		}
	}
	if makeLabel("cc-Basic-x", false) == makeLabel("cc-basic-x", false) {
		t.Error("strict labels collide on case")
	}
}
