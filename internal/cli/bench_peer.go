package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	benchpeer "weft/bench/peer"
	"weft/client"
	"weft/msp"
	"weft/spec"
)

// benchPeerFlags are the knobs of `weft bench` (the end-to-end benchmark).
type benchPeerFlags struct {
	data, specFile, channel, chaincode, args, endorsers string
	duration                                            time.Duration
	clients, window, valueSize                          int
	maxMessageCount                                     uint32
	batchTimeout, weft, dir, output, profile            string
	keep                                                bool
}

func (f *benchPeerFlags) validate() error {
	switch {
	case f.duration < time.Second:
		return fmt.Errorf("--duration: %s must be at least 1s", f.duration)
	case f.clients <= 0:
		return fmt.Errorf("--clients: %d must be positive", f.clients)
	case f.window <= 0:
		return fmt.Errorf("--window: %d must be positive", f.window)
	case f.clients*f.window > 100000:
		return fmt.Errorf("--clients × --window: %d transactions in flight is more than 100000", f.clients*f.window)
	case f.valueSize < 0:
		return fmt.Errorf("--value-size: %d must not be negative", f.valueSize)
	case f.valueSize > 512<<10:
		return fmt.Errorf("--value-size: %d is over 512 KiB", f.valueSize)
	case f.channel == "":
		return fmt.Errorf("--channel: must not be empty")
	case f.maxMessageCount == 0:
		return fmt.Errorf("--max-message-count: must be positive")
	case f.output != "text" && f.output != "json":
		return fmt.Errorf("--output: %q is not one of text, json", f.output)
	case strings.TrimSpace(strings.Split(f.args, ",")[0]) == "":
		return fmt.Errorf("--args: %q must start with a function name", f.args)
	}
	if d, err := time.ParseDuration(f.batchTimeout); err != nil || d <= 0 {
		return fmt.Errorf("--batch-timeout: %q is not a positive duration", f.batchTimeout)
	}
	if f.data == "" && f.specFile != "" {
		return fmt.Errorf("--spec: only applies with --data (the throw-away network has a fixed shape)")
	}
	return nil
}

const benchPeerLong = `bench measures a whole network end to end the way Hyperledger's tape tool
does: --clients concurrent clients each build a proposal, have it endorsed
through the peer's Gateway by the organisations in --endorsers (default:
every organisation of the channel, which the default MAJORITY endorsement
policy of two orgs needs), sign the transaction, submit it and wait for its
commit status, then start the next one, for --duration. Each client is one
gRPC connection keeping --window transactions in flight; clients alternate
between the organisations' peers and their User1 identities.

Without --data it starts a throw-away network on loopback — three Raft
orderers and one peer each for Org1 and Org2 as "weft node" processes,
channel mychannel — and deploys the chaincode "bench" as a service run
inside this process (a minimal Go chaincode with put/get), then tears
everything down (with --keep, or on failure, the directory and node logs
stay).

With --data it targets a running network that "weft up" or "weft generate"
wrote there. The spec is --spec, else the one "weft up" saved in DIR, else
the built-in one; the ports are those "weft up" saved, else the defaults of
"weft generate". It assumes the nodes run on those endpoints, the orderers
and peer 0 of every channel org joined --channel, and --chaincode
(default: the spec's first on the channel) is committed there and accepts
the --args transaction, e.g. for the asset-transfer "basic" contract:
--args 'CreateAsset,{key},blue,5,Tom,100'.

It reports committed transactions per second, the p50/p99 latency from
proposal to commit status, and the ECDSA-only ceiling for the same
transaction shape: one P-256 sign and verify are timed with fabcrypto in
the same run and multiplied by the operations a transaction needs across
the pipeline (client: proposal, envelope and commit-status signatures;
each endorser: verify proposal, sign endorsement; gateway: verify the
commit-status request; orderer: verify envelope, sign the block; each peer:
verify envelope, every endorsement and the block signature — block costs
shared by the transactions of a block), spread over this machine's cores.
efficiency is committed_tps / ceiling_tps.

--profile DIR writes CPU profiles of the run: bench.pprof for this process
(clients, and the chaincode of a throw-away network) and <node>.pprof for
each node, which must serve /debug/pprof (a throw-away network does so with
--profile; otherwise set peer.profile.enabled / General.Profile.Enabled).`

