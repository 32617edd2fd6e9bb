package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"weft/runner"
)

// ccArgs is Fabric's -c '{"Args":["Fn","a"]}' (or "function"/"args").
type ccArgs struct {
	Args     []string `json:"Args"`
	Function string   `json:"function"`
	ArgsLow  []string `json:"args"`
}

func parseCtor(s string) ([][]byte, error) {
	var c ccArgs
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return nil, fmt.Errorf(`-c/--ctor: %v; expected JSON like {"Args":["ReadAsset","asset1"]}`, err)
	}
	var all []string
	switch {
	case len(c.Args) > 0:
		all = c.Args
	case c.Function != "":
		all = append([]string{c.Function}, c.ArgsLow...)
	default:
		return nil, fmt.Errorf(`-c/--ctor: no function given; expected {"Args":["Fn", ...]}`)
	}
	out := make([][]byte, len(all))
	for i, a := range all {
		out[i] = []byte(a)
	}
	return out, nil
}

func newChaincodeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "chaincode",
		Short: "Invoke or query a chaincode of a network started with `weft up`",
		Example: `  weft chaincode query -C mychannel -n basic -c '{"Args":["ReadAsset","asset1"]}'
  weft chaincode invoke -C mychannel -n basic -c '{"Args":["CreateAsset","asset9","red","5","Ann","100"]}'`,
	}
	for _, invoke := range []bool{false, true} {
		var data, channel, name, ctor, org, user string
		use, short := "query", "Evaluate a transaction (no ledger update) and print the result"
		if invoke {
			use, short = "invoke", "Submit a transaction, wait for its commit and print the result"
		}
		sub := &cobra.Command{
			Use:     use,
			Short:   short,
			Example: fmt.Sprintf(`  weft chaincode %s -C mychannel -n basic -c '{"Args":["GetAllAssets"]}' --org Org1`, use),
			Args:    cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				args, err := parseCtor(ctor)
				if err != nil {
					return err
				}
				n, err := runner.LoadSpec(data)
				if err != nil {
					return err
				}
				gw, conn, err := runner.Gateway(cmd.Context(), data, n, org, user)
				if err != nil {
					return err
				}
				defer conn.Close()
				var out []byte
				if invoke {
					var txID string
					txID, out, err = gw.Submit(cmd.Context(), channel, name, nil, args...)
					if err != nil {
						return err
					}
					fmt.Fprintf(cmd.ErrOrStderr(), "committed: tx %s\n", txID)
				} else if out, err = gw.Evaluate(cmd.Context(), channel, name, args...); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), string(out))
				return nil
			},
		}
		sub.Flags().StringVar(&data, "data", "weft-data", "data directory of the network")
		sub.Flags().StringVarP(&channel, "channelID", "C", "mychannel", "channel")
		sub.Flags().StringVarP(&name, "name", "n", "", "chaincode name")
		sub.Flags().StringVarP(&ctor, "ctor", "c", "", `function and arguments as JSON, e.g. {"Args":["ReadAsset","asset1"]}`)
		sub.Flags().StringVar(&org, "org", "", "org whose peer and user to use (default: the first org)")
		sub.Flags().StringVar(&user, "user", "User1", "user of that org (User1, Admin, ...)")
		cmd.AddCommand(sub)
	}
	return cmd
}
