package v1alpha1

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"weft/spec"
)

func defaultNetwork() *Network {
	return &Network{
		ObjectMeta: metav1.ObjectMeta{Name: "test-network", Namespace: "weft"},
		Spec:       NetworkSpec{FabricNetwork: FromSpec(spec.Default())},
	}
}

func TestConversionRoundTrip(t *testing.T) {
	s := spec.Default()
	s.Orgs[1].CA = new(bool)
	s.Chaincodes = append(s.Chaincodes, spec.Chaincode{
		Name: "ext", Channel: "mychannel", CCaaS: &spec.CCaaS{Address: "ext:9999", TLS: true},
		InitRequired: true, InitArgs: []string{"Init", "a"}, Endorsement: "OR('Org1MSP.peer')",
	})
	s.SetDefaults()
	n := &Network{ObjectMeta: metav1.ObjectMeta{Name: "other"}, Spec: NetworkSpec{FabricNetwork: FromSpec(s)}}
	got := n.NetworkSpec()
	if !reflect.DeepEqual(got, s) {
		t.Fatalf("round trip changed the spec:\n got %+v\nwant %+v", got, s)
	}
	// The conversion copies: changing the result leaves the resource alone.
	*got.Orgs[1].CA = true
	if *n.Spec.Orgs[1].CA {
		t.Error("NetworkSpec shares a pointer with the resource")
	}
}

// The mirror must keep up with package spec: every exported spec field needs
// a counterpart with the same JSON name.
func TestMirrorCoversSpec(t *testing.T) {
	pairs := []struct{ spec, mirror reflect.Type }{
		{reflect.TypeFor[spec.Network](), reflect.TypeFor[FabricNetwork]()},
		{reflect.TypeFor[spec.Orderer](), reflect.TypeFor[OrdererSpec]()},
		{reflect.TypeFor[spec.BatchSize](), reflect.TypeFor[BatchSizeSpec]()},
		{reflect.TypeFor[spec.Org](), reflect.TypeFor[OrgSpec]()},
		{reflect.TypeFor[spec.Channel](), reflect.TypeFor[ChannelSpec]()},
		{reflect.TypeFor[spec.Chaincode](), reflect.TypeFor[ChaincodeSpec]()},
		{reflect.TypeFor[spec.CCaaS](), reflect.TypeFor[CCaaSSpec]()},
	}
	for _, p := range pairs {
		have := map[string]bool{}
		for f := range p.mirror.Fields() {
			have[jsonName(f)] = true
		}
		for f := range p.spec.Fields() {
			if f.IsExported() && !have[jsonName(f)] {
				t.Errorf("%s.%s (json %q) has no field in %s", p.spec, f.Name, jsonName(f), p.mirror)
			}
		}
	}
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}

func TestNetworkSpecTakesResourceName(t *testing.T) {
	n := defaultNetwork()
	n.Name = "from-metadata"
	n.Spec.Name = ""
	if got := n.NetworkSpec().Name; got != "from-metadata" {
		t.Fatalf("name %q", got)
	}
}

