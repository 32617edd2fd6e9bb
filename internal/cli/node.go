package cli

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"weft/node/operations"
	nodeorderer "weft/node/orderer"
	nodepeer "weft/node/peer"
)

func newNodeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "node",
		Short: "Run a Fabric-compatible node (orderer or peer)",
		Example: `  weft node orderer --config weft-data/nodes/orderer0.example.com/orderer.yaml
  ORDERER_GENERAL_LISTENPORT=7150 weft node orderer --config orderer.yaml`,
	}
	cmd.AddCommand(newNodeOrdererCmd(), newNodePeerCmd())
	return cmd
}

func newNodeOrdererCmd() *cobra.Command {
	var config, logLevel, logFormat string
	cmd := &cobra.Command{
		Use:   "orderer",
		Short: "Run a Raft ordering node",
		Long: `orderer runs a Raft ordering node configured by a file in the shape of
Fabric's orderer.yaml (General, FileLedger, Admin, Operations,
ChannelParticipation). Every key can be overridden from the environment
with Fabric's names, e.g. ORDERER_GENERAL_LISTENPORT or
ORDERER_ADMIN_LISTENADDRESS. Channels are joined through the channel
participation API (osnadmin-compatible) on the Admin listener.

The node stops cleanly on SIGINT or SIGTERM.`,
		Example: `  weft node orderer --config weft-data/nodes/orderer0.example.com/orderer.yaml
  weft node orderer --config orderer.yaml --log-level debug --log-format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if config == "" {
				return fmt.Errorf("--config: the orderer configuration file is required")
			}
			level := new(slog.LevelVar)
			if spec := os.Getenv("FABRIC_LOGGING_SPEC"); spec != "" && logLevel == "info" {
				logLevel = spec
			}
			lv, err := operations.ParseLevel(logLevel)
			if err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			level.Set(lv)
			logger, err := newLogger(cmd.ErrOrStderr(), logFormat, level)
			if err != nil {
				return err
			}
			cfg, err := nodeorderer.LoadConfig(config, os.Environ())
			if err != nil {
				return err
			}
			n, err := nodeorderer.Start(cfg, nodeorderer.Options{Logger: logger, Level: level, Version: Version})
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
	cmd.Flags().StringVar(&config, "config", "", "orderer.yaml to run")
	cmd.Flags().StringVar(&logLevel, "log-level", "info", "debug, info, warn or error (FABRIC_LOGGING_SPEC also works)")
	cmd.Flags().StringVar(&logFormat, "log-format", "text", "text or json")
	return cmd
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

func newNodePeerCmd() *cobra.Command {
	var config, logLevel, logFormat string
	cmd := &cobra.Command{
		Use:   "peer",
		Short: "Run a peer (endorser, gateway, deliver, committer)",
		Long: `peer runs a peer configured by a file in the shape of Fabric's core.yaml
(peer.*, chaincode.*, operations.*). Every key can be overridden from the
environment with Fabric's names, e.g. CORE_PEER_LISTENADDRESS or
CORE_PEER_TLS_CERT_FILE. Channels are joined with cscc JoinChain
(weft's client package, or Fabric's "peer channel join"); chaincodes run
as services the peer dials (chaincode-as-a-service).

The node stops cleanly on SIGINT or SIGTERM.`,
		Example: `  weft node peer --config weft-data/nodes/peer0.org1.example.com/core.yaml
  CORE_PEER_LISTENADDRESS=127.0.0.1:8051 weft node peer --config core.yaml --log-level debug`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if config == "" {
				return fmt.Errorf("--config: the peer configuration file (core.yaml) is required")
			}
			level := new(slog.LevelVar)
			if spec := os.Getenv("FABRIC_LOGGING_SPEC"); spec != "" && logLevel == "info" {
				logLevel = spec
			}
			lv, err := operations.ParseLevel(logLevel)
			if err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			level.Set(lv)
			logger, err := newLogger(cmd.ErrOrStderr(), logFormat, level)
			if err != nil {
				return err
			}
			cfg, err := nodepeer.LoadConfig(config, os.Environ())
			if err != nil {
				return err
			}
			n, err := nodepeer.Start(cfg, nodepeer.Options{Logger: logger, Level: level, Version: Version})
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
	cmd.Flags().StringVar(&config, "config", "", "core.yaml to run")
	cmd.Flags().StringVar(&logLevel, "log-level", "info", "debug, info, warn or error (FABRIC_LOGGING_SPEC also works)")
	cmd.Flags().StringVar(&logFormat, "log-format", "text", "text or json")
	return cmd
}
