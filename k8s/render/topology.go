package render

import (
	"fmt"
	"strconv"

	v1alpha1 "weft/k8s/api/v1alpha1"
	"weft/spec"
)

// node is one CA, orderer or peer as placed on the cluster.
type node struct {
	kind      v1alpha1.NodeKind
	org       *spec.Org // nil for orderers
	orgName   string
	mspID     string
	domain    string
	host      string // Fabric host name, e.g. peer0.org1.example.com
	name      string // Service and StatefulSet name, e.g. peer0
	namespace string
	index     int // position among the org's peers or the orderers
	port      int // the client-facing port
	// extHost and extPort are where clients outside the cluster connect;
	// empty when the node is not exposed or the address is only known
	// once a load balancer is provisioned.
	extHost string
	extPort int
}

func (nd *node) internal() string { return InternalHost(nd.name, nd.namespace) }

func (nd *node) internalAddr() string { return nd.internal() + ":" + strconv.Itoa(nd.port) }

func (nd *node) externalAddr() string {
	if nd.extHost == "" {
		return ""
	}
	return nd.extHost + ":" + strconv.Itoa(nd.extPort)
}

// topology is the placement of a whole network, computed once per render.
type topology struct {
	res       *v1alpha1.Network
	net       *spec.Network
	exp       v1alpha1.Exposure
	ordererNS string
	orderers  []node
	peers     []node // org by org, in spec order
	cas       []node
}

// newTopology validates the resource and places its nodes.
func newTopology(res *v1alpha1.Network) (*topology, error) {
	if res == nil {
		return nil, fmt.Errorf("network is nil")
	}
	if err := res.Validate(); err != nil {
		return nil, fmt.Errorf("network %q: %w", res.Name, err)
	}
	n := res.NetworkSpec()
	t := &topology{res: res, net: n, exp: exposure(res), ordererNS: OrgNamespace(n.Name, n.Orderer.Org)}
	seen := map[string]string{t.ordererNS: "orderer org " + n.Orderer.Org}
	for i := range n.Orgs {
		ns := OrgNamespace(n.Name, n.Orgs[i].Name)
		if prev, ok := seen[ns]; ok {
			return nil, fmt.Errorf("spec.orgs[%d].name: %q gives namespace %q, already used by %s", i, n.Orgs[i].Name, ns, prev)
		}
		seen[ns] = "org " + n.Orgs[i].Name
	}
	ports := newPortAllocator(res, t.exp)
	for i, h := range n.OrdererHosts() {
		nd := node{kind: v1alpha1.KindOrderer, orgName: n.Orderer.Org, mspID: n.Orderer.MSPID, domain: n.Orderer.Domain,
			host: h, name: nodeName(h, n.Orderer.Domain), namespace: t.ordererNS, index: i, port: OrdererPort}
		if err := t.expose(&nd, ports); err != nil {
			return nil, err
		}
		t.orderers = append(t.orderers, nd)
	}
	for k := range n.Orgs {
		o := &n.Orgs[k]
		ns := OrgNamespace(n.Name, o.Name)
		if o.HasCA() {
			t.cas = append(t.cas, node{kind: v1alpha1.KindCA, org: o, orgName: o.Name, mspID: o.MSPID, domain: o.Domain,
				host: "ca." + o.Domain, name: "ca", namespace: ns, port: CAPort})
		}
		for p, h := range o.PeerHosts() {
			nd := node{kind: v1alpha1.KindPeer, org: o, orgName: o.Name, mspID: o.MSPID, domain: o.Domain,
				host: h, name: nodeName(h, o.Domain), namespace: ns, index: p, port: PeerPort}
			if err := t.expose(&nd, ports); err != nil {
				return nil, err
			}
			t.peers = append(t.peers, nd)
		}
	}
	return t, nil
}

func (t *topology) expose(nd *node, ports *portAllocator) error {
	switch t.exp.Type {
	case v1alpha1.ExposeNodePort:
		port, err := ports.take(nd.host)
		if err != nil {
			return err
		}
		nd.extHost, nd.extPort = t.exp.ExternalAddress, port
	case v1alpha1.ExposeLoadBalancer:
		if t.exp.HostSuffix != "" {
			nd.extHost, nd.extPort = nd.name+"."+nd.namespace+"."+t.exp.HostSuffix, nd.port
		}
	case v1alpha1.ExposeIngress:
		nd.extHost, nd.extPort = nd.name+"."+nd.namespace+"."+t.exp.HostSuffix, 443
	}
	return nil
}

// orgNamespace is the namespace of a peer org.
func (t *topology) orgNamespace(org string) string { return OrgNamespace(t.net.Name, org) }

// orgPeers returns the peers of one org.
func (t *topology) orgPeers(org string) []node {
	var out []node
	for _, p := range t.peers {
		if p.orgName == org {
			out = append(out, p)
		}
	}
	return out
}

// sans are the TLS names a node's certificate needs beyond its Fabric host
// name: every form of its Service name and its external host.
func (nd *node) sans() []string {
	out := []string{nd.internal(), nd.name + "." + nd.namespace + ".svc", nd.name + "." + nd.namespace}
	if nd.extHost != "" {
		out = append(out, nd.extHost)
	}
	return out
}

// Endpoints lists every orderer and peer of a Network with its in-cluster
// and external address, in the form of the resource's status.
func Endpoints(res *v1alpha1.Network) ([]v1alpha1.Endpoint, error) {
	t, err := newTopology(res)
	if err != nil {
		return nil, err
	}
	var out []v1alpha1.Endpoint
	for _, group := range [][]node{t.cas, t.orderers, t.peers} {
		for _, nd := range group {
			out = append(out, v1alpha1.Endpoint{Node: nd.host, Org: nd.orgName, Kind: nd.kind,
				Internal: nd.internalAddr(), External: nd.externalAddr()})
		}
	}
	return out, nil
}
