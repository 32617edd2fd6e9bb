package cli

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	nodeca "weft/node/ca"
	"weft/node/operations"
	nodeorderer "weft/node/orderer"
	nodepeer "weft/node/peer"
)

func newNodeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "node",
		Short: "Run a Fabric-compatible node (orderer or peer)",
		Example: `  weft node orderer --config weft-data/nodes/orderer0.example.com/orderer.yaml
  weft node peer --config weft-data/nodes/peer0.org1.example.com/core.yaml`,
	}
	cmd.AddCommand(newNodeOrdererCmd(), newNodePeerCmd(), nodeCommand("ca", nodeca.Short, nodeca.Long, nodeca.Example, nodeca.ConfigHelp, func(c string, l *slog.Logger, lv *slog.LevelVar) (stopper, error) {
		return nodeca.StartFile(c, l, lv, Version)
	}))
	return cmd
}

// stopper is a running node.
type stopper interface{ Stop() }

// nodeCommand builds `weft node <kind>`: flags, logging, config loading
// and the run-until-signal loop are the same for every node kind; start
// loads the kind's config and starts it.
func nodeCommand(use, short, long, example, configHelp string,
	start func(config string, logger *slog.Logger, level *slog.LevelVar) (stopper, error)) *cobra.Command {
	var config, logLevel, logFormat string
	cmd := &cobra.Command{
		Use:     use,
		Short:   short,
		Long:    long + "\n\nThe node stops cleanly on SIGINT or SIGTERM.",
		Example: example,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if config == "" {
				return fmt.Errorf("--config: the %s configuration file is required", use)
			}
			if spec := os.Getenv("FABRIC_LOGGING_SPEC"); spec != "" && logLevel == "info" {
				logLevel = spec
			}
			lv, err := operations.ParseLevel(logLevel)
			if err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			level := new(slog.LevelVar)
			level.Set(lv)
			logger, err := newLogger(cmd.ErrOrStderr(), logFormat, level)
			if err != nil {
				return err
			}
			n, err := start(config, logger, level)
			if err != nil {
				return err
			}
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
			s := <-sig
			logger.Info("signal received, stopping", "signal", s.String())
			n.Stop()
			return nil
		},
	}
	cmd.Flags().StringVar(&config, "config", "", configHelp)
	cmd.Flags().StringVar(&logLevel, "log-level", "info", "debug, info, warn or error (FABRIC_LOGGING_SPEC also works)")
	cmd.Flags().StringVar(&logFormat, "log-format", "text", "text or json")
	return cmd
}

func newNodeOrdererCmd() *cobra.Command {
	return nodeCommand("orderer", "Run a Raft ordering node",
		`orderer runs a Raft ordering node configured by a file in the shape of
Fabric's orderer.yaml (General, FileLedger, Admin, Operations,
ChannelParticipation). Every key can be overridden from the environment
with Fabric's names, e.g. ORDERER_GENERAL_LISTENPORT or
ORDERER_ADMIN_LISTENADDRESS. Channels are joined through the channel
participation API (osnadmin-compatible) on the Admin listener.`,
		`  weft node orderer --config weft-data/nodes/orderer0.example.com/orderer.yaml
  weft node orderer --config orderer.yaml --log-level debug --log-format json`,
		"orderer.yaml to run",
		func(config string, logger *slog.Logger, level *slog.LevelVar) (stopper, error) {
			cfg, err := nodeorderer.LoadConfig(config, os.Environ())
			if err != nil {
				return nil, err
			}
			return nodeorderer.Start(cfg, nodeorderer.Options{Logger: logger, Level: level, Version: Version})
		})
}

func newNodePeerCmd() *cobra.Command {
	return nodeCommand("peer", "Run a peer (endorser, gateway, deliver, committer)",
		`peer runs a peer configured by a file in the shape of Fabric's core.yaml
(peer.*, chaincode.*, operations.*). Every key can be overridden from the
environment with Fabric's names, e.g. CORE_PEER_LISTENADDRESS or
CORE_PEER_TLS_CERT_FILE. Channels are joined with cscc JoinChain
(weft's client package, or Fabric's "peer channel join"); chaincodes run
as services the peer dials (chaincode-as-a-service).`,
		`  weft node peer --config weft-data/nodes/peer0.org1.example.com/core.yaml
  CORE_PEER_LISTENADDRESS=127.0.0.1:8051 weft node peer --config core.yaml --log-level debug`,
		"core.yaml to run",
		func(config string, logger *slog.Logger, level *slog.LevelVar) (stopper, error) {
			cfg, err := nodepeer.LoadConfig(config, os.Environ())
			if err != nil {
				return nil, err
			}
			return nodepeer.Start(cfg, nodepeer.Options{Logger: logger, Level: level, Version: Version})
		})
}

func newLogger(w interface{ Write([]byte) (int, error) }, format string, level *slog.LevelVar) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format: %q is not one of text, json", format)
}
