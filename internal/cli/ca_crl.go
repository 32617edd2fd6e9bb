package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"weft/runner"
)

// newCAPublishCRLCmd publishes an org CA's CRL into a channel of a network
// that `weft up` runs: Fabric nodes learn about revocations only from the
// channel's MSP config, never from the CA.
func newCAPublishCRLCmd() *cobra.Command {
	var data, org, channel string
	cmd := &cobra.Command{
		Use:   "publish-crl",
		Short: "Put an org CA's current CRL into a channel's config so the peers refuse revoked identities",
		Long: `publish-crl fetches the current CRL of the org's CA (of a network started
by weft up) and submits a channel config update, signed by the org's admin,
that sets it as the org MSP's revocation list (replacing an earlier CRL of
the same CA). Peers and orderers refuse identities it lists once they hold
the new config block; the command waits for that. Run it after
'weft ca revoke'. The --url, --caname, --mspdir and --tls.certfiles flags
are not used: everything comes from the data directory.`,
		Example: `  weft ca revoke -e user1 -u https://localhost:7054 --caname ca-org1 -M admin/msp --tls.certfiles tlsca.pem
  weft ca publish-crl --org Org1 --channel mychannel --data ./weft-data`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if org == "" {
				return fmt.Errorf("--org is required (an org name or MSP ID of the network)")
			}
			if channel == "" {
				return fmt.Errorf("--channel is required")
			}
			res, err := runner.PublishCRL(cmd.Context(), data, org, channel, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if res.Unchanged {
				fmt.Fprintf(out, "Channel %s already has the current CRL of %s (%d revoked certificates)\n", channel, org, res.Revoked)
				return nil
			}
			fmt.Fprintf(out, "Published the CRL of %s (%d revoked certificates) to channel %s in config block %d\n", org, res.Revoked, channel, res.Block)
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", "weft-data", "data directory of the network")
	cmd.Flags().StringVar(&org, "org", "", "org whose CA's CRL is published (name or MSP ID)")
	cmd.Flags().StringVarP(&channel, "channel", "C", "", "channel whose config receives the CRL")
	return cmd
}
