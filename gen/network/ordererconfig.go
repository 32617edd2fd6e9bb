package network

import (
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"weft/internal/atomicfile"
	nodeorderer "weft/node/orderer"
	"weft/spec"
)

// NodeDir is where a node's config file and runtime data live.
func (l Layout) NodeDir(host string) string { return filepath.Join(l.Dir, "nodes", host) }

// OrdererConfigPath is the orderer.yaml of one orderer.
func (l Layout) OrdererConfigPath(host string) string {
	return filepath.Join(l.NodeDir(host), "orderer.yaml")
}

// OrdererOps returns the operations port of orderer i.
func (e Endpoints) OrdererOps(i int) int { return e.OpsBase + 100*i }

// OrdererConfig is the orderer.yaml of orderer i of the spec: mutual TLS on
// the client/cluster listener (client certificates from any org's TLS CA),
// the participation API restricted to the orderer org's admin, and paths
// relative to the config file so the data directory can move.
func OrdererConfig(n *spec.Network, l Layout, ep Endpoints, i int) (*nodeorderer.Config, error) {
	hosts := n.OrdererHosts()
	if i < 0 || i >= len(hosts) {
		return nil, fmt.Errorf("orderer index %d out of range (spec has %d orderers)", i, len(hosts))
	}
	host := hosts[i]
	cfgDir := l.NodeDir(host)
	rel := func(p string) string {
		r, err := filepath.Rel(cfgDir, p)
		if err != nil {
			return p
		}
		return r
	}
	node := l.OrdererDir(n, host)
	ordTLSCA := filepath.Join(l.OrdererOrgDir(n), "tlsca", "tlsca."+n.Orderer.Domain+"-cert.pem")
	clientRoots := []string{rel(ordTLSCA)}
	for k := range n.Orgs {
		o := &n.Orgs[k]
		clientRoots = append(clientRoots, rel(filepath.Join(l.PeerOrgDir(o), "tlsca", "tlsca."+o.Domain+"-cert.pem")))
	}
	id, _ := n.MSPID(n.Orderer.Org)
	serverTLS := nodeorderer.TLS{
		Enabled:            true,
		PrivateKey:         rel(filepath.Join(node, "tls", "server.key")),
		Certificate:        rel(filepath.Join(node, "tls", "server.crt")),
		RootCAs:            []string{rel(filepath.Join(node, "tls", "ca.crt"))},
		ClientAuthRequired: true,
		ClientRootCAs:      clientRoots,
	}
	adminTLS := serverTLS
	adminTLS.ClientRootCAs = []string{rel(ordTLSCA)}
	return &nodeorderer.Config{
		General: nodeorderer.General{
			ListenAddress: "127.0.0.1",
			ListenPort:    ep.Orderer(i),
			TLS:           serverTLS,
			Cluster: nodeorderer.Cluster{
				ClientCertificate: serverTLS.Certificate,
				ClientPrivateKey:  serverTLS.PrivateKey,
			},
			LocalMSPDir:     rel(filepath.Join(node, "msp")),
			LocalMSPID:      id,
			BootstrapMethod: "none",
		},
		FileLedger: nodeorderer.FileLedger{Location: "ledger"},
		Admin: nodeorderer.Admin{
			ListenAddress:    fmt.Sprintf("127.0.0.1:%d", ep.OrdererAdmin(i)),
			TLS:              adminTLS,
			AllowedClientCNs: []string{"Admin@" + n.Orderer.Domain},
		},
		Operations:           nodeorderer.Operations{ListenAddress: fmt.Sprintf("127.0.0.1:%d", ep.OrdererOps(i))},
		ChannelParticipation: nodeorderer.ChannelParticipation{Enabled: true, MaxRequestBodySize: 1 << 20},
	}, nil
}

// WriteOrdererConfigs writes orderer.yaml for every orderer of the spec and
// returns their paths.
func WriteOrdererConfigs(n *spec.Network, l Layout, ep Endpoints) ([]string, error) {
	var paths []string
	for i, host := range n.OrdererHosts() {
		c, err := OrdererConfig(n, l, ep, i)
		if err != nil {
			return nil, err
		}
		data, err := yaml.Marshal(c)
		if err != nil {
			return nil, err
		}
		p := l.OrdererConfigPath(host)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := atomicfile.Write(p, data, 0o644); err != nil {
			return nil, fmt.Errorf("orderer %s: write config: %w", host, err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}
