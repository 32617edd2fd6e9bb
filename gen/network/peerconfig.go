package network

import (
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"weft/internal/atomicfile"
	nodepeer "weft/node/peer"
	"weft/spec"
)

// PeerConfigPath is the core.yaml of one peer.
func (l Layout) PeerConfigPath(host string) string {
	return filepath.Join(l.NodeDir(host), "core.yaml")
}

// PeerOps returns the operations port of peer p of the k-th org.
func (e Endpoints) PeerOps(k, p int) int { return e.OpsBase + 1000 + 100*k + p }

// PeerConfig is the core.yaml of peer p of org k: TLS on (apps connect
// with server-authenticated TLS, as with Fabric's test network), the
// Gateway enabled, the membership endpoint and bootstrap peers set, paths
// relative to the config file.
func PeerConfig(n *spec.Network, l Layout, ep Endpoints, k, p int) (*nodepeer.Config, error) {
	if k < 0 || k >= len(n.Orgs) {
		return nil, fmt.Errorf("org index %d out of range", k)
	}
	o := &n.Orgs[k]
	hosts := o.PeerHosts()
	if p < 0 || p >= len(hosts) {
		return nil, fmt.Errorf("org %s: peer index %d out of range", o.Name, p)
	}
	host := hosts[p]
	cfgDir := l.NodeDir(host)
	rel := func(path string) string {
		r, err := filepath.Rel(cfgDir, path)
		if err != nil {
			return path
		}
		return r
	}
	node := l.PeerDir(o, host)
	id, _ := n.MSPID(o.Name)
	port := ep.Peer(k, p)
	// The org's other peers bootstrap this one's membership: only peer 0
	// is an anchor, so peers 1.. are learnt by other orgs through it.
	var bootstrap nodepeer.AddressList
	for q := range hosts {
		if q != p {
			bootstrap = append(bootstrap, ep.Address(ep.Peer(k, q)))
		}
	}
	return &nodepeer.Config{
		Peer: nodepeer.Peer{
			ID:            host,
			ListenAddress: fmt.Sprintf("127.0.0.1:%d", port),
			Address:       ep.Address(port),
			TLS: nodepeer.PeerTLS{
				Enabled:  true,
				Cert:     nodepeer.File{File: rel(filepath.Join(node, "tls", "server.crt"))},
				Key:      nodepeer.File{File: rel(filepath.Join(node, "tls", "server.key"))},
				RootCert: nodepeer.File{File: rel(filepath.Join(node, "tls", "ca.crt"))},
			},
			MSPConfigPath:  rel(filepath.Join(node, "msp")),
			LocalMSPID:     id,
			FileSystemPath: "data",
			Gateway:        nodepeer.Gateway{Enabled: true},
			Gossip:         nodepeer.Gossip{ExternalEndpoint: ep.Address(port), Bootstrap: bootstrap},
		},
		Operations: nodepeer.Operations{ListenAddress: fmt.Sprintf("127.0.0.1:%d", ep.PeerOps(k, p))},
	}, nil
}

// WritePeerConfigs writes core.yaml for every peer of the spec.
func WritePeerConfigs(n *spec.Network, l Layout, ep Endpoints) ([]string, error) {
	var paths []string
	for k := range n.Orgs {
		for p, host := range n.Orgs[k].PeerHosts() {
			c, err := PeerConfig(n, l, ep, k, p)
			if err != nil {
				return nil, err
			}
			data, err := yaml.Marshal(c)
			if err != nil {
				return nil, err
			}
			path := l.PeerConfigPath(host)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return nil, err
			}
			if err := atomicfile.Write(path, data, 0o644); err != nil {
				return nil, fmt.Errorf("peer %s: write config: %w", host, err)
			}
			paths = append(paths, path)
		}
	}
	return paths, nil
}
