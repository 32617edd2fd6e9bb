package orderer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/comm"
	"weft/gen/network"
	"weft/msp"
	"weft/orderer/participation"
	"weft/spec"
)

// Channel is the channel a throw-away network orders for.
const Channel = "benchchannel"

// NetworkOptions describe a throw-away ordering service on loopback. Zero
// fields take the defaults noted; they match the process-level test
// harness so `weft bench orderer` and the Go benchmark measure the same
// thing.
type NetworkOptions struct {
	// Dir receives crypto material, configs, ledgers and node logs; required.
	Dir string
	// Binary is the weft executable started as `node orderer`; required.
	Binary string
	// Orderers is the number of Raft consenters (default 3).
	Orderers int
	// BatchTimeout (default "200ms") and MaxMessageCount (default 50) cut
	// blocks; AbsoluteMaxBytes is 1 MiB and PreferredMaxBytes 512 KiB.
	BatchTimeout    string
	MaxMessageCount uint32
	// TickInterval of Raft (default "100ms").
	TickInterval string
	// Progress gets one line per step; nil discards.
	Progress io.Writer
}

// Network is a running throw-away ordering service.
type Network struct {
	Spec   *spec.Network
	Layout network.Layout
	Ep     network.Endpoints
	procs  []*exec.Cmd
	done   []chan struct{}
	logs   []string
}

// StartNetwork generates a network under opts.Dir, starts its orderers as
// processes, joins them all to Channel and waits for a Raft leader. On
// error everything started is stopped again.
func StartNetwork(ctx context.Context, opts NetworkOptions) (n *Network, err error) {
	if opts.Dir == "" {
		return nil, errors.New("network: Dir is required")
	}
	if opts.Binary == "" {
		return nil, errors.New("network: Binary is required")
	}
	if opts.Orderers < 0 {
		return nil, fmt.Errorf("network: Orderers %d must not be negative", opts.Orderers)
	}
	if opts.Orderers == 0 {
		opts.Orderers = 3
	}
	if opts.BatchTimeout == "" {
		opts.BatchTimeout = "200ms"
	}
	if opts.MaxMessageCount == 0 {
		opts.MaxMessageCount = 50
	}
	if opts.TickInterval == "" {
		opts.TickInterval = "100ms"
	}
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}

	sp := &spec.Network{
		Name:     "bench",
		Orderer:  spec.Orderer{Org: "OrdererOrg", MSPID: "OrdererMSP", Domain: "example.com", Nodes: opts.Orderers, BatchTimeout: opts.BatchTimeout},
		Orgs:     []spec.Org{{Name: "Org1", Domain: "org1.example.com", Peers: 1, Users: 1}},
		Channels: nil, // the genesis block is built below with bench Raft options
	}
	sp.Orderer.BatchSize.MaxMessageCount = opts.MaxMessageCount
	sp.Orderer.BatchSize.AbsoluteMaxBytes = 1 << 20
	sp.Orderer.BatchSize.PreferredMaxBytes = 512 << 10
	sp.SetDefaults()
	if err := sp.Validate(); err != nil {
		return nil, fmt.Errorf("network: spec: %w", err)
	}
	base, err := freePortBase(10 * 100)
	if err != nil {
		return nil, err
	}
	n = &Network{
		Spec: sp, Layout: network.Layout{Dir: opts.Dir},
		Ep: network.Endpoints{Host: "127.0.0.1", OrdererBase: base, PeerBase: base + 51, OpsBase: base + 5},
	}
	fmt.Fprintf(progress, "generating %d orderers under %s\n", opts.Orderers, opts.Dir)
	if _, err := network.Generate(sp, opts.Dir, network.Options{Endpoints: n.Ep}); err != nil {
		return nil, fmt.Errorf("network: generate: %w", err)
	}
	sp.Channels = []spec.Channel{{Name: Channel, Orgs: []string{"Org1"}}}
	prof, err := network.ChannelProfile(sp, Channel, n.Layout, n.Ep)
	if err != nil {
		return nil, fmt.Errorf("network: channel profile: %w", err)
	}
	prof.Orderer.EtcdRaft.Options.TickInterval = opts.TickInterval
	grp, err := channelconfig.NewChannelGroup(prof)
	if err != nil {
		return nil, fmt.Errorf("network: channel group: %w", err)
	}
	genesis, err := channelconfig.GenesisBlock(Channel, grp)
	if err != nil {
		return nil, fmt.Errorf("network: genesis block: %w", err)
	}
	rawGenesis, err := proto.Marshal(genesis)
	if err != nil {
		return nil, fmt.Errorf("network: genesis block: %w", err)
	}
	if _, err := network.WriteOrdererConfigs(sp, n.Layout, n.Ep); err != nil {
		return nil, fmt.Errorf("network: orderer configs: %w", err)
	}

	defer func() {
		if err != nil {
			n.Stop()
		}
	}()
	for i, host := range sp.OrdererHosts() {
		if err := n.start(opts.Binary, i, host); err != nil {
			return nil, err
		}
	}
	for i := range n.procs {
		if err := n.waitHealthy(ctx, i); err != nil {
			return nil, err
		}
	}
	admin, err := n.adminHTTP()
	if err != nil {
		return nil, err
	}
	for i := range n.procs {
		url := fmt.Sprintf("https://127.0.0.1:%d", n.Ep.OrdererAdmin(i))
		if _, err := participation.Join(ctx, admin, url, rawGenesis); err != nil {
			return nil, fmt.Errorf("network: join orderer %d: %w", i, err)
		}
	}
	fmt.Fprintf(progress, "joined %d orderers to %s, waiting for a leader\n", len(n.procs), Channel)
	if err := n.waitLeader(ctx); err != nil {
		return nil, err
	}
	return n, nil
}

