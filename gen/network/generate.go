package network

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/gen/cryptogen"
	"weft/internal/atomicfile"
	"weft/spec"
)

// Options tune Generate.
type Options struct {
	// Progress receives one line per step; nil discards it.
	Progress io.Writer
	// Endpoints places the nodes; the zero value means DefaultEndpoints.
	Endpoints Endpoints
	// EnrollFromCA leaves the peers and users of every org with a CA
	// (spec ca: true) out of the offline material, keeping only its CAs
	// and msp/: weft up enrolls them from the org's running CA. Material
	// that already exists is kept either way.
	EnrollFromCA bool
}

// Result says what Generate produced, for summaries (also as JSON).
type Result struct {
	Dir      string          `json:"dir"`
	Orderers []NodeInfo      `json:"orderers"`
	Peers    []NodeInfo      `json:"peers"`
	Orgs     []OrgInfo       `json:"orgs"`
	Channels []ChannelResult `json:"channels"`
}

// NodeInfo is one orderer or peer.
type NodeInfo struct {
	Host    string `json:"host"`
	Org     string `json:"org"`
	Address string `json:"address"`
	// AdminAddress is the orderer's channel participation API.
	AdminAddress string `json:"adminAddress,omitempty"`
	// Config is the node's configuration file (orderer.yaml or core.yaml).
	Config string `json:"config,omitempty"`
	Dir    string `json:"dir"`
}

// OrgInfo points at an organization's MSP folders.
type OrgInfo struct {
	Name     string `json:"name"`
	MSPID    string `json:"mspID"`
	MSPDir   string `json:"mspDir"`
	AdminMSP string `json:"adminMSP"`
}

// ChannelResult is one channel's genesis block.
type ChannelResult struct {
	Name  string `json:"name"`
	Block string `json:"block"`
	// Created is false when the block already existed and was kept.
	Created bool `json:"created"`
}

// Generate writes the crypto material and channel genesis blocks of n under
// dir. It is idempotent: existing organizations are extended with missing
// nodes and users (never re-keyed), and an existing genesis block is kept,
// because a channel that exists changes only through config updates.
func Generate(n *spec.Network, dir string, opts Options) (*Result, error) {
	if err := n.Validate(); err != nil {
		return nil, err
	}
	ep := opts.Endpoints
	if ep == (Endpoints{}) {
		ep = DefaultEndpoints()
	}
	out := opts.Progress
	if out == nil {
		out = io.Discard
	}
	l := Layout{Dir: dir}

	_, statErr := os.Stat(l.Organizations())
	extend := statErr == nil
	fmt.Fprintf(out, "crypto material: %s\n", l.Organizations())
	cc := CryptoConfig(n)
	if opts.EnrollFromCA {
		for k := range n.Orgs {
			cc.PeerOrgs[k].CAOnly = n.Orgs[k].HasCA()
		}
	}
	if err := cryptogen.GenerateWith(cc, l.Organizations(), cryptogen.Options{Progress: indent(out), Extend: extend}); err != nil {
		return nil, fmt.Errorf("generate crypto material: %w", err)
	}

	res := describe(n, l, ep)
	cfgs, err := WriteOrdererConfigs(n, l, ep)
	if err != nil {
		return nil, err
	}
	for i := range cfgs {
		res.Orderers[i].Config = cfgs[i]
	}
	peerCfgs, err := WritePeerConfigs(n, l, ep)
	if err != nil {
		return nil, err
	}
	for i := range peerCfgs {
		res.Peers[i].Config = peerCfgs[i]
	}
	fmt.Fprintf(out, "node configs: %s\n", filepath.Dir(filepath.Dir(cfgs[0])))
	for _, ch := range n.Channels {
		path := l.ChannelBlock(ch.Name)
		if _, err := os.Stat(path); err == nil {
			fmt.Fprintf(out, "channel %s: genesis block exists, kept: %s\n", ch.Name, path)
			res.Channels = append(res.Channels, ChannelResult{Name: ch.Name, Block: path})
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("channel %q: %w", ch.Name, err)
		}
		block, err := genesis(n, ch.Name, l, ep)
		if err != nil {
			return nil, err
		}
		if err := atomicfile.Write(path, block, 0o644); err != nil {
			return nil, fmt.Errorf("channel %q: write genesis block: %w", ch.Name, err)
		}
		fmt.Fprintf(out, "channel %s: genesis block written: %s\n", ch.Name, path)
		res.Channels = append(res.Channels, ChannelResult{Name: ch.Name, Block: path, Created: true})
	}
	return res, nil
}

func genesis(n *spec.Network, channel string, l Layout, ep Endpoints) ([]byte, error) {
	prof, err := ChannelProfile(n, channel, l, ep)
	if err != nil {
		return nil, err
	}
	group, err := channelconfig.NewChannelGroup(prof)
	if err != nil {
		return nil, fmt.Errorf("channel %q: config: %w", channel, err)
	}
	block, err := channelconfig.GenesisBlock(channel, group)
	if err != nil {
		return nil, fmt.Errorf("channel %q: genesis block: %w", channel, err)
	}
	return proto.Marshal(block)
}

func describe(n *spec.Network, l Layout, ep Endpoints) *Result {
	res := &Result{Dir: l.Dir}
	for i, h := range n.OrdererHosts() {
		res.Orderers = append(res.Orderers, NodeInfo{
			Host: h, Org: n.Orderer.Org, Address: ep.Address(ep.Orderer(i)),
			AdminAddress: ep.Address(ep.OrdererAdmin(i)), Dir: l.OrdererDir(n, h),
		})
	}
	for k := range n.Orgs {
		o := &n.Orgs[k]
		id, _ := n.MSPID(o.Name)
		res.Orgs = append(res.Orgs, OrgInfo{
			Name: o.Name, MSPID: id, MSPDir: filepath.Join(l.PeerOrgDir(o), "msp"), AdminMSP: l.UserMSP(o, "Admin"),
		})
		for p, h := range o.PeerHosts() {
			res.Peers = append(res.Peers, NodeInfo{Host: h, Org: o.Name, Address: ep.Address(ep.Peer(k, p)), Dir: l.PeerDir(o, h)})
		}
	}
	return res
}

// indent prefixes every line written to w with two spaces.
func indent(w io.Writer) io.Writer { return &indentWriter{w: w, bol: true} }

type indentWriter struct {
	w   io.Writer
	bol bool
}

func (iw *indentWriter) Write(p []byte) (int, error) {
	for _, b := range p {
		if iw.bol {
			if _, err := iw.w.Write([]byte("  ")); err != nil {
				return 0, err
			}
		}
		if _, err := iw.w.Write([]byte{b}); err != nil {
			return 0, err
		}
		iw.bol = b == '\n'
	}
	return len(p), nil
}
