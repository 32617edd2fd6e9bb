package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	caclient "weft/ca/client"
)

// This file holds the `weft ca` commands that act as a registrar: revoke,
// gencrl, identity, affiliation and certificate.

// writeCRL stores a CRL where fabric-ca-client does: <mspdir>/crls/crl.pem.
func (o *caOpts) writeCRL(crl []byte) (string, error) {
	dir := filepath.Join(o.mspDir(), "crls")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("-M/--mspdir: %w", err)
	}
	p := filepath.Join(dir, "crl.pem")
	if err := os.WriteFile(p, crl, 0o644); err != nil {
		return "", fmt.Errorf("-M/--mspdir: %w", err)
	}
	return p, nil
}

func newCARevokeCmd(o *caOpts) *cobra.Command {
	var req caclient.RevocationRequest
	cmd := &cobra.Command{
		Use:   "revoke",
		Short: "Revoke an identity, or one certificate by serial and AKI",
		Example: `  weft ca revoke -e user1 -r keycompromise --gencrl -u https://localhost:7054 -M admin/msp --tls.certfiles tls-cert.pem
  weft ca revoke -s 1a2b3c -a 9f8e7d -u https://localhost:7054 -M admin/msp`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if req.Name == "" && (req.Serial == "" || req.AKI == "") {
				return fmt.Errorf("-e/--revoke.name, or both -s/--revoke.serial and -a/--revoke.aki, are required")
			}
			c, s, err := o.registrar()
			if err != nil {
				return err
			}
			res, err := c.Revoke(cmd.Context(), s, req)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, rc := range res.RevokedCerts {
				fmt.Fprintf(out, "Revoked certificate serial %s, AKI %s\n", rc.Serial, rc.AKI)
			}
			if len(res.CRL) > 0 {
				p, err := o.writeCRL(res.CRL)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "Stored the CRL in %s\n", p)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&req.Name, "revoke.name", "e", "", "identity whose certificates are all revoked")
	f.StringVarP(&req.Serial, "revoke.serial", "s", "", "serial number (hex) of the certificate to revoke")
	f.StringVarP(&req.AKI, "revoke.aki", "a", "", "authority key identifier (hex) of the certificate to revoke")
	f.StringVarP(&req.Reason, "revoke.reason", "r", "", "reason, e.g. keycompromise, superseded, cessationofoperation")
	f.BoolVar(&req.GenCRL, "gencrl", false, "also fetch a CRL and store it in <mspdir>/crls/crl.pem")
	return cmd
}

func newCAGenCRLCmd(o *caOpts) *cobra.Command {
	var ra, rb, ea, eb string
	cmd := &cobra.Command{
		Use:     "gencrl",
		Short:   "Fetch a CRL of the CA's revoked certificates into <mspdir>/crls/crl.pem",
		Example: "  weft ca gencrl --revokedafter 2024-01-01T00:00:00Z -u https://localhost:7054 -M admin/msp --tls.certfiles tls-cert.pem",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var f caclient.CRLFilter
			for _, t := range []struct {
				flag, v string
				dst     *time.Time
			}{{"--revokedafter", ra, &f.RevokedAfter}, {"--revokedbefore", rb, &f.RevokedBefore},
				{"--expireafter", ea, &f.ExpireAfter}, {"--expirebefore", eb, &f.ExpireBefore}} {
				if t.v == "" {
					continue
				}
				v, err := time.Parse(time.RFC3339, t.v)
				if err != nil {
					return fmt.Errorf("%s %q: want an RFC 3339 time such as 2024-01-31T00:00:00Z", t.flag, t.v)
				}
				*t.dst = v
			}
			c, s, err := o.registrar()
			if err != nil {
				return err
			}
			crl, err := c.GenCRL(cmd.Context(), s, f)
			if err != nil {
				return err
			}
			p, err := o.writeCRL(crl)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "Stored the CRL in %s\n", p)
			return err
		},
	}
	cmd.Flags().StringVar(&ra, "revokedafter", "", "only certificates revoked after this RFC 3339 time")
	cmd.Flags().StringVar(&rb, "revokedbefore", "", "only certificates revoked before this RFC 3339 time")
	cmd.Flags().StringVar(&ea, "expireafter", "", "only certificates expiring after this RFC 3339 time")
	cmd.Flags().StringVar(&eb, "expirebefore", "", "only certificates expiring before this RFC 3339 time")
	return cmd
}

