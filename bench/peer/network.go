// Package peer measures a whole weft network end to end, as Hyperledger's
// tape tool does for Fabric: clients build proposals, have them endorsed
// through the Gateway by the organisations the endorsement policy needs,
// sign and submit the transactions and wait for their commit status. It
// reports committed transactions per second and latency next to the
// ECDSA-only ceiling of the same transaction shape on the same machine.
package peer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/grpc"

	benchorderer "weft/bench/orderer"
	"weft/comm"
	"weft/gen/network"
	"weft/msp"
	"weft/spec"
)

// Network is a generated network seen from the benchmark: where its nodes
// listen and which identities the clients use. It is either opened (the
// nodes run already) or started (the benchmark owns the processes).
type Network struct {
	Spec    *spec.Network
	Layout  network.Layout
	Ep      network.Endpoints
	Channel string
	// Orgs are the indexes in Spec.Orgs of the channel's organisations.
	Orgs []int

	procs []*process
}

// Files `weft up` leaves in a data directory: the spec it brought up and
// the port layout it chose.
const (
	upSpecFile      = "network.yaml"
	upEndpointsFile = "endpoints.json"
)

// Open describes a network that `weft generate` or `weft up` wrote under
// dir, whose nodes are already running. sp is the spec it was generated
// from; nil means the spec `weft up` saved there, else the built-in one.
// The endpoints are those `weft up` saved, else the defaults `weft
// generate` uses.
func Open(dir string, sp *spec.Network, channel string) (*Network, error) {
	if dir == "" {
		return nil, errors.New("network: data directory is required")
	}
	if _, err := os.Stat(network.Layout{Dir: dir}.Organizations()); err != nil {
		return nil, fmt.Errorf("network: %s holds no generated network (run `weft generate --data %s` or `weft up`): %w", dir, dir, err)
	}
	if sp == nil {
		path := filepath.Join(dir, upSpecFile)
		if _, err := os.Stat(path); err == nil {
			if sp, err = spec.Load(path); err != nil {
				return nil, fmt.Errorf("network: %w", err)
			}
		} else {
			sp = spec.Default()
		}
	}
	ep := network.DefaultEndpoints()
	if raw, err := os.ReadFile(filepath.Join(dir, upEndpointsFile)); err == nil {
		if err := json.Unmarshal(raw, &ep); err != nil {
			return nil, fmt.Errorf("network: %s: %w", filepath.Join(dir, upEndpointsFile), err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("network: %w", err)
	}
	return describe(dir, sp, ep, channel)
}

func describe(dir string, sp *spec.Network, ep network.Endpoints, channel string) (*Network, error) {
	if err := sp.Validate(); err != nil {
		return nil, fmt.Errorf("network: spec: %w", err)
	}
	n := &Network{Spec: sp, Layout: network.Layout{Dir: dir}, Ep: ep, Channel: channel}
	for _, ch := range sp.Channels {
		if ch.Name != channel {
			continue
		}
		for _, name := range ch.Orgs {
			for k := range sp.Orgs {
				if sp.Orgs[k].Name == name {
					n.Orgs = append(n.Orgs, k)
				}
			}
		}
	}
	if len(n.Orgs) == 0 {
		return nil, fmt.Errorf("network: channel %q: not in the spec or without organisations", channel)
	}
	return n, nil
}

// NetworkOptions describe a throw-away network on loopback: Fabric's test
// network shape (three Raft orderers, Org1 and Org2 with one peer each,
// channel mychannel).
type NetworkOptions struct {
	// Dir receives crypto material, configs, ledgers and node logs; required.
	Dir string
	// Binary is the weft executable started as `node orderer|peer`; required.
	Binary string
	// BatchTimeout (default "200ms") and MaxMessageCount (default 100) cut
	// blocks.
	BatchTimeout    string
	MaxMessageCount uint32
	// Profiling serves /debug/pprof on every node's operations endpoint.
	Profiling bool
	// Progress gets one line per step; nil discards.
	Progress io.Writer
}

// StartNetwork generates a network under opts.Dir, starts its nodes as
// processes, joins the orderers (channel participation API) and the peers
// (cscc JoinChain) to the channel and waits until every peer has the
// genesis block. On error everything started is stopped again.
func StartNetwork(ctx context.Context, opts NetworkOptions) (n *Network, err error) {
	if opts.Dir == "" || opts.Binary == "" {
		return nil, errors.New("network: Dir and Binary are required")
	}
	if opts.BatchTimeout == "" {
		opts.BatchTimeout = "200ms"
	}
	if opts.MaxMessageCount == 0 {
		opts.MaxMessageCount = 100
	}
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	sp := spec.Default()
	sp.Chaincodes = nil // the benchmark deploys its own
	sp.Orderer.BatchTimeout = opts.BatchTimeout
	sp.Orderer.BatchSize.MaxMessageCount = opts.MaxMessageCount
	sp.Orderer.BatchSize.AbsoluteMaxBytes = 10 << 20
	sp.Orderer.BatchSize.PreferredMaxBytes = 2 << 20
	base, err := freePortBase()
	if err != nil {
		return nil, err
	}
	ep := network.Endpoints{Host: "127.0.0.1", OrdererBase: base, PeerBase: base + 51, OpsBase: base + 5}
	fmt.Fprintf(progress, "generating the network under %s\n", opts.Dir)
	res, err := network.Generate(sp, opts.Dir, network.Options{Endpoints: ep})
	if err != nil {
		return nil, fmt.Errorf("network: generate: %w", err)
	}
	if n, err = describe(opts.Dir, sp, ep, sp.Channels[0].Name); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			n.Stop()
		}
	}()
	var ordererEnv, peerEnv []string
	if opts.Profiling {
		ordererEnv, peerEnv = []string{"ORDERER_GENERAL_PROFILE_ENABLED=true"}, []string{"CORE_PEER_PROFILE_ENABLED=true"}
	}
	for i, o := range res.Orderers {
		p, err := startProcess(opts.Binary, KindOrderer, o.Host, filepath.Join(opts.Dir, o.Host+".log"), n.opsURL(ep.OrdererOps(i)), ordererEnv, "node", "orderer", "--config", o.Config)
		if err != nil {
			return nil, err
		}
		n.procs = append(n.procs, p)
	}
	i := 0
	for k := range sp.Orgs {
		for p := range sp.Orgs[k].PeerHosts() {
			info := res.Peers[i]
			proc, err := startProcess(opts.Binary, KindPeer, info.Host, filepath.Join(opts.Dir, info.Host+".log"), n.opsURL(ep.PeerOps(k, p)), peerEnv, "node", "peer", "--config", info.Config)
			if err != nil {
				return nil, err
			}
			n.procs = append(n.procs, proc)
			i++
		}
	}
	for _, p := range n.procs {
		if err := p.waitHealthy(ctx); err != nil {
			return nil, err
		}
	}
	genesis, err := os.ReadFile(n.Layout.ChannelBlock(n.Channel))
	if err != nil {
		return nil, fmt.Errorf("network: genesis block: %w", err)
	}
	if err := n.joinOrderers(ctx, genesis); err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "orderers joined %s with a Raft leader; joining the peers\n", n.Channel)
	if err := n.joinPeers(ctx, genesis); err != nil {
		return nil, err
	}
	return n, nil
}

