// Package cli wires weft's library packages to cobra commands. It holds no
// logic of its own beyond flag parsing, output formatting and exit codes.
package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// Version is set at build time with -ldflags "-X weft/internal/cli.Version=...".
var Version = "dev"

// NewRootCommand builds the whole command tree. Tests call it directly.
func NewRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "weft",
		Short: "Hyperledger Fabric-compatible networks from one declarative spec",
		Long: `weft turns one network spec into a running, Fabric-compatible network:
organizations with their CAs and MSPs, a Raft ordering service, peers,
channels and chaincode.`,
		Example:       "  weft cryptogen generate --config=crypto-config.yaml --output=organizations",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newVersionCmd(),
		newConfigtxgenCmd(),
		newCryptogenCmd(),
		newUpCmd(),
		newDownCmd(),
		newStartCmd(),
		newStopCmd(),
		newStatusCmd(),
		newLogsCmd(),
		newChaincodeCmd(),
		newGenerateCmd(),
		newSpecCmd(),
		newNodeCmd(),
		newBenchCmd(),
		newOsnadminCmd(),
		newRenderCmd(),
		newCACmd(),
		newImageCmd(),
		newOperatorCmd(), newK8sCmd(),
	)
	return root
}

// Main runs the CLI and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	root := NewRootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.Execute(); err != nil {
		fmt.Fprintln(stderr, "Error:", err)
		return 1
	}
	return 0
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print weft's version",
		Example: "  weft version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "weft %s\n", Version)
			return err
		},
	}
}