func (n *Network) start(binary string, i int, host string) error {
	logPath := filepath.Join(n.Layout.Dir, host+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("network: orderer %d log: %w", i, err)
	}
	cmd := exec.Command(binary, "node", "orderer", "--config", n.Layout.OrdererConfigPath(host))
	cmd.Stdout, cmd.Stderr = f, f
	setParentDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("network: start orderer %d: %w", i, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); f.Close(); close(done) }()
	n.procs, n.done, n.logs = append(n.procs, cmd), append(n.done, done), append(n.logs, logPath)
	return nil
}

// Stop terminates every orderer (SIGTERM, then SIGKILL after 10 s) and
// waits for them to exit.
func (n *Network) Stop() {
	for _, c := range n.procs {
		c.Process.Signal(os.Interrupt)
	}
	for k, c := range n.procs {
		select {
		case <-n.done[k]:
		case <-time.After(10 * time.Second):
			c.Process.Kill()
			<-n.done[k]
		}
	}
	n.procs, n.done = nil, nil
}

// Logs are the node log files, for failure reports.
func (n *Network) Logs() []string { return n.logs }

// Size is the number of orderers.
func (n *Network) Size() int { return len(n.Spec.OrdererHosts()) }

// Address is orderer i's client endpoint.
func (n *Network) Address(i int) string { return fmt.Sprintf("127.0.0.1:%d", n.Ep.Orderer(i)) }

// OpsURL is orderer i's operations endpoint.
func (n *Network) OpsURL(i int) string { return fmt.Sprintf("http://127.0.0.1:%d", n.Ep.OrdererOps(i)) }

// Client is Org1's User1: its signer and a gRPC connection to orderer i
// over mutual TLS.
func (n *Network) Client(ctx context.Context, i int) (*msp.SigningIdentity, *grpc.ClientConn, error) {
	user := filepath.Join(n.Layout.PeerOrgDir(&n.Spec.Orgs[0]), "users", "User1@org1.example.com")
	signer, err := msp.LoadSigningIdentity(filepath.Join(user, "msp"), "Org1MSP")
	if err != nil {
		return nil, nil, fmt.Errorf("network: User1: %w", err)
	}
	conf, err := n.tlsConfig(filepath.Join(user, "tls"))
	if err != nil {
		return nil, nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := comm.Dial(dctx, n.Address(i), conf)
	if err != nil {
		return nil, nil, fmt.Errorf("network: dial orderer %d: %w", i, err)
	}
	return signer, conn, nil
}

// Height is the largest channel height the orderers report.
func (n *Network) Height(ctx context.Context) (uint64, error) {
	var best uint64
	var errs []error
	for i := range n.Spec.OrdererHosts() {
		h, err := MetricHeight(ctx, http.DefaultClient, n.OpsURL(i), Channel)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		best = max(best, h)
	}
	if len(errs) == len(n.Spec.OrdererHosts()) {
		return 0, errors.Join(errs...)
	}
	return best, nil
}

func (n *Network) waitHealthy(ctx context.Context, i int) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	url := n.OpsURL(i) + "/healthz"
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("network: orderer %d not healthy (log %s): %w", i, n.logs[i], ctx.Err())
		case <-n.done[i]:
			return fmt.Errorf("network: orderer %d exited (log %s)", i, n.logs[i])
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (n *Network) waitLeader(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		for i := range n.procs {
			v, err := Metric(ctx, http.DefaultClient, n.OpsURL(i), "consensus_etcdraft_is_leader", Channel)
			if err == nil && v == 1 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("network: no Raft leader for %s: %w", Channel, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (n *Network) tlsConfig(tlsDir string) (*tls.Config, error) {
	cert, err := os.ReadFile(filepath.Join(tlsDir, "client.crt"))
	if err != nil {
		return nil, fmt.Errorf("network: client TLS certificate: %w", err)
	}
	key, err := os.ReadFile(filepath.Join(tlsDir, "client.key"))
	if err != nil {
		return nil, fmt.Errorf("network: client TLS key: %w", err)
	}
	ca, err := os.ReadFile(filepath.Join(n.Layout.OrdererOrgDir(n.Spec), "tlsca", "tlsca."+n.Spec.Orderer.Domain+"-cert.pem"))
	if err != nil {
		return nil, fmt.Errorf("network: orderer TLS CA: %w", err)
	}
	return comm.ClientTLSConfig(cert, key, [][]byte{ca}, "localhost")
}

func (n *Network) adminHTTP() (*http.Client, error) {
	conf, err := n.tlsConfig(filepath.Join(n.Layout.OrdererOrgDir(n.Spec), "users", "Admin@"+n.Spec.Orderer.Domain, "tls"))
	if err != nil {
		return nil, err
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: conf}}, nil
}

// freePortBase finds base such that base..base+span-1 are free on
// 127.0.0.1; the network's fixed port layout hangs off it.
func freePortBase(span int) (int, error) {
	for try := 0; try < 50; try++ {
		base := 20000 + rand.IntN(400)*100
		ok := true
		var ls []net.Listener
		for p := base; p < base+span && ok; p++ {
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
	return 0, errors.New("network: no free range of ports on 127.0.0.1")
}