func (n *Network) opsURL(port int) string { return fmt.Sprintf("http://%s:%d", n.Ep.Host, port) }

// Stop terminates the processes StartNetwork started; an opened network
// is left alone.
func (n *Network) Stop() {
	for _, p := range n.procs {
		p.cmd.Process.Signal(os.Interrupt)
	}
	for _, p := range n.procs {
		p.stop()
	}
	n.procs = nil
}

// Logs are the node log files of a started network.
func (n *Network) Logs() []string {
	var out []string
	for _, p := range n.procs {
		out = append(out, p.log)
	}
	return out
}

// Node is a node's name and operations URL (for /metrics and /debug/pprof).
type Node struct{ Name, OpsURL string }

// Nodes are every orderer and peer of the spec.
func (n *Network) Nodes() []Node {
	var out []Node
	for i, h := range n.Spec.OrdererHosts() {
		out = append(out, Node{h, n.opsURL(n.Ep.OrdererOps(i))})
	}
	for k := range n.Spec.Orgs {
		for p, h := range n.Spec.Orgs[k].PeerHosts() {
			out = append(out, Node{h, n.opsURL(n.Ep.PeerOps(k, p))})
		}
	}
	return out
}

// MSPID is the MSP ID of org k (an index into Spec.Orgs).
func (n *Network) MSPID(k int) string {
	id, _ := n.Spec.MSPID(n.Spec.Orgs[k].Name)
	return id
}

