package render

import (
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"weft/gen/network"
	nodeca "weft/node/ca"
	nodeorderer "weft/node/orderer"
	nodepeer "weft/node/peer"
	"weft/spec"
)

// Where things live inside a node's pod.
const (
	configDir = "/etc/weft/config" // ConfigMap
	cryptoDir = "/etc/weft/crypto" // Secret
	dataDir   = "/var/lib/weft"    // PersistentVolumeClaim
)

// layoutRoot is a stand-in data directory: gen/network builds the configs
// with paths relative to <root>/nodes/<host>, which are resolved against it
// to find the Material key each path names.
const layoutRoot = "/weft-layout"

// podFiles maps the files a node config names to paths in the pod. The
// node's own folder (msp/, tls/) lands under cryptoDir; anything else (other
// orgs' TLS CA certificates) under cryptoDir/roots/.
type podFiles struct {
	cfgDir  string // <root>/nodes/<host>
	nodeDir string // Material key of the node's folder
	extra   map[string]string
}

func newPodFiles(host, nodeDir string) *podFiles {
	return &podFiles{cfgDir: filepath.Join(layoutRoot, "nodes", host), nodeDir: nodeDir, extra: map[string]string{}}
}

func (pf *podFiles) path(rel string) string {
	if rel == "" {
		return ""
	}
	key := layoutRel(strings.TrimPrefix(filepath.Join(pf.cfgDir, rel), layoutRoot+"/"))
	if rest, ok := strings.CutPrefix(key, pf.nodeDir+"/"); ok {
		return cryptoDir + "/" + rest
	}
	if key == pf.nodeDir {
		return cryptoDir
	}
	p := "roots/" + path.Base(key)
	pf.extra[key] = p
	return cryptoDir + "/" + p
}

func (pf *podFiles) paths(rels []string) []string {
	var out []string
	for _, r := range rels {
		out = append(out, pf.path(r))
	}
	return out
}

// ordererConfig is gen/network's orderer.yaml for the node, moved into the
// pod: listeners on all interfaces at the fixed ports, files at their pod
// paths, the ledger on the volume.
func (t *topology) ordererConfig(nd *node) ([]byte, *podFiles, error) {
	c, err := network.OrdererConfig(t.net, network.Layout{Dir: layoutRoot}, network.DefaultEndpoints(), nd.index)
	if err != nil {
		return nil, nil, err
	}
	pf := newPodFiles(nd.host, t.nodeDir(nd))
	mapTLS := func(tls *nodeorderer.TLS) {
		tls.PrivateKey, tls.Certificate = pf.path(tls.PrivateKey), pf.path(tls.Certificate)
		tls.RootCAs, tls.ClientRootCAs = pf.paths(tls.RootCAs), pf.paths(tls.ClientRootCAs)
	}
	g := &c.General
	g.ListenAddress, g.ListenPort = "0.0.0.0", OrdererPort
	mapTLS(&g.TLS)
	g.Cluster.ClientCertificate, g.Cluster.ClientPrivateKey = pf.path(g.Cluster.ClientCertificate), pf.path(g.Cluster.ClientPrivateKey)
	g.LocalMSPDir = pf.path(g.LocalMSPDir)
	c.FileLedger.Location = dataDir + "/ledger"
	c.Admin.ListenAddress = "0.0.0.0:" + strconv.Itoa(OrdererAdminPort)
	mapTLS(&c.Admin.TLS)
	c.Operations.ListenAddress = "0.0.0.0:" + strconv.Itoa(OperationsPort)
	data, err := yaml.Marshal(c)
	if err != nil {
		return nil, nil, fmt.Errorf("orderer %s: config: %w", nd.host, err)
	}
	return data, pf, nil
}

// peerConfig is gen/network's core.yaml for the node, moved into the pod;
// the address the peer announces is its Service's DNS name.
func (t *topology) peerConfig(nd *node) ([]byte, *podFiles, error) {
	idx := slices.IndexFunc(t.net.Orgs, func(o spec.Org) bool { return o.Name == nd.orgName })
	c, err := network.PeerConfig(t.net, network.Layout{Dir: layoutRoot}, network.DefaultEndpoints(), idx, nd.index)
	if err != nil {
		return nil, nil, err
	}
	pf := newPodFiles(nd.host, t.nodeDir(nd))
	p := &c.Peer
	p.ListenAddress = "0.0.0.0:" + strconv.Itoa(PeerPort)
	p.Address = nd.internalAddr()
	// Membership: announce the Service name, bootstrap from the org's
	// other peers by theirs.
	p.Gossip.ExternalEndpoint = nd.internalAddr()
	p.Gossip.Bootstrap = nil
	for _, other := range t.orgPeers(nd.orgName) {
		if other.name != nd.name {
			p.Gossip.Bootstrap = append(p.Gossip.Bootstrap, other.internalAddr())
		}
	}
	tls := &p.TLS
	tls.Cert, tls.Key, tls.RootCert = nodepeer.File{File: pf.path(tls.Cert.File)}, nodepeer.File{File: pf.path(tls.Key.File)}, nodepeer.File{File: pf.path(tls.RootCert.File)}
	tls.ClientRootCAs.Files = pf.paths(tls.ClientRootCAs.Files)
	p.MSPConfigPath = pf.path(p.MSPConfigPath)
	p.FileSystemPath = dataDir + "/data"
	c.Operations.ListenAddress = "0.0.0.0:" + strconv.Itoa(OperationsPort)
	data, err := yaml.Marshal(c)
	if err != nil {
		return nil, nil, fmt.Errorf("peer %s: config: %w", nd.host, err)
	}
	return data, pf, nil
}

// CAName is the name a CA serves under (fabric-ca-client's --caname).
func CAName(org string) string { return "ca-" + strings.ToLower(org) }

// CA bootstrap registrar: its name, and the environment variable the CA
// reads its password from (filled from the CAAdminSecretName Secret).
const (
	CAAdminName        = "admin"
	caAdminPassEnv     = "WEFT_CA_ADMIN_PASSWORD"
	CAAdminSecretName  = "ca-admin"
	CAAdminPasswordKey = "password"
)

func (t *topology) caConfig(nd *node) ([]byte, error) {
	// The CA config (node/ca, in the shape of fabric-ca-server-config.yaml):
	// the org's signing CA from the crypto material, a TLS certificate the
	// server issues itself on first start for its Service names (kept on the
	// volume), the database on the volume, and a bootstrap registrar whose
	// password comes from a Secret.
	unlimited := -1
	c := nodeca.Config{
		Port: CAPort, Address: "0.0.0.0",
		TLS: nodeca.TLS{Enabled: true, CertFile: dataDir + "/tls/cert.pem", KeyFile: dataDir + "/tls/key.pem",
			Hosts: append([]string{nd.host}, nd.sans()...)},
		DB:         nodeca.DB{Type: "sqlite", Datasource: dataDir + "/fabric-ca-server.db"},
		Registry:   nodeca.Registry{MaxEnrollments: &unlimited, Identities: []nodeca.Identity{{Name: CAAdminName, PassEnv: caAdminPassEnv, Type: "client"}}},
		Operations: nodeca.Operations{ListenAddress: "0.0.0.0:" + strconv.Itoa(OperationsPort)},
		CAs:        []nodeca.CA{{Name: CAName(nd.orgName), KeyFile: cryptoDir + "/ca/priv_sk", CertFile: cryptoDir + "/ca/" + nd.host + "-cert.pem"}},
	}
	data, err := yaml.Marshal(&c)
	if err != nil {
		return nil, fmt.Errorf("ca of org %s: config: %w", nd.orgName, err)
	}
	return data, nil
}