// addBenchPeer makes cmd (`weft bench`) run the end-to-end benchmark.
func addBenchPeer(cmd *cobra.Command) {
	f := &benchPeerFlags{}
	cmd.Long = benchPeerLong
	cmd.Example = `  weft bench --duration 20s --clients 32
  weft bench -o json --profile ./profiles
  weft bench --data ./weft-data --chaincode basic --args 'CreateAsset,{key},blue,5,Tom,100'
  weft bench orderer --envelopes 5000 --clients 8 --size 1024`
	cmd.Args = cobra.NoArgs
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := f.validate(); err != nil {
			return err
		}
		ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return runBenchPeer(ctx, f, cmd.OutOrStdout(), cmd.ErrOrStderr())
	}
	fl := cmd.Flags()
	fl.StringVar(&f.data, "data", "", "data directory of a running generated network (default: start a throw-away one)")
	fl.StringVar(&f.specFile, "spec", "", "network spec the --data network was generated from (default: the one weft up saved, else the built-in one)")
	fl.StringVar(&f.channel, "channel", "mychannel", "channel to transact on")
	fl.StringVar(&f.chaincode, "chaincode", "", `chaincode to invoke (default: "bench" on a throw-away network, else the spec's first on the channel)`)
	fl.StringVar(&f.args, "args", strings.Join(benchpeer.DefaultArgs, ","), "comma-separated transaction arguments; {key} is a fresh key, {value} filler of --value-size bytes")
	fl.IntVar(&f.valueSize, "value-size", 100, "bytes of {value}")
	fl.StringVar(&f.endorsers, "endorsers", "", "comma-separated MSP IDs that endorse (default: every org of the channel)")
	fl.DurationVar(&f.duration, "duration", 30*time.Second, "how long clients keep submitting")
	fl.IntVar(&f.clients, "clients", 16, "concurrent clients (gRPC connections), spread over the orgs' peers")
	fl.IntVar(&f.window, "window", 4, "transactions each client keeps in flight")
	fl.Uint32Var(&f.maxMessageCount, "max-message-count", 100, "BatchSize.MaxMessageCount of a throw-away channel")
	fl.StringVar(&f.batchTimeout, "batch-timeout", "200ms", "BatchTimeout of a throw-away channel")
	fl.StringVar(&f.weft, "weft", "", "weft executable to start throw-away nodes with (default: this one)")
	fl.StringVar(&f.dir, "dir", "", "directory for the throw-away network (default: a new temporary one)")
	fl.BoolVar(&f.keep, "keep", false, "keep the throw-away network directory afterwards")
	fl.StringVar(&f.profile, "profile", "", "write CPU profiles of the run into this directory")
	fl.StringVarP(&f.output, "output", "o", "text", "output format: text or json")
}

func runBenchPeer(ctx context.Context, f *benchPeerFlags, stdout, stderr io.Writer) (err error) {
	var (
		n       *benchpeer.Network
		network string
	)
	chaincode := f.chaincode
	if f.data != "" {
		var sp *spec.Network // nil: what `weft up` saved, else the built-in spec
		if f.specFile != "" {
			if sp, err = spec.Load(f.specFile); err != nil {
				return fmt.Errorf("--spec: %w", err)
			}
		}
		if n, err = benchpeer.Open(f.data, sp, f.channel); err != nil {
			return fmt.Errorf("--data: %w", err)
		}
		if chaincode == "" {
			for _, cc := range n.Spec.Chaincodes {
				if cc.Channel == f.channel {
					chaincode = cc.Name
					break
				}
			}
			if chaincode == "" {
				return fmt.Errorf("--chaincode: the spec defines none on channel %q; name one", f.channel)
			}
		}
		network = "generated network in " + f.data
	} else {
		if f.channel != "mychannel" {
			return fmt.Errorf("--channel: a throw-away network has only mychannel")
		}
		if chaincode == "" {
			chaincode = "bench"
		}
		stopNet, started, err := startThrowAway(ctx, f, stderr)
		if err != nil {
			return err
		}
		defer func() { stopNet(err) }()
		n = started
		network = "throw-away: 3 Raft orderers, 1 peer each for Org1 and Org2"
		srv, err := benchpeer.DeployKV(ctx, n, chaincode, stderr)
		if err != nil {
			return err
		}
		defer srv.Stop()
	}

	endorsers := splitList(f.endorsers)
	var users []*msp.SigningIdentity
	for _, k := range n.Orgs {
		if f.endorsers == "" {
			endorsers = append(endorsers, n.MSPID(k))
		}
		user, err := n.Identity(k, "User1")
		if err != nil {
			return err
		}
		users = append(users, user)
	}
	var gateways []*client.Gateway
	for c := 0; c < f.clients; c++ {
		i := c % len(n.Orgs)
		conn, err := n.DialPeer(ctx, n.Orgs[i])
		if err != nil {
			return err
		}
		defer conn.Close()
		gateways = append(gateways, &client.Gateway{Conn: conn, Signer: users[i]})
	}
	args := benchpeer.Args{Template: splitList(f.args), ValueSize: f.valueSize, Prefix: fmt.Sprintf("b%x-", time.Now().UnixNano())}
	run := benchpeer.Run{
		Gateways: gateways, Window: f.window, Duration: f.duration, Channel: f.channel, Chaincode: chaincode,
		Endorsers: endorsers, Args: args, Height: func(ctx context.Context) (uint64, error) { return n.PeerHeight(ctx, n.Orgs[0]) },
	}
	fmt.Fprintf(stderr, "warming up (one transaction through each peer)\n")
	warm := run
	warm.Gateways, warm.Window, warm.Duration, warm.Height = gateways[:min(len(gateways), len(n.Orgs))], 1, time.Millisecond, nil
	warm.Args.Prefix += "warm-"
	if _, err := warm.Do(ctx); err != nil {
		return fmt.Errorf("warm-up transaction on %s/%s: %w", f.channel, chaincode, err)
	}
	fmt.Fprintf(stderr, "timing ECDSA P-256 sign and verify\n")
	cost, err := benchpeer.MeasureECDSA(500 * time.Millisecond)
	if err != nil {
		return err
	}

	stopProfiles, err := startProfiles(ctx, f, n)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "running %d clients × %d in flight for %s\n", f.clients, f.window, f.duration)
	cpuBefore, cpuErr := n.SampleCPU()
	res, runErr := run.Do(ctx)
	var cpu benchpeer.CPUTimes
	if cpuErr == nil {
		var cpuAfter benchpeer.CPUTimes
		if cpuAfter, cpuErr = n.SampleCPU(); cpuErr == nil {
			cpu = cpuAfter.Sub(cpuBefore)
		}
	}
	profFiles, profErr := stopProfiles()
	if runErr != nil {
		return fmt.Errorf("benchmark run: %w", runErr)
	}
	if profErr != nil {
		fmt.Fprintf(stderr, "warning: %v\n", profErr)
	}
	if cpuErr != nil {
		fmt.Fprintf(stderr, "warning: CPU time not measured: %v\n", cpuErr)
	}

	peers := 0
	for _, k := range n.Orgs {
		peers += len(n.Spec.Orgs[k].PeerHosts())
	}
	if f.data == "" {
		peers = len(n.Orgs) // the throw-away network joins peer 0 of each org only
	}
	rep, err := newBenchPeerReport(f, network, chaincode, endorsers, peers, runtime.NumCPU(), cost, res)
	if err != nil {
		return err
	}
	rep.Profiles = profFiles
	rep.setCPU(cpu, res.Committed)
	if la, err := os.ReadFile("/proc/loadavg"); err == nil {
		rep.LoadAvg = strings.Join(strings.Fields(string(la))[:3], " ")
	}
	return writeBenchPeer(stdout, f.output, rep)
}

