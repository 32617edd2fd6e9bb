package cli

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"weft/orderer/participation"
)

// osnadminFlags are the connection flags of Fabric's osnadmin, so that
// scripts work with `weft` in front.
type osnadminFlags struct {
	orderer, caFile, clientCert, clientKey string
	noStatus                               bool
}

func (f *osnadminFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.orderer, "orderer-address", "o", "", "admin endpoint of the orderer (host:port)")
	cmd.Flags().StringVar(&f.caFile, "ca-file", "", "PEM file of the CA that issued the orderer's admin TLS certificate")
	cmd.Flags().StringVar(&f.clientCert, "client-cert", "", "PEM file of the admin's TLS client certificate")
	cmd.Flags().StringVar(&f.clientKey, "client-key", "", "PEM file of the admin's TLS client key")
	cmd.Flags().BoolVar(&f.noStatus, "no-status", false, "print only the response body")
}

func (f *osnadminFlags) client() (*http.Client, string, error) {
	if f.orderer == "" {
		return nil, "", fmt.Errorf("-o/--orderer-address: the orderer's admin endpoint is required")
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if f.caFile != "" {
		ca, err := os.ReadFile(f.caFile)
		if err != nil {
			return nil, "", fmt.Errorf("--ca-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(ca) {
			return nil, "", fmt.Errorf("--ca-file: %s holds no PEM certificate", f.caFile)
		}
		conf.RootCAs = pool
	}
	if (f.clientCert == "") != (f.clientKey == "") {
		return nil, "", fmt.Errorf("--client-cert and --client-key must be given together")
	}
	if f.clientCert != "" {
		pair, err := tls.LoadX509KeyPair(f.clientCert, f.clientKey)
		if err != nil {
			return nil, "", fmt.Errorf("--client-cert/--client-key: %w", err)
		}
		conf.Certificates = []tls.Certificate{pair}
	}
	scheme := "https"
	if f.caFile == "" && f.clientCert == "" {
		scheme = "http"
	}
	base := f.orderer
	if !strings.Contains(base, "://") {
		base = scheme + "://" + base
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: conf}}, base, nil
}

func newOsnadminCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "osnadmin",
		Short: "Manage an orderer's channels through the channel participation API",
		Long: `osnadmin is Fabric's osnadmin: it joins orderers to channels, lists and
removes them over the orderer's admin endpoint with mutual TLS.`,
		Example: `  weft osnadmin channel join --channelID mychannel --config-block mychannel.block \
    -o localhost:7053 --ca-file tlsca.pem --client-cert admin.crt --client-key admin.key
  weft osnadmin channel list -o localhost:7053 --ca-file tlsca.pem --client-cert admin.crt --client-key admin.key`,
	}
	channel := &cobra.Command{Use: "channel", Short: "Channel operations (join, list, remove)"}
	cmd.AddCommand(channel)

	var jf osnadminFlags
	var channelID, blockFile string
	join := &cobra.Command{
		Use:     "join",
		Short:   "Join the orderer to a channel with a genesis or config block",
		Example: "  weft osnadmin channel join --channelID mychannel --config-block mychannel.block -o localhost:7053 --ca-file tlsca.pem --client-cert admin.crt --client-key admin.key",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if blockFile == "" {
				return fmt.Errorf("--config-block: the channel's config block file is required")
			}
			raw, err := os.ReadFile(blockFile)
			if err != nil {
				return fmt.Errorf("--config-block: %w", err)
			}
			c, base, err := jf.client()
			if err != nil {
				return err
			}
			info, err := participation.Join(cmd.Context(), c, base, raw)
			if err != nil {
				return err
			}
			if channelID != "" && info.Name != channelID {
				return fmt.Errorf("--channelID %q does not match the block's channel %q", channelID, info.Name)
			}
			return printJSON(cmd, jf.noStatus, "201 Created", info)
		},
	}
	jf.register(join)
	join.Flags().StringVarP(&channelID, "channelID", "c", "", "channel to join (checked against the block)")
	join.Flags().StringVarP(&blockFile, "config-block", "b", "", "genesis or latest config block of the channel")

	var lf osnadminFlags
	var listChannel string
	list := &cobra.Command{
		Use:     "list",
		Short:   "List the orderer's channels, or show one with --channelID",
		Example: "  weft osnadmin channel list -o localhost:7053 --ca-file tlsca.pem --client-cert admin.crt --client-key admin.key",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, base, err := lf.client()
			if err != nil {
				return err
			}
			if listChannel != "" {
				info, err := participation.Info(cmd.Context(), c, base, listChannel)
				if err != nil {
					return err
				}
				return printJSON(cmd, lf.noStatus, "200 OK", info)
			}
			l, err := participation.List(cmd.Context(), c, base)
			if err != nil {
				return err
			}
			return printJSON(cmd, lf.noStatus, "200 OK", l)
		},
	}
	lf.register(list)
	list.Flags().StringVarP(&listChannel, "channelID", "c", "", "show only this channel")

	var rf osnadminFlags
	var removeChannel string
	remove := &cobra.Command{
		Use:     "remove",
		Short:   "Remove the orderer from a channel (its ledger is deleted)",
		Example: "  weft osnadmin channel remove --channelID mychannel -o localhost:7053 --ca-file tlsca.pem --client-cert admin.crt --client-key admin.key",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if removeChannel == "" {
				return fmt.Errorf("--channelID: the channel to remove is required")
			}
			c, base, err := rf.client()
			if err != nil {
				return err
			}
			if err := participation.Remove(cmd.Context(), c, base, removeChannel); err != nil {
				return err
			}
			if !rf.noStatus {
				fmt.Fprintln(cmd.OutOrStdout(), "Status: 204")
			}
			return nil
		},
	}
	rf.register(remove)
	remove.Flags().StringVarP(&removeChannel, "channelID", "c", "", "channel to remove")

	channel.AddCommand(join, list, remove)
	return cmd
}

func printJSON(cmd *cobra.Command, noStatus bool, status string, v any) error {
	if !noStatus {
		fmt.Fprintf(cmd.OutOrStdout(), "Status: %s\n", status)
	}
	enc := json.NewEncoder(cmd.OutOrStdout())
	enc.SetIndent("", "\t")
	return enc.Encode(v)
}
