package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/gen/configtxgen"
	"weft/wire/common"
)

const configtxgenExample = `  weft configtxgen -configPath ./configtx -profile ChannelUsingRaft -channelID mychannel -outputBlock ./channel-artifacts/mychannel.block
  weft configtxgen -inspectBlock ./channel-artifacts/mychannel.block
  weft configtxgen -configPath ./configtx -printOrg Org1MSP`

// configtxgenOpts are Fabric configtxgen's flags, with its spelling.
type configtxgenOpts struct {
	configPath, profile, channelID, outputBlock, inspectBlock, printOrg string
	version                                                             bool
}

// newConfigtxgenCmd mirrors Fabric's configtxgen for application-channel
// genesis blocks. configtxgen takes single-dash long flags (-profile X),
// which pflag reads as bundles of short flags, so cobra's parsing is turned
// off and the standard flag package (which accepts -x and --x) is used.
func newConfigtxgenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "configtxgen",
		Short: "Generate or inspect a channel genesis block from configtx.yaml (Fabric configtxgen flags)",
		Long: `configtxgen reads a Fabric configtx.yaml and writes the genesis block of an
application channel (channel participation: no system channel), or prints a
block as JSON with its nested messages decoded. Flags are Fabric's, with a
single dash. Relative MSPDir and TLS certificate paths in configtx.yaml are
taken relative to the directory holding the file.`,
		Example:            configtxgenExample,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConfigtxgen(cmd, args)
		},
	}
	// "weft help configtxgen" would otherwise show cobra's flag list, which
	// knows nothing of the flags parsed below.
	cmd.SetHelpFunc(func(c *cobra.Command, _ []string) {
		var o configtxgenOpts
		fmt.Fprint(c.OutOrStdout(), configtxgenHelp(c, configtxgenFlags(&o, io.Discard)))
	})
	return cmd
}

func configtxgenFlags(o *configtxgenOpts, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("configtxgen", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&o.configPath, "configPath", "", "directory holding configtx.yaml (default $FABRIC_CFG_PATH)")
	fs.StringVar(&o.profile, "profile", "", "profile in configtx.yaml to use")
	fs.StringVar(&o.channelID, "channelID", "", "channel ID written into the genesis block")
	fs.StringVar(&o.outputBlock, "outputBlock", "", "file to write the genesis block to")
	fs.StringVar(&o.inspectBlock, "inspectBlock", "", "block file to print as JSON")
	fs.StringVar(&o.printOrg, "printOrg", "", "print the config group of the organization with this Name as JSON")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	return fs
}

func configtxgenHelp(cmd *cobra.Command, fs *flag.FlagSet) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\nUsage:\n", cmd.Long)
	for _, form := range []string{
		"-profile NAME -channelID ID -outputBlock FILE [-configPath DIR]",
		"-inspectBlock FILE",
		"-printOrg NAME [-profile NAME] [-configPath DIR]",
	} {
		fmt.Fprintf(&b, "  %s %s\n", cmd.CommandPath(), form)
	}
	fmt.Fprintf(&b, "\nExamples:\n%s\n\nFlags:\n", cmd.Example)
	fs.VisitAll(func(f *flag.Flag) {
		arg := " string"
		if f.Name == "version" {
			arg = ""
		}
		fmt.Fprintf(&b, "  -%s%s\n        %s\n", f.Name, arg, f.Usage)
	})
	b.WriteString("  -h, --help\n        help for configtxgen\n")
	return b.String()
}

func runConfigtxgen(cmd *cobra.Command, args []string) error {
	var o configtxgenOpts
	fs := configtxgenFlags(&o, io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			_, werr := io.WriteString(cmd.OutOrStdout(), configtxgenHelp(cmd, fs))
			return werr
		}
		return fmt.Errorf("configtxgen: %w (see 'weft configtxgen -h')", err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("configtxgen: unexpected argument %q (flags are -name value)", fs.Arg(0))
	}
	stdout, logw := cmd.OutOrStdout(), cmd.ErrOrStderr()
	switch {
	case o.version:
		_, err := fmt.Fprintf(stdout, "configtxgen:\n Version: %s\n", Version)
		return err
	case o.inspectBlock != "":
		return configtxgenInspect(stdout, logw, o.inspectBlock)
	case o.outputBlock != "":
		return configtxgenOutputBlock(logw, o)
	case o.printOrg != "":
		return configtxgenPrintOrg(stdout, logw, o)
	}
	return errors.New("configtxgen: nothing to do: give -outputBlock, -inspectBlock or -printOrg (see 'weft configtxgen -h')")
}

func configtxgenLoadFile(logw io.Writer, configPath string) (*configtxgen.File, error) {
	fmt.Fprintln(logw, "Loading configuration")
	path, err := configtxgen.FindConfigFile(configPath)
	if err != nil {
		return nil, err
	}
	f, err := configtxgen.ReadFile(path)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(logw, "Loaded configuration: %s\n", path)
	return f, nil
}

func configtxgenOutputBlock(logw io.Writer, o configtxgenOpts) error {
	if o.profile == "" {
		return errors.New("configtxgen: -profile is required with -outputBlock")
	}
	if o.channelID == "" {
		return errors.New("configtxgen: missing channelID, please specify it with '-channelID'")
	}
	if err := channelconfig.ValidateChannelID(o.channelID); err != nil {
		return fmt.Errorf("configtxgen: -channelID: %w", err)
	}
	f, err := configtxgenLoadFile(logw, o.configPath)
	if err != nil {
		return err
	}
	p, err := f.Profile(o.profile)
	if err != nil {
		return err
	}
	fmt.Fprintln(logw, "Generating genesis block")
	group, err := channelconfig.NewChannelGroup(p)
	if err != nil {
		return fmt.Errorf("profile %q: %w", o.profile, err)
	}
	fmt.Fprintln(logw, "Creating application channel genesis block")
	block, err := channelconfig.GenesisBlock(o.channelID, group)
	if err != nil {
		return fmt.Errorf("genesis block: %w", err)
	}
	data, err := proto.Marshal(block)
	if err != nil {
		return fmt.Errorf("encode genesis block: %w", err)
	}
	fmt.Fprintln(logw, "Writing genesis block")
	if err := os.WriteFile(o.outputBlock, data, 0o640); err != nil {
		return fmt.Errorf("-outputBlock: %w", err)
	}
	return nil
}

func configtxgenInspect(stdout, logw io.Writer, path string) error {
	fmt.Fprintf(logw, "Inspecting block %s\n", path)
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("-inspectBlock: %w", err)
	}
	var block common.Block
	if err := proto.Unmarshal(data, &block); err != nil {
		return fmt.Errorf("-inspectBlock %s: not a block: %w", path, err)
	}
	js, err := configtxgen.InspectBlock(&block)
	if err != nil {
		return fmt.Errorf("-inspectBlock %s: %w", path, err)
	}
	_, err = stdout.Write(js)
	return err
}

func configtxgenPrintOrg(stdout, logw io.Writer, o configtxgenOpts) error {
	f, err := configtxgenLoadFile(logw, o.configPath)
	if err != nil {
		return err
	}
	group, err := configtxgen.OrgGroup(f, o.printOrg, o.profile)
	if err != nil {
		return err
	}
	js, err := configtxgen.MessageJSON(group)
	if err != nil {
		return err
	}
	_, err = stdout.Write(js)
	return err
}