func TestValidate(t *testing.T) {
	zero := resource.MustParse("0")
	cases := []struct {
		name   string
		mutate func(*Network)
		want   []string // field paths that must be named; empty means valid
	}{
		{"default", func(*Network) {}, nil},
		{"nodeport ok", func(n *Network) {
			n.Spec.Exposure = Exposure{Type: ExposeNodePort, ExternalAddress: "192.168.1.10", NodePortBase: 30100}
		}, nil},
		{"ingress ok", func(n *Network) {
			n.Spec.Exposure = Exposure{Type: ExposeIngress, HostSuffix: "fabric.example.org"}
		}, nil},
		{"spec error keeps its path", func(n *Network) { n.Spec.Orgs[0].Peers = 0 }, []string{"spec.orgs[0].peers"}},
		{"unknown exposure", func(n *Network) { n.Spec.Exposure.Type = "Tunnel" }, []string{"spec.exposure.type"}},
		{"nodeport without address", func(n *Network) { n.Spec.Exposure.Type = ExposeNodePort }, []string{"spec.exposure.externalAddress"}},
		{"nodeport bad address", func(n *Network) {
			n.Spec.Exposure = Exposure{Type: ExposeNodePort, ExternalAddress: "not an address"}
		}, []string{"spec.exposure.externalAddress"}},
		{"node ports overflow", func(n *Network) {
			n.Spec.Exposure = Exposure{Type: ExposeNodePort, ExternalAddress: "10.0.0.1", NodePortBase: 32765}
		}, []string{"spec.exposure.nodePortBase"}},
		{"node port base without NodePort", func(n *Network) { n.Spec.Exposure.NodePortBase = 30000 }, []string{"spec.exposure.nodePortBase"}},
		{"ingress without suffix", func(n *Network) { n.Spec.Exposure.Type = ExposeIngress }, []string{"spec.exposure.hostSuffix"}},
		{"bad suffix", func(n *Network) {
			n.Spec.Exposure = Exposure{Type: ExposeIngress, HostSuffix: "Upper.Case"}
		}, []string{"spec.exposure.hostSuffix"}},
		{"pull policy", func(n *Network) { n.Spec.ImagePullPolicy = "Sometimes" }, []string{"spec.imagePullPolicy"}},
		{"image with space", func(n *Network) { n.Spec.Image = "weft latest" }, []string{"spec.image"}},
		{"chaincode image for unknown chaincode", func(n *Network) {
			n.Spec.ChaincodeImages = []ChaincodeImage{{Name: "nope", Image: "x:1"}}
		}, []string{"spec.chaincodeImages[0].name"}},
		{"chaincode image twice", func(n *Network) {
			n.Spec.ChaincodeImages = []ChaincodeImage{{Name: "basic", Image: "x:1"}, {Name: "basic", Image: "y:1"}}
		}, []string{"spec.chaincodeImages[1].name"}},
		{"empty chaincode image", func(n *Network) {
			n.Spec.ChaincodeImages = []ChaincodeImage{{Name: "basic"}}
		}, []string{"spec.chaincodeImages[0].image"}},
		{"zero storage", func(n *Network) { n.Spec.Storage.Peer.Size = &zero }, []string{"spec.storage.peer.size"}},
		{"bad storage class", func(n *Network) {
			c := "Bad_Class"
			n.Spec.Storage.Orderer.StorageClassName = &c
		}, []string{"spec.storage.orderer.storageClassName"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := defaultNetwork()
			c.mutate(n)
			err := n.Validate()
			if len(c.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error; want one naming %v", c.want)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w+": ") {
					t.Errorf("error %q does not name %s", err, w)
				}
			}
		})
	}
}

// The generated CRD must parse and carry the schema bits the API relies on.
func TestCRD(t *testing.T) {
	raw, err := os.ReadFile("../../crd/weft.dev_networks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var crd map[string]any
	if err := yaml.Unmarshal(raw, &crd); err != nil {
		t.Fatalf("CRD YAML: %v", err)
	}
	get := func(path ...any) any {
		var cur any = crd
		for _, p := range path {
			switch k := p.(type) {
			case string:
				m, _ := cur.(map[string]any)
				cur = m[k]
			case int:
				l, _ := cur.([]any)
				if k >= len(l) {
					return nil
				}
				cur = l[k]
			}
		}
		return cur
	}
	if g := get("spec", "group"); g != "weft.dev" {
		t.Errorf("group %v", g)
	}
	if s := get("spec", "names", "shortNames", 0); s != "wnet" {
		t.Errorf("short name %v", s)
	}
	v := []any{"spec", "versions", 0}
	if get(append(v, "name")...) != "v1alpha1" || get(append(v, "subresources", "status")...) == nil {
		t.Errorf("version or status subresource missing")
	}
	var cols []string
	for _, c := range get(append(v, "additionalPrinterColumns")...).([]any) {
		cols = append(cols, c.(map[string]any)["name"].(string))
	}
	if strings.Join(cols, ",") != "Orgs,Channels,Phase,Age" {
		t.Errorf("printer columns %v", cols)
	}
	props := append(v, "schema", "openAPIV3Schema", "properties", "spec", "properties")
	checks := []struct {
		path []any
		want any
	}{
		{[]any{"orderer", "properties", "nodes", "minimum"}, float64(1)},
		{[]any{"orderer", "properties", "nodes", "maximum"}, float64(15)},
		{[]any{"orgs", "items", "properties", "name", "pattern"}, "^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$"},
		{[]any{"exposure", "properties", "type", "enum", 3}, "Ingress"},
		{[]any{"exposure", "properties", "type", "default"}, "ClusterIP"},
		{[]any{"exposure", "properties", "nodePortBase", "maximum"}, float64(32767)},
		{[]any{"exposure", "x-kubernetes-validations", 0, "message"}, "externalAddress is required for type NodePort"},
		{[]any{"imagePullPolicy", "enum", 2}, "Never"},
		{[]any{"storage", "properties", "peer", "properties", "size", "x-kubernetes-int-or-string"}, true},
	}
	for _, c := range checks {
		if got := get(append(props, c.path...)...); got != c.want {
			t.Errorf("spec.%v = %v; want %v", c.path, got, c.want)
		}
	}
	status := append(v, "schema", "openAPIV3Schema", "properties", "status", "properties")
	if get(append(status, "conditions", "x-kubernetes-list-type")...) != "map" ||
		get(append(status, "chaincodes", "items", "properties", "conditions")...) == nil {
		t.Error("status conditions are not lists keyed by type")
	}
}