// Identity loads user ("Admin" or "User1") of org k.
func (n *Network) Identity(k int, user string) (*msp.SigningIdentity, error) {
	o := &n.Spec.Orgs[k]
	s, err := msp.LoadSigningIdentity(n.Layout.UserMSP(o, user), n.MSPID(k))
	if err != nil {
		return nil, fmt.Errorf("network: %s of %s: %w", user, o.Name, err)
	}
	return s, nil
}

// DialPeer connects to peer 0 of org k with server-authenticated TLS, as
// applications do.
func (n *Network) DialPeer(ctx context.Context, k int) (*grpc.ClientConn, error) {
	o := &n.Spec.Orgs[k]
	ca, err := os.ReadFile(filepath.Join(n.Layout.PeerOrgDir(o), "tlsca", "tlsca."+o.Domain+"-cert.pem"))
	if err != nil {
		return nil, fmt.Errorf("network: %s TLS CA: %w", o.Name, err)
	}
	conf, err := comm.ClientTLSConfig(nil, nil, [][]byte{ca}, "localhost")
	if err != nil {
		return nil, fmt.Errorf("network: %s TLS: %w", o.Name, err)
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	addr := n.Ep.Address(n.Ep.Peer(k, 0))
	conn, err := comm.Dial(dctx, addr, conf)
	if err != nil {
		return nil, fmt.Errorf("network: dial peer of %s at %s: %w", o.Name, addr, err)
	}
	return conn, nil
}

// PeerHeight is the channel height peer 0 of org k reports on /metrics.
func (n *Network) PeerHeight(ctx context.Context, k int) (uint64, error) {
	return benchorderer.MetricHeight(ctx, http.DefaultClient, n.opsURL(n.Ep.PeerOps(k, 0)), n.Channel)
}

// WaitPeers waits until peer 0 of every channel org has at least height
// blocks.
func (n *Network) WaitPeers(ctx context.Context, height uint64) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for _, k := range n.Orgs {
		for {
			h, err := n.PeerHeight(ctx, k)
			if err == nil && h >= height {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("network: peer of %s: height %d (%v), want %d: %w", n.Spec.Orgs[k].Name, h, err, height, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

// freePortBase finds a base port such that every port the generated
// layout derives from it (orderers, their admin and operations ports,
// peers of org k at +2000·k and their operations ports) is free on
// 127.0.0.1.
func freePortBase() (int, error) {
	for try := 0; try < 50; try++ {
		base := 20000 + rand.IntN(80)*500
		ok := true
		var ls []net.Listener
		for _, p := range []int{base, base + 3, base + 5, base + 51, base + 100, base + 103, base + 105, base + 200, base + 203, base + 205,
			base + 1005, base + 1105, base + 2051} {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				ok = false
				break
			}
			ls = append(ls, l)
		}
		for _, l := range ls {
			l.Close()
		}
		if ok {
			return base, nil
		}
	}
	return 0, errors.New("network: no free set of ports on 127.0.0.1")
}
