package cli

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"weft/gen/network"
	"weft/spec"
)

// loadSpec reads the spec named by -f, or the default network when empty.
func loadSpec(path string) (*spec.Network, error) {
	if path == "" {
		return spec.Default(), nil
	}
	return spec.Load(path)
}

func newGenerateCmd() *cobra.Command {
	var file, data, output string
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Write a network's crypto material and channel genesis blocks",
		Long: `generate prepares everything a network starts from: the crypto material of
every organization (in the folder layout of Fabric's cryptogen, NodeOUs on)
and one genesis block per channel (etcdraft, the policies of Fabric's test
network). Without -f it uses the default network: Org1 and Org2 with one peer
each, three Raft orderers, channel mychannel.

It is safe to run again: existing organizations only gain missing nodes and
users, and existing genesis blocks are kept.`,
		Example: `  weft generate
  weft generate -f network.yaml --data ./weft-data -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("--output: %q is not one of text, json", output)
			}
			n, err := loadSpec(file)
			if err != nil {
				return err
			}
			progress := cmd.ErrOrStderr()
			res, err := network.Generate(n, data, network.Options{Progress: progress})
			if err != nil {
				return err
			}
			if output == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			printResult(cmd.OutOrStdout(), n, res)
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "network spec (YAML); default: the built-in test network")
	cmd.Flags().StringVar(&data, "data", "weft-data", "data directory")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

func printResult(w io.Writer, n *spec.Network, res *network.Result) {
	fmt.Fprintf(w, "\nNetwork %q prepared in %s\n\n", n.Name, res.Dir)
	fmt.Fprintln(w, "Orderers (etcdraft consenters):")
	for _, o := range res.Orderers {
		fmt.Fprintf(w, "  %-28s %-16s admin %s\n", o.Host, o.Address, o.AdminAddress)
	}
	fmt.Fprintln(w, "Peers:")
	for _, p := range res.Peers {
		fmt.Fprintf(w, "  %-28s %s\n", p.Host, p.Address)
	}
	fmt.Fprintln(w, "Organizations:")
	for _, o := range res.Orgs {
		fmt.Fprintf(w, "  %-8s %-8s admin MSP %s\n", o.Name, o.MSPID, o.AdminMSP)
	}
	fmt.Fprintln(w, "Channel genesis blocks:")
	for _, c := range res.Channels {
		fmt.Fprintf(w, "  %-12s %s\n", c.Name, c.Block)
	}
	if len(res.Channels) > 0 {
		fmt.Fprintf(w, "\nInspect one with: weft configtxgen -inspectBlock %s\n", res.Channels[0].Block)
	}
	if len(res.Orderers) > 0 {
		o := res.Orderers[0]
		fmt.Fprintf(w, "Run an orderer with: weft node orderer --config %s\n", o.Config)
	}
}

func newSpecCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "spec",
		Short:   "Check or print network specs",
		Example: "  weft spec validate -f network.yaml\n  weft spec default > network.yaml",
	}
	var file string
	validate := &cobra.Command{
		Use:     "validate",
		Short:   "Validate a network spec and print it with defaults applied",
		Example: "  weft spec validate -f network.yaml",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return fmt.Errorf("-f/--file: a spec file is required")
			}
			n, err := spec.Load(file)
			if err != nil {
				return err
			}
			return yaml.NewEncoder(cmd.OutOrStdout()).Encode(n)
		},
	}
	validate.Flags().StringVarP(&file, "file", "f", "", "network spec (YAML)")
	def := &cobra.Command{
		Use:     "default",
		Short:   "Print the default network spec",
		Example: "  weft spec default > network.yaml",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return yaml.NewEncoder(cmd.OutOrStdout()).Encode(spec.Default())
		},
	}
	cmd.AddCommand(validate, def)
	return cmd
}
