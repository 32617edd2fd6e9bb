package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	benchorderer "weft/bench/orderer"
)

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure a weft network end to end, or its nodes, under load",
	}
	addBenchPeer(cmd)
	cmd.AddCommand(newBenchOrdererCmd())
	return cmd
}

// benchOrdererFlags are the knobs of `weft bench orderer`.
type benchOrdererFlags struct {
	envelopes, clients, size, orderers, window int
	maxMessageCount                            uint32
	batchTimeout, weft, dir, output            string
	keep                                       bool
}

func (f *benchOrdererFlags) validate() error {
	switch {
	case f.envelopes <= 0:
		return fmt.Errorf("--envelopes: %d must be positive", f.envelopes)
	case f.clients <= 0:
		return fmt.Errorf("--clients: %d must be positive", f.clients)
	case f.size < 0:
		return fmt.Errorf("--size: %d must not be negative", f.size)
	case f.size > 1<<20-4096:
		return fmt.Errorf("--size: %d does not fit the channel's 1 MiB AbsoluteMaxBytes with headers", f.size)
	case f.orderers <= 0:
		return fmt.Errorf("--orderers: %d must be positive", f.orderers)
	case f.window <= 0:
		return fmt.Errorf("--window: %d must be positive", f.window)
	case f.maxMessageCount == 0:
		return fmt.Errorf("--max-message-count: must be positive")
	case f.output != "text" && f.output != "json":
		return fmt.Errorf("--output: %q is not one of text, json", f.output)
	}
	if d, err := time.ParseDuration(f.batchTimeout); err != nil || d <= 0 {
		return fmt.Errorf("--batch-timeout: %q is not a positive duration", f.batchTimeout)
	}
	return nil
}

func newBenchOrdererCmd() *cobra.Command {
	f := &benchOrdererFlags{}
	cmd := &cobra.Command{
		Use:   "orderer",
		Short: "Measure the Broadcast throughput of a throw-away Raft ordering service",
		Long: `orderer generates a temporary network on loopback (orderers of one org,
a Raft channel "benchchannel" and Org1's User1 as the client), starts the
orderers as "weft node orderer" processes, joins them through the channel
participation API and waits for a leader. It then sends --envelopes signed
transactions of --size data bytes over --clients concurrent Broadcast
streams spread over the orderers, counting each when the orderer
acknowledges it (weft acknowledges once the envelope's block is committed),
and reports envelopes/s, blocks/s and the p50/p99 acknowledgement latency.
The network is torn down afterwards; on failure, or with --keep, its
directory (node logs included) is left in place.`,
		Example: `  weft bench orderer
  weft bench orderer --envelopes 20000 --clients 16 --size 4096 -o json
  weft bench orderer --orderers 5 --max-message-count 100 --batch-timeout 500ms`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.validate(); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runBenchOrderer(ctx, f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&f.envelopes, "envelopes", 5000, "number of envelopes to broadcast")
	fl.IntVar(&f.clients, "clients", 8, "concurrent Broadcast streams, spread over the orderers")
	fl.IntVar(&f.size, "size", 1024, "transaction data bytes per envelope (headers and signature come on top)")
	fl.IntVar(&f.orderers, "orderers", 3, "Raft consenters to start")
	fl.IntVar(&f.window, "window", benchorderer.DefaultWindow, "envelopes in flight per stream")
	fl.Uint32Var(&f.maxMessageCount, "max-message-count", 50, "BatchSize.MaxMessageCount of the channel")
	fl.StringVar(&f.batchTimeout, "batch-timeout", "200ms", "BatchTimeout of the channel")
	fl.StringVar(&f.weft, "weft", "", "weft executable to start the orderers with (default: this one)")
	fl.StringVar(&f.dir, "dir", "", "directory for the throw-away network (default: a new temporary one)")
	fl.BoolVar(&f.keep, "keep", false, "keep the network directory afterwards")
	fl.StringVarP(&f.output, "output", "o", "text", "output format: text or json")
	return cmd
}

func runBenchOrderer(ctx context.Context, f *benchOrdererFlags, stdout, stderr io.Writer) (err error) {
	binary := f.weft
	if binary == "" {
		if binary, err = os.Executable(); err != nil {
			return fmt.Errorf("--weft: cannot find this executable: %w", err)
		}
	}
	dir := f.dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "weft-bench-"); err != nil {
			return fmt.Errorf("--dir: %w", err)
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--dir: %w", err)
	}
	defer func() {
		if err != nil || f.keep {
			fmt.Fprintf(stderr, "network files and node logs kept in %s\n", dir)
			return
		}
		os.RemoveAll(dir)
	}()

	net, err := benchorderer.StartNetwork(ctx, benchorderer.NetworkOptions{
		Dir: dir, Binary: binary, Orderers: f.orderers,
		BatchTimeout: f.batchTimeout, MaxMessageCount: f.maxMessageCount, Progress: stderr,
	})
	if err != nil {
		return err
	}
	defer net.Stop()

	var targets []grpc.ClientConnInterface
	var signer benchorderer.Signer
	for i := 0; i < net.Size(); i++ {
		s, conn, err := net.Client(ctx, i)
		if err != nil {
			return err
		}
		defer conn.Close()
		signer = s
		targets = append(targets, conn)
	}
	fmt.Fprintf(stderr, "signing %d envelopes\n", f.envelopes)
	envs, err := benchorderer.Envelopes(benchorderer.Channel, signer, f.envelopes, f.size)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "broadcasting over %d streams\n", f.clients)
	res, err := benchorderer.Run{Targets: targets, Streams: f.clients, Window: f.window, Height: net.Height}.Do(ctx, envs)
	if err != nil {
		return fmt.Errorf("benchmark run: %w", err)
	}
	return writeBenchOrderer(stdout, f, net.Size(), res)
}

