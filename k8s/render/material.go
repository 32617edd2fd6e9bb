package render

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"weft/gen/cryptogen"
	"weft/gen/network"
	"weft/internal/atomicfile"
	v1alpha1 "weft/k8s/api/v1alpha1"
)

// Material is what rendering needs besides the resource.
type Material struct {
	// Files is the crypto tree gen/network lays out, by slash path relative
	// to the data directory, e.g.
	// "organizations/peerOrganizations/org1.example.com/peers/peer0.org1.example.com/tls/server.key".
	Files map[string][]byte
	// Blocks are the channels' genesis blocks, by channel name, with the
	// orderers and anchor peers at their in-cluster addresses.
	Blocks map[string][]byte
}

// blockDir holds the cluster's genesis blocks inside a data directory, apart
// from the loopback ones `weft generate` writes to channel-artifacts/.
const blockDir = "k8s-channel-artifacts"

// GenerateMaterial writes the crypto material of a Network under dir, with
// node TLS certificates that also name the nodes' Service and external
// host names, and one genesis block per channel with in-cluster addresses.
// Like `weft generate` it keeps what exists: organizations only gain
// missing nodes and users, and existing genesis blocks stay. progress may be
// nil.
func GenerateMaterial(res *v1alpha1.Network, dir string, progress io.Writer) error {
	t, err := newTopology(res)
	if err != nil {
		return err
	}
	if dir == "" {
		return errors.New("crypto directory: is empty")
	}
	l := network.Layout{Dir: dir}
	_, statErr := os.Stat(l.Organizations())
	if err := cryptogen.GenerateWith(t.cryptoConfig(), l.Organizations(),
		cryptogen.Options{Progress: progress, Extend: statErr == nil}); err != nil {
		return fmt.Errorf("crypto material: %w", err)
	}
	for _, ch := range t.net.Channels {
		p := filepath.Join(dir, blockDir, ch.Name+".block")
		if _, err := os.Stat(p); err == nil {
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("channel %q: %w", ch.Name, err)
		}
		block, err := t.genesis(ch.Name, l)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("channel %q: %w", ch.Name, err)
		}
		if err := atomicfile.Write(p, block, 0o644); err != nil {
			return fmt.Errorf("channel %q: write genesis block: %w", ch.Name, err)
		}
	}
	return nil
}

// cryptoConfig is gen/network's crypto config with every node spelled out
// and given its cluster names as SANs.
func (t *topology) cryptoConfig() cryptogen.Config {
	cfg := network.CryptoConfig(t.net)
	specs := func(nodes []node) []cryptogen.NodeSpec {
		var out []cryptogen.NodeSpec
		for _, nd := range nodes {
			out = append(out, cryptogen.NodeSpec{Hostname: nd.name, SANS: nd.sans()})
		}
		return out
	}
	cfg.OrdererOrgs[0].Specs = specs(t.orderers)
	for k := range cfg.PeerOrgs {
		cfg.PeerOrgs[k].Template = cryptogen.NodeTemplate{}
		cfg.PeerOrgs[k].Specs = specs(t.orgPeers(t.net.Orgs[k].Name))
	}
	return cfg
}

// LoadMaterial reads the material of a Network from dir (as written by
// GenerateMaterial) and checks it covers the network: every file rendering
// uses exists, every node's TLS certificate names its in-cluster host, and
// every channel has a genesis block.
func LoadMaterial(res *v1alpha1.Network, dir string) (*Material, error) {
	t, err := newTopology(res)
	if err != nil {
		return nil, err
	}
	m := &Material{Files: map[string][]byte{}, Blocks: map[string][]byte{}}
	root := filepath.Join(dir, "organizations")
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		m.Files[filepath.ToSlash(rel)] = data
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("crypto directory %s: %w", dir, err)
	}
	for _, ch := range t.net.Channels {
		b, err := os.ReadFile(filepath.Join(dir, blockDir, ch.Name+".block"))
		if err != nil {
			return nil, fmt.Errorf("channel %q: genesis block: %w (run GenerateMaterial / weft render k8s --crypto)", ch.Name, err)
		}
		m.Blocks[ch.Name] = b
	}
	if err := t.checkMaterial(m); err != nil {
		return nil, err
	}
	return m, nil
}

// checkMaterial reports missing files and TLS certificates that do not
// name the node's Service, which would make every in-cluster TLS
// handshake fail.
func (t *topology) checkMaterial(m *Material) error {
	if m == nil {
		return errors.New("material is nil")
	}
	var errs []error
	for _, group := range [][]node{t.orderers, t.peers} {
		for _, nd := range group {
			dir := t.nodeDir(&nd)
			for _, f := range []string{"tls/server.crt", "tls/server.key", "tls/ca.crt", "msp/keystore/priv_sk", "msp/config.yaml"} {
				if _, ok := m.Files[dir+"/"+f]; !ok {
					errs = append(errs, fmt.Errorf("%s %s: %s is missing from the crypto material", nd.kind, nd.host, f))
				}
			}
			if crt, ok := m.Files[dir+"/tls/server.crt"]; ok {
				if err := certNames(crt, nd.internal()); err != nil {
					errs = append(errs, fmt.Errorf("%s %s: TLS certificate: %w (material from `weft generate` has loopback names only; generate it for the cluster)", nd.kind, nd.host, err))
				}
			}
		}
	}
	for _, nd := range t.cas {
		dir := t.orgDir(nd.orgName)
		for _, f := range []string{"ca/priv_sk", "ca/" + nd.host + "-cert.pem"} {
			if _, ok := m.Files[dir+"/"+f]; !ok {
				errs = append(errs, fmt.Errorf("ca of org %s: %s is missing from the crypto material", nd.orgName, f))
			}
		}
	}
	for _, ch := range t.net.Channels {
		if len(m.Blocks[ch.Name]) == 0 {
			errs = append(errs, fmt.Errorf("channel %q: genesis block is missing", ch.Name))
		}
	}
	return errors.Join(errs...)
}

func certNames(pemBytes []byte, host string) error {
	b, _ := pem.Decode(pemBytes)
	if b == nil {
		return errors.New("not PEM")
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return err
	}
	if !slices.Contains(c.DNSNames, host) {
		return fmt.Errorf("does not name %s (it names %s)", host, strings.Join(c.DNSNames, ", "))
	}
	return nil
}

// layoutRel converts a gen/network layout path (built on an empty Dir) to a
// Material key.
func layoutRel(p string) string { return path.Clean(filepath.ToSlash(p)) }

// orgDir and nodeDir are Material key prefixes.
func (t *topology) orgDir(org string) string {
	l := network.Layout{}
	if org == t.net.Orderer.Org {
		return layoutRel(l.OrdererOrgDir(t.net))
	}
	return layoutRel(l.PeerOrgDir(t.net.Org(org)))
}

func (t *topology) nodeDir(nd *node) string {
	l := network.Layout{}
	if nd.kind == v1alpha1.KindOrderer {
		return layoutRel(l.OrdererDir(t.net, nd.host))
	}
	return layoutRel(l.PeerDir(nd.org, nd.host))
}

// files returns the Material entries under prefix, relative to it, sorted.
func (m *Material) files(prefix string) []string {
	var out []string
	for k := range m.Files {
		if rest, ok := strings.CutPrefix(k, prefix+"/"); ok {
			out = append(out, rest)
		}
	}
	slices.Sort(out)
	return out
}
