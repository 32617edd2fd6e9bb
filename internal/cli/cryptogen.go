package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"weft/gen/cryptogen"
)

func newCryptogenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cryptogen",
		Short: "Generate Fabric key material (cryptogen-compatible)",
		Long: `Generate keys, certificates and MSP folders for orderer and peer
organizations from a crypto-config.yaml, in the same layout as Hyperledger
Fabric's cryptogen tool.`,
		Example: `  weft cryptogen showtemplate > crypto-config.yaml
  weft cryptogen generate --config=crypto-config.yaml --output=organizations`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newCryptogenGenerateCmd(), newCryptogenExtendCmd(), newCryptogenShowTemplateCmd())
	return cmd
}

func newCryptogenGenerateCmd() *cobra.Command {
	var configPath, output string
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Generate key material into a new output directory",
		Long: `Generate writes <output>/peerOrganizations and <output>/ordererOrganizations.
Without --config the built-in template (see showtemplate) is used, as with
cryptogen. Organizations that already exist under --output are refused;
use extend to add nodes to them.`,
		Example: `  weft cryptogen generate --config=crypto-config.yaml
  weft cryptogen generate --config=crypto-config.yaml --output=organizations`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCryptogen(cmd, configPath, output, false)
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "crypto-config.yaml to use (default: the built-in template)")
	cmd.Flags().StringVar(&output, "output", "crypto-config", "directory in which to place the artifacts")
	return cmd
}

func newCryptogenExtendCmd() *cobra.Command {
	var configPath, input string
	cmd := &cobra.Command{
		Use:   "extend",
		Short: "Add missing organizations, nodes and users to existing key material",
		Long: `Extend reuses the CAs of organizations already under --input and creates
only the nodes and users that do not exist yet; new organizations are
generated in full. Existing keys and certificates are never rewritten.`,
		Example: `  weft cryptogen extend --config=crypto-config.yaml --input=crypto-config`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCryptogen(cmd, configPath, input, true)
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "crypto-config.yaml to use (default: the built-in template)")
	cmd.Flags().StringVar(&input, "input", "crypto-config", "directory holding the existing artifacts")
	return cmd
}

func newCryptogenShowTemplateCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "showtemplate",
		Short:   "Print a sample crypto-config.yaml",
		Example: "  weft cryptogen showtemplate > crypto-config.yaml",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := io.WriteString(cmd.OutOrStdout(), cryptogen.SampleConfig)
			return err
		},
	}
}

func runCryptogen(cmd *cobra.Command, configPath, dir string, extend bool) error {
	var cfg *cryptogen.Config
	var err error
	if configPath == "" {
		fmt.Fprintln(cmd.ErrOrStderr(), "no --config given; using the built-in template (see 'weft cryptogen showtemplate')")
		cfg, err = cryptogen.ParseConfig([]byte(cryptogen.SampleConfig))
	} else {
		cfg, err = cryptogen.LoadConfig(configPath)
	}
	if err != nil {
		return err
	}
	return cryptogen.GenerateWith(*cfg, dir, cryptogen.Options{Progress: cmd.OutOrStdout(), Extend: extend})
}