// benchOrdererReport is the JSON form of a run (durations in ms).
type benchOrdererReport struct {
	Orderers        int     `json:"orderers"`
	MaxMessageCount uint32  `json:"maxMessageCount"`
	BatchTimeout    string  `json:"batchTimeout"`
	Envelopes       int     `json:"envelopes"`
	Clients         int     `json:"clients"`
	EnvelopeBytes   int     `json:"envelopeBytes"`
	ElapsedSeconds  float64 `json:"elapsedSeconds"`
	EnvelopesPerSec float64 `json:"envelopesPerSec"`
	Blocks          uint64  `json:"blocks"`
	BlocksPerSec    float64 `json:"blocksPerSec"`
	P50Millis       float64 `json:"p50Ms"`
	P99Millis       float64 `json:"p99Ms"`
	MaxMillis       float64 `json:"maxMs"`
}

func writeBenchOrderer(w io.Writer, f *benchOrdererFlags, orderers int, res *benchorderer.Result) error {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	r := benchOrdererReport{
		Orderers: orderers, MaxMessageCount: f.maxMessageCount, BatchTimeout: f.batchTimeout,
		Envelopes: res.Envelopes, Clients: res.Streams, EnvelopeBytes: res.EnvelopeBytes,
		ElapsedSeconds: res.Elapsed.Seconds(), EnvelopesPerSec: res.EnvelopesPerSec,
		Blocks: res.Blocks, BlocksPerSec: res.BlocksPerSec,
		P50Millis: ms(res.P50), P99Millis: ms(res.P99), MaxMillis: ms(res.Max),
	}
	if f.output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	_, err := fmt.Fprintf(w, `orderers:     %d (Raft), blocks of up to %d envelopes or %s
envelopes:    %d of %d bytes over %d streams
elapsed:      %.2fs
throughput:   %.0f envelopes/s, %.1f blocks/s (%d blocks)
ack latency:  p50 %.1fms, p99 %.1fms, max %.1fms
`, r.Orderers, r.MaxMessageCount, r.BatchTimeout, r.Envelopes, r.EnvelopeBytes, r.Clients,
		r.ElapsedSeconds, r.EnvelopesPerSec, r.BlocksPerSec, r.Blocks, r.P50Millis, r.P99Millis, r.MaxMillis)
	return err
}