func printIdentity(cmd *cobra.Command, id caclient.IdentityInfo) {
	attrs := make([]string, len(id.Attributes))
	for i, a := range id.Attributes {
		attrs[i] = fmt.Sprintf("%s=%s", a.Name, a.Value)
		if a.ECert {
			attrs[i] += ":ecert"
		}
	}
	fmt.Fprintf(cmd.OutOrStdout(), "Name: %s, Type: %s, Affiliation: %s, Max Enrollments: %d, Attributes: [%s]\n",
		id.ID, id.Type, id.Affiliation, id.MaxEnrollments, strings.Join(attrs, " "))
}

func newCAIdentityCmd(o *caOpts) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "identity",
		Short:   "List, show and remove the CA's identities",
		Example: "  weft ca identity list -u https://localhost:7054 -M admin/msp --tls.certfiles tls-cert.pem -o json",
	}
	list := &cobra.Command{
		Use:     "list",
		Short:   "List the identities the registrar may see",
		Example: "  weft ca identity list -u https://localhost:7054 -M admin/msp -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := o.json()
			if err != nil {
				return err
			}
			c, s, err := o.registrar()
			if err != nil {
				return err
			}
			ids, err := c.ListIdentities(cmd.Context(), s)
			if err != nil {
				return err
			}
			if asJSON {
				if ids == nil {
					ids = []caclient.IdentityInfo{}
				}
				return caPrintJSON(cmd, ids)
			}
			for _, id := range ids {
				printIdentity(cmd, id)
			}
			return nil
		},
	}
	o.outputFlag(list)
	get := &cobra.Command{
		Use:     "get NAME",
		Short:   "Show one identity",
		Example: "  weft ca identity get user1 -u https://localhost:7054 -M admin/msp",
		Args:    caOneName("identity"),
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, err := o.json()
			if err != nil {
				return err
			}
			c, s, err := o.registrar()
			if err != nil {
				return err
			}
			id, err := c.GetIdentity(cmd.Context(), s, args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return caPrintJSON(cmd, id)
			}
			printIdentity(cmd, *id)
			return nil
		},
	}
	o.outputFlag(get)
	var force bool
	remove := &cobra.Command{
		Use:     "remove NAME",
		Short:   "Remove an identity (the CA must allow removals)",
		Example: "  weft ca identity remove user1 -u https://localhost:7054 -M admin/msp",
		Args:    caOneName("identity"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, s, err := o.registrar()
			if err != nil {
				return err
			}
			id, err := c.RemoveIdentity(cmd.Context(), s, args[0], force)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "Removed identity %s\n", id.ID)
			return err
		},
	}
	remove.Flags().BoolVar(&force, "force", false, "allow a registrar to remove its own identity")
	cmd.AddCommand(list, get, remove)
	return cmd
}

// caOneName accepts exactly one non-empty positional argument.
func caOneName(what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != 1 || strings.TrimSpace(args[0]) == "" {
			return fmt.Errorf("want exactly one %s name as argument, got %d", what, len(args))
		}
		return nil
	}
}

func printAffiliation(cmd *cobra.Command, a caclient.AffiliationInfo, depth int) {
	fmt.Fprintf(cmd.OutOrStdout(), "%saffiliation: %s\n", strings.Repeat("   ", depth), a.Name)
	for _, sub := range a.Affiliations {
		printAffiliation(cmd, sub, depth+1)
	}
}

