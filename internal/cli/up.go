package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"weft/runner"
)

func newUpCmd() *cobra.Command {
	var file, data, output string
	var detach bool
	var timeout time.Duration
	var basePort int
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Bring a whole network up on this machine",
		Long: `up turns a network spec into a running network on this machine: it
generates the crypto material, starts every orderer and peer as its own
process on loopback ports, joins the channels (participation API for
orderers, JoinChain for peers), and deploys each chaincode of the spec
through the v2 lifecycle (package, install, approve by every org, commit).
Chaincodes with a path are built (Go: go build; Node: npm install) and run
as chaincode-as-a-service processes.

Without -f it runs the default network: Org1 and Org2 with one peer each,
three Raft orderers, channel mychannel and the basic asset chaincode.

Running it again applies only what is missing. Without -d it streams the
nodes' logs until Ctrl-C, which stops the network (data is kept).`,
		Example: `  weft up -d
  weft up -f network.yaml --data ./weft-data -d -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("--output: %q is not one of text, json", output)
			}
			n, err := loadSpec(file)
			if err != nil {
				return err
			}
			specDir, _ := os.Getwd()
			if file != "" {
				specDir = filepath.Dir(file)
			}
			progress := cmd.OutOrStdout()
			if output == "json" {
				progress = cmd.ErrOrStderr()
			}
			st, err := runner.Up(cmd.Context(), runner.Options{Dir: data, Spec: n, SpecDir: specDir, Progress: progress, Timeout: timeout, BasePort: basePort})
			if err != nil {
				return err
			}
			if output == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(st); err != nil {
					return err
				}
			} else {
				printSummary(cmd.OutOrStdout(), st)
			}
			if detach {
				return nil
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "\nStreaming logs; Ctrl-C stops the network (its data is kept: `weft start` brings it back).")
			return followLogs(cmd, st.Dir)
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "network spec (YAML); default: the built-in test network")
	cmd.Flags().StringVar(&data, "data", "weft-data", "data directory")
	cmd.Flags().BoolVarP(&detach, "detach", "d", false, "return once the network is ready and leave it running")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Minute, "give up if the network is not ready in time")
	cmd.Flags().IntVar(&basePort, "base-port", 0, "first orderer port; all other ports follow from it (default 7050; fixed when the data directory is created)")
	return cmd
}

func printSummary(w io.Writer, st *runner.Network) {
	fmt.Fprintf(w, "\nNetwork %q is up (data: %s)\n\n", st.Name, st.Dir)
	printNodes(w, st)
	if len(st.CCs) > 0 {
		fmt.Fprintln(w, "\nChaincodes:")
		for _, c := range st.CCs {
			fmt.Fprintf(w, "  %s on %s, sequence %d, package %s, server %s\n", c.Name, c.Channel, c.Sequence, c.PackageID, c.Address)
		}
		c := st.CCs[0]
		dataFlag := ""
		if wd, _ := os.Getwd(); filepath.Join(wd, "weft-data") != st.Dir {
			dataFlag = " --data " + st.Dir
		}
		fmt.Fprintf(w, "\nTry it:\n  weft chaincode invoke%s -C %s -n %s -c '{\"Args\":[\"InitLedger\"]}'\n", dataFlag, c.Channel, c.Name)
		fmt.Fprintf(w, "  weft chaincode query%s -C %s -n %s -c '{\"Args\":[\"GetAllAssets\"]}'\n", dataFlag, c.Channel, c.Name)
	}
	if len(st.Profiles) > 0 {
		fmt.Fprintln(w, "\nConnection profiles:")
		for _, p := range st.Profiles {
			fmt.Fprintf(w, "  %s\n", p)
		}
		fmt.Fprintf(w, "User MSPs: %s/organizations/peerOrganizations/<domain>/users/\n", st.Dir)
	}
	fmt.Fprintln(w, "\nStop with `weft stop` (keeps data) or `weft down` (removes it); `weft status` shows the nodes.")
}

func printNodes(w io.Writer, st *runner.Network) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tORG\tADDRESS\tPID\tSTATE")
	for _, n := range st.Nodes {
		state := "stopped"
		switch {
		case n.Running && n.Healthy:
			state = "healthy"
		case n.Running:
			state = "running (not healthy)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", n.Name, n.Kind, n.Org, n.Address, n.PID, state)
	}
	tw.Flush()
}

// followLogs prints new log lines of every process until SIGINT/SIGTERM,
// then stops the network.
func followLogs(cmd *cobra.Command, dir string) error {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	offsets := map[string]int64{}
	for {
		files, _ := filepath.Glob(filepath.Join(dir, "logs", "*.log"))
		for _, f := range files {
			fh, err := os.Open(f)
			if err != nil {
				continue
			}
			st, _ := fh.Stat()
			if _, seen := offsets[f]; !seen {
				offsets[f] = st.Size() // only new lines
			}
			if st.Size() > offsets[f] {
				fh.Seek(offsets[f], io.SeekStart)
				buf, _ := io.ReadAll(fh)
				offsets[f] += int64(len(buf))
				name := strings.TrimSuffix(filepath.Base(f), ".log")
				for _, line := range strings.Split(strings.TrimRight(string(buf), "\n"), "\n") {
					fmt.Fprintf(cmd.OutOrStdout(), "%-24s | %s\n", name, line)
				}
			}
			fh.Close()
		}
		select {
		case <-sig:
			fmt.Fprintln(cmd.ErrOrStderr(), "stopping the network...")
			return runner.Stop(dir)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

func newDownCmd() *cobra.Command {
	var data string
	cmd := &cobra.Command{
		Use:     "down",
		Short:   "Stop the network and remove its data directory",
		Example: "  weft down --data ./weft-data",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := runner.Down(data); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "network stopped and %s removed\n", data)
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", "weft-data", "data directory")
	return cmd
}

func newStopCmd() *cobra.Command {
	var data string
	cmd := &cobra.Command{
		Use:     "stop",
		Short:   "Stop every process of the network and keep its data",
		Example: "  weft stop && weft start",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := runner.LoadSpec(data); err != nil {
				return err
			}
			if err := runner.Stop(data); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "network stopped; `weft start` brings it back with its ledgers")
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", "weft-data", "data directory")
	return cmd
}

func newStartCmd() *cobra.Command {
	var data string
	cmd := &cobra.Command{
		Use:     "start",
		Short:   "Start a stopped network again with its ledgers",
		Example: "  weft start --data ./weft-data",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, err := runner.LoadSpec(data)
			if err != nil {
				return err
			}
			st, err := runner.Up(cmd.Context(), runner.Options{Dir: data, Spec: n, SpecDir: runner.SpecDir(data), Progress: cmd.OutOrStdout()})
			if err != nil {
				return err
			}
			printSummary(cmd.OutOrStdout(), st)
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", "weft-data", "data directory")
	return cmd
}

func newStatusCmd() *cobra.Command {
	var data, output string
	cmd := &cobra.Command{
		Use:     "status",
		Short:   "Show the processes of the network and whether they are healthy",
		Example: "  weft status\n  weft status -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, err := runner.LoadSpec(data)
			if err != nil {
				return err
			}
			st := runner.Status(data, n)
			switch output {
			case "json":
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			case "text":
				printNodes(cmd.OutOrStdout(), st)
				return nil
			}
			return fmt.Errorf("--output: %q is not one of text, json", output)
		},
	}
	cmd.Flags().StringVar(&data, "data", "weft-data", "data directory")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

func newLogsCmd() *cobra.Command {
	var data string
	var lines int
	cmd := &cobra.Command{
		Use:     "logs [node]",
		Short:   "Print the logs of one node (or list the log files)",
		Example: "  weft logs peer0.org1.example.com\n  weft logs",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				files, _ := filepath.Glob(filepath.Join(data, "logs", "*.log"))
				if len(files) == 0 {
					return fmt.Errorf("no logs under %s", data)
				}
				for _, f := range files {
					fmt.Fprintln(cmd.OutOrStdout(), strings.TrimSuffix(filepath.Base(f), ".log"))
				}
				return nil
			}
			b, err := os.ReadFile(filepath.Join(data, "logs", args[0]+".log"))
			if err != nil {
				return fmt.Errorf("node %q: %w (see `weft logs` for the names)", args[0], err)
			}
			all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
			if lines > 0 && len(all) > lines {
				all = all[len(all)-lines:]
			}
			fmt.Fprintln(cmd.OutOrStdout(), strings.Join(all, "\n"))
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", "weft-data", "data directory")
	cmd.Flags().IntVarP(&lines, "tail", "n", 200, "number of last lines (0 = all)")
	return cmd
}
