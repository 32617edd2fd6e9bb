package render

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"

	v1alpha1 "weft/k8s/api/v1alpha1"
	"weft/spec"
)

// Ports every node listens on inside its pod. Each pod has its own IP, so
// the ports are the same for every node of a kind.
const (
	PeerPort         = 7051
	OrdererPort      = 7050 // client and Raft cluster traffic share it
	OrdererAdminPort = 7053 // channel participation API
	CAPort           = 7054
	OperationsPort   = 9443 // /healthz and /metrics
	ChaincodePort    = 9999
)

// Label keys set on every object.
const (
	LabelNetwork   = "weft.dev/network"
	LabelOrg       = "weft.dev/org"
	LabelNode      = "weft.dev/node"
	LabelName      = "app.kubernetes.io/name"
	LabelComponent = "app.kubernetes.io/component"
	LabelInstance  = "app.kubernetes.io/instance"
	LabelPartOf    = "app.kubernetes.io/part-of"
	LabelManagedBy = "app.kubernetes.io/managed-by"
)

// ClusterDomain is the DNS suffix of in-cluster Service names.
const ClusterDomain = "svc.cluster.local"

var invalidDNS = regexp.MustCompile(`[^a-z0-9-]+`)

// dnsLabel makes a DNS-1123 label of parts joined by "-", folding case
// (fine for org and network names, which are unique regardless of case).
// When anything else had to change (characters, length), a hash of the
// original is appended so that distinct inputs cannot collapse into one name.
func dnsLabel(parts ...string) string { return makeLabel(strings.Join(parts, "-"), true) }

// strictLabel is dnsLabel for names that may differ only in case.
func strictLabel(parts ...string) string { return makeLabel(strings.Join(parts, "-"), false) }

func makeLabel(orig string, foldOK bool) string {
	s := strings.Trim(invalidDNS.ReplaceAllString(strings.ToLower(orig), "-"), "-")
	same := s == orig || (foldOK && s == strings.ToLower(orig))
	if same && s != "" && len(s) <= 63 {
		return s
	}
	sum := sha256.Sum256([]byte(orig))
	h := hex.EncodeToString(sum[:4])
	if len(s) > 54 {
		s = strings.TrimRight(s[:54], "-")
	}
	if s == "" {
		return "x-" + h
	}
	return s + "-" + h
}

// OrgNamespace is the namespace of a peer organization (or of the orderer
// organization when org is the orderer org's name).
func OrgNamespace(network, org string) string { return dnsLabel(network, org) }

// nodeName is the Service and StatefulSet name of a node: its host name
// without the org domain (peer0, orderer2).
func nodeName(host, domain string) string { return strings.TrimSuffix(host, "."+domain) }

// InternalHost is a node's in-cluster DNS name.
func InternalHost(node, namespace string) string { return node + "." + namespace + "." + ClusterDomain }

// chaincodeName names the Deployment and Service of a chaincode: one name
// may be defined on several channels, each its own definition and server.
func chaincodeName(cc *spec.Chaincode) string { return strictLabel("cc", cc.Name, cc.Channel) }

func labels(netName, org, component, node string) map[string]string {
	l := map[string]string{
		LabelNetwork:   netName,
		LabelName:      "weft",
		LabelPartOf:    netName,
		LabelManagedBy: "weft",
	}
	if org != "" {
		l[LabelOrg] = org
	}
	if component != "" {
		l[LabelComponent] = component
	}
	if node != "" {
		l[LabelNode] = node
		l[LabelInstance] = dnsLabel(netName, node)
	}
	return l
}

// selector picks the pods of one node (or of every node of a kind when node
// is empty) within a namespace.
func selector(netName, component, node string) map[string]string {
	s := map[string]string{LabelNetwork: netName, LabelComponent: component}
	if node != "" {
		s[LabelNode] = node
	}
	return s
}

// exposure returns the settings with defaults applied.
func exposure(n *v1alpha1.Network) v1alpha1.Exposure {
	e := n.Spec.Exposure
	if e.Type == "" {
		e.Type = v1alpha1.ExposeClusterIP
	}
	if e.Type == v1alpha1.ExposeNodePort && e.NodePortBase == 0 {
		e.NodePortBase = DefaultNodePortBase
	}
	return e
}

// DefaultNodePortBase is the first node port when spec.exposure.nodePortBase
// is empty: fixed ports let the connection profile be rendered up front.
const DefaultNodePortBase = 30700