func newCAAffiliationCmd(o *caOpts) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "affiliation",
		Short:   "List, add and remove the CA's affiliations",
		Example: "  weft ca affiliation add org1.department2 -u https://localhost:7054 -M admin/msp",
	}
	list := &cobra.Command{
		Use:     "list",
		Short:   "Show the affiliation tree",
		Example: "  weft ca affiliation list -u https://localhost:7054 -M admin/msp -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := o.json()
			if err != nil {
				return err
			}
			c, s, err := o.registrar()
			if err != nil {
				return err
			}
			tree, err := c.ListAffiliations(cmd.Context(), s)
			if err != nil {
				return err
			}
			if asJSON {
				return caPrintJSON(cmd, tree)
			}
			printAffiliation(cmd, *tree, 0)
			return nil
		},
	}
	o.outputFlag(list)
	var addForce, removeForce bool
	add := &cobra.Command{
		Use:     "add NAME",
		Short:   "Add an affiliation (--force creates missing parents)",
		Example: "  weft ca affiliation add org1.department2 --force -u https://localhost:7054 -M admin/msp",
		Args:    caOneName("affiliation"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, s, err := o.registrar()
			if err != nil {
				return err
			}
			if _, err := c.AddAffiliation(cmd.Context(), s, args[0], addForce); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "Added affiliation %s\n", args[0])
			return err
		},
	}
	add.Flags().BoolVar(&addForce, "force", false, "create missing parent affiliations")
	remove := &cobra.Command{
		Use:     "remove NAME",
		Short:   "Remove an affiliation (--force also removes what is below it)",
		Example: "  weft ca affiliation remove org1.department2 --force -u https://localhost:7054 -M admin/msp",
		Args:    caOneName("affiliation"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, s, err := o.registrar()
			if err != nil {
				return err
			}
			if _, err := c.RemoveAffiliation(cmd.Context(), s, args[0], removeForce); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "Removed affiliation %s\n", args[0])
			return err
		},
	}
	remove.Flags().BoolVar(&removeForce, "force", false, "also remove sub-affiliations and their identities")
	cmd.AddCommand(list, add, remove)
	return cmd
}

func newCACertificateCmd(o *caOpts) *cobra.Command {
	var f caclient.CertificateFilter
	var revocation, expiration string
	cmd := &cobra.Command{
		Use:     "certificate",
		Short:   "List the certificates the CA issued",
		Example: "  weft ca certificate list --id user1 --notexpired -u https://localhost:7054 -M admin/msp",
	}
	list := &cobra.Command{
		Use:     "list",
		Short:   "List certificates matching the filters",
		Example: "  weft ca certificate list --id user1 --revocation 2024-01-01T00:00:00Z::2024-12-31T00:00:00Z -M admin/msp -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := o.json()
			if err != nil {
				return err
			}
			if f.RevokedStart, f.RevokedEnd, err = caTimeRange("--revocation", revocation); err != nil {
				return err
			}
			if f.ExpiredStart, f.ExpiredEnd, err = caTimeRange("--expiration", expiration); err != nil {
				return err
			}
			c, s, err := o.registrar()
			if err != nil {
				return err
			}
			certs, err := c.ListCertificates(cmd.Context(), s, f)
			if err != nil {
				return err
			}
			if asJSON {
				out := make([]string, len(certs))
				for i, p := range certs {
					out[i] = string(p)
				}
				return caPrintJSON(cmd, out)
			}
			for _, p := range certs {
				if _, err := cmd.OutOrStdout().Write(p); err != nil {
					return err
				}
			}
			return nil
		},
	}
	fl := list.Flags()
	fl.StringVar(&f.ID, "id", "", "only certificates of this enrollment ID")
	fl.StringVar(&f.AKI, "aki", "", "only certificates with this authority key identifier (hex)")
	fl.StringVar(&f.Serial, "serial", "", "only the certificate with this serial number (hex)")
	fl.StringVar(&revocation, "revocation", "", "revoked within START::END (RFC 3339 or the CA's relative forms; either side may be empty)")
	fl.StringVar(&expiration, "expiration", "", "expiring within START::END")
	fl.BoolVar(&f.NotRevoked, "notrevoked", false, "leave out revoked certificates")
	fl.BoolVar(&f.NotExpired, "notexpired", false, "leave out expired certificates")
	o.outputFlag(list)
	cmd.AddCommand(list)
	return cmd
}

// caTimeRange splits fabric-ca-client's "start::end" form.
func caTimeRange(flag, s string) (string, string, error) {
	if s == "" {
		return "", "", nil
	}
	start, end, ok := strings.Cut(s, "::")
	if !ok {
		return "", "", fmt.Errorf("%s %q: want START::END", flag, s)
	}
	return strings.TrimSpace(start), strings.TrimSpace(end), nil
}