// startThrowAway starts the throw-away network; stop tears it down and
// keeps the directory when the run failed or --keep asks for it.
func startThrowAway(ctx context.Context, f *benchPeerFlags, stderr io.Writer) (stop func(error), n *benchpeer.Network, err error) {
	binary := f.weft
	if binary == "" {
		if binary, err = os.Executable(); err != nil {
			return nil, nil, fmt.Errorf("--weft: cannot find this executable: %w", err)
		}
	}
	dir := f.dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "weft-bench-"); err != nil {
			return nil, nil, fmt.Errorf("--dir: %w", err)
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("--dir: %w", err)
	}
	cleanup := func(err error) {
		if err != nil || f.keep {
			fmt.Fprintf(stderr, "network files and node logs kept in %s\n", dir)
			return
		}
		os.RemoveAll(dir)
	}
	n, err = benchpeer.StartNetwork(ctx, benchpeer.NetworkOptions{
		Dir: dir, Binary: binary, BatchTimeout: f.batchTimeout, MaxMessageCount: f.maxMessageCount,
		Profiling: f.profile != "", Progress: stderr,
	})
	if err != nil {
		cleanup(err)
		return nil, nil, err
	}
	return func(err error) { n.Stop(); cleanup(err) }, n, nil
}

// startProfiles starts this process's CPU profile and the nodes' (over
// all but the last second of the run, so they end before it does).
func startProfiles(ctx context.Context, f *benchPeerFlags, n *benchpeer.Network) (stop func() ([]string, error), err error) {
	if f.profile == "" {
		return func() ([]string, error) { return nil, nil }, nil
	}
	if err := os.MkdirAll(f.profile, 0o755); err != nil {
		return nil, fmt.Errorf("--profile: %w", err)
	}
	own := filepath.Join(f.profile, "bench.pprof")
	out, err := os.Create(own)
	if err != nil {
		return nil, fmt.Errorf("--profile: %w", err)
	}
	if err := pprof.StartCPUProfile(out); err != nil {
		out.Close()
		return nil, fmt.Errorf("--profile: %w", err)
	}
	type result struct {
		files []string
		err   error
	}
	done := make(chan result, 1)
	go func() {
		files, err := benchpeer.CaptureCPUProfiles(ctx, n.Nodes(), max(f.duration-time.Second, time.Second), f.profile)
		done <- result{files, err}
	}()
	return func() ([]string, error) {
		pprof.StopCPUProfile()
		out.Close()
		r := <-done
		return append([]string{own}, r.files...), r.err
	}, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
