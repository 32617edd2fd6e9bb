package cli

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	caclient "weft/ca/client"
)

// caOpts are fabric-ca-client's connection flags, shared by every
// `weft ca` subcommand so its scripts keep working with weft in front.
type caOpts struct {
	url, caname, home, mspdir, output string
	tlsFiles                          []string
}

// resolve makes a relative path relative to --home, as fabric-ca-client
// does with its FABRIC_CA_CLIENT_HOME.
func (o *caOpts) resolve(p string) string {
	home := o.home
	if home == "" {
		home = os.Getenv("FABRIC_CA_CLIENT_HOME")
	}
	if home == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(home, p)
}

func (o *caOpts) mspDir() string { return o.resolve(o.mspdir) }

// client builds the REST client; id and secret come from the URL.
func (o *caOpts) client() (c *caclient.Client, id, secret string, err error) {
	base, id, secret, err := caclient.ParseURL(o.url)
	if err != nil {
		return nil, "", "", fmt.Errorf("-u/--url: %w", err)
	}
	c = &caclient.Client{URL: base, CAName: o.caname}
	if len(o.tlsFiles) > 0 {
		files := make([]string, len(o.tlsFiles))
		for i, f := range o.tlsFiles {
			files[i] = o.resolve(f)
		}
		if c.TLS, err = caclient.LoadTLSConfig(files...); err != nil {
			return nil, "", "", fmt.Errorf("--tls.certfiles: %w", err)
		}
	}
	return c, id, secret, nil
}

// registrar loads the identity in --mspdir that signs admin requests.
func (o *caOpts) registrar() (*caclient.Client, *caclient.Signer, error) {
	c, _, _, err := o.client()
	if err != nil {
		return nil, nil, err
	}
	s, err := caclient.LoadSigner(o.mspDir())
	if err != nil {
		return nil, nil, fmt.Errorf("-M/--mspdir: %w (enroll first)", err)
	}
	return c, s, nil
}

func (o *caOpts) json() (bool, error) {
	switch o.output {
	case "", "text":
		return false, nil
	case "json":
		return true, nil
	}
	return false, fmt.Errorf("-o/--output %q: want text or json", o.output)
}

func (o *caOpts) outputFlag(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&o.output, "output", "o", "text", "output format: text or json")
}

// caCertName is the cacerts/ file name fabric-ca-client uses
// (host-port[-caname].pem), which test-network's config.yaml files name.
func (o *caOpts) caCertName() string {
	u, err := url.Parse(o.url)
	if err != nil {
		return ""
	}
	name := strings.NewReplacer(".", "-", ":", "-").Replace(u.Host)
	if o.caname != "" {
		name += "-" + strings.NewReplacer(".", "-").Replace(o.caname)
	}
	return name + ".pem"
}

func caPrintJSON(cmd *cobra.Command, v any) error {
	enc := json.NewEncoder(cmd.OutOrStdout())
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newCACmd() *cobra.Command {
	o := &caOpts{}
	cmd := &cobra.Command{
		Use:   "ca",
		Short: "Talk to a Fabric CA (weft's or Hyperledger's) like fabric-ca-client",
		Long: `ca is fabric-ca-client: it enrolls identities into MSP folders and manages
a CA's identities, affiliations, certificates and revocations. Admin commands
sign their requests with the identity enrolled in --mspdir.`,
		Example: `  weft ca enroll -u https://admin:adminpw@localhost:7054 --caname ca-org1 --tls.certfiles tls-cert.pem -M admin/msp
  weft ca register --id.name peer0 --id.secret peer0pw --id.type peer -u https://localhost:7054 -M admin/msp --tls.certfiles tls-cert.pem`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVarP(&o.url, "url", "u", "http://localhost:7054", "CA server URL; enroll takes the credentials in it: https://id:secret@host:port")
	pf.StringVar(&o.caname, "caname", "", "name of the CA on a multi-CA server (default: the server's default CA)")
	pf.StringSliceVar(&o.tlsFiles, "tls.certfiles", nil, "PEM files of trusted TLS roots for https URLs (comma-separated)")
	pf.StringVarP(&o.mspdir, "mspdir", "M", "msp", "MSP folder written by enroll and read by admin commands")
	pf.StringVarP(&o.home, "home", "H", "", "base for relative paths (default $FABRIC_CA_CLIENT_HOME, else the working directory)")
	cmd.AddCommand(newCAInfoCmd(o), newCAEnrollCmd(o, false), newCAEnrollCmd(o, true), newCARegisterCmd(o),
		newCARevokeCmd(o), newCAGenCRLCmd(o), newCAIdentityCmd(o), newCAAffiliationCmd(o), newCACertificateCmd(o), newCAPublishCRLCmd())
	return cmd
}

func newCAInfoCmd(o *caOpts) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cainfo",
		Short: "Show the CA's name, version and certificate chain",
		Long: `cainfo asks the server about its CA. With --mspdir given explicitly the chain
is also stored in that folder's cacerts/ (and intermediatecerts/).`,
		Example: "  weft ca cainfo -u https://localhost:7054 --tls.certfiles tls-cert.pem -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := o.json()
			if err != nil {
				return err
			}
			c, _, _, err := o.client()
			if err != nil {
				return err
			}
			info, err := c.CAInfo(cmd.Context())
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("mspdir") {
				if err := caclient.WriteCAChain(o.mspDir(), info.CAChain, o.caCertName()); err != nil {
					return fmt.Errorf("-M/--mspdir: %w", err)
				}
			}
			if asJSON {
				return caPrintJSON(cmd, map[string]string{"caname": info.CAName, "version": info.Version, "cachain": string(info.CAChain)})
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "CA name: %s\nVersion: %s\n%s", info.CAName, info.Version, info.CAChain)
			return err
		},
	}
	o.outputFlag(cmd)
	return cmd
}

func newCAEnrollCmd(o *caOpts, re bool) *cobra.Command {
	var profile, cn, names string
	var hosts, attrs []string
	var nodeOUs bool
	cmd := &cobra.Command{
		Use:   "enroll",
		Short: "Enroll an identity and write its MSP folder",
		Long: `enroll generates a key pair, has the CA certify it with the identity and secret
given in the URL, and writes signcerts, keystore, cacerts (and
intermediatecerts) to --mspdir. --nodeous also writes a config.yaml that
classifies identities by the OU the CA stamps (client, peer, admin, orderer).`,
		Example: `  weft ca enroll -u https://admin:adminpw@localhost:7054 --caname ca-org1 --tls.certfiles tls-cert.pem -M admin/msp --nodeous
  weft ca enroll -u https://peer0:peer0pw@localhost:7054 --enrollment.profile tls --csr.hosts peer0.org1.example.com,localhost -M peer0/tls`,
		Args: cobra.NoArgs,
	}
	if re {
		cmd.Use, cmd.Short = "reenroll", "Renew the certificate in --mspdir with a new key"
		cmd.Long = "reenroll asks the CA for a new certificate for the identity in --mspdir, authenticated by\nits current one, and rewrites the folder."
		cmd.Example = "  weft ca reenroll -u https://localhost:7054 --tls.certfiles tls-cert.pem -M admin/msp"
	}
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		req := caclient.EnrollRequest{Profile: profile, Hosts: hosts, CN: cn}
		var err error
		if req.AttrReqs, err = parseAttrReqs(attrs); err != nil {
			return err
		}
		if req.Names, err = parseCSRNames(names); err != nil {
			return err
		}
		c, id, secret, err := o.client()
		if err != nil {
			return err
		}
		var e *caclient.Enrollment
		if re {
			s, err := caclient.LoadSigner(o.mspDir())
			if err != nil {
				return fmt.Errorf("-M/--mspdir: %w", err)
			}
			e, err = c.Reenroll(cmd.Context(), s, req)
			if err != nil {
				return err
			}
		} else {
			if id == "" || secret == "" {
				return fmt.Errorf("-u/--url: enroll needs the identity and secret in the URL, e.g. https://admin:adminpw@localhost:7054")
			}
			if e, err = c.Enroll(cmd.Context(), id, secret, req); err != nil {
				return err
			}
		}
		opts := caclient.MSPOptions{NodeOUs: nodeOUs, CACertName: o.caCertName()}
		if profile == "tls" {
			opts.TLSCAChain = e.CAChain
		}
		if err := caclient.WriteMSP(o.mspDir(), e, opts); err != nil {
			return fmt.Errorf("-M/--mspdir: %w", err)
		}
		_, err = fmt.Fprintf(cmd.OutOrStdout(), "Stored the enrollment certificate and key in %s\n", o.mspDir())
		return err
	}
	f := cmd.Flags()
	f.StringVar(&profile, "enrollment.profile", "", `CA signing profile, e.g. "tls"`)
	f.StringSliceVar(&attrs, "enrollment.attrs", nil, "attributes to put in the certificate: name[:opt],... (opt: skip if the identity lacks it)")
	f.StringSliceVar(&hosts, "csr.hosts", nil, "subject alternative names (DNS names or IPs), comma-separated")
	f.StringVar(&cn, "csr.cn", "", "subject common name (default: the enrollment ID; the CA requires them to match)")
	f.StringVar(&names, "csr.names", "", "subject names: C=US,ST=North Carolina,L=Raleigh,O=org1,OU=x")
	f.BoolVar(&nodeOUs, "nodeous", false, "write config.yaml enabling NodeOUs (client, peer, admin, orderer)")
	return cmd
}

func newCARegisterCmd(o *caOpts) *cobra.Command {
	var req caclient.RegistrationRequest
	var attrs string
	cmd := &cobra.Command{
		Use:   "register",
		Short: "Register a new identity (as the registrar in --mspdir)",
		Example: `  weft ca register --id.name peer0 --id.secret peer0pw --id.type peer --id.affiliation org1 \
    --id.attrs 'app.role=auditor:ecert,level=2' -u https://localhost:7054 -M admin/msp --tls.certfiles tls-cert.pem`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := o.json()
			if err != nil {
				return err
			}
			if req.Name == "" {
				return fmt.Errorf("--id.name: the identity to register is required")
			}
			if req.Attributes, err = parseIDAttrs(attrs); err != nil {
				return err
			}
			c, s, err := o.registrar()
			if err != nil {
				return err
			}
			secret, err := c.Register(cmd.Context(), s, req)
			if err != nil {
				return err
			}
			if asJSON {
				return caPrintJSON(cmd, map[string]string{"name": req.Name, "secret": secret})
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "Password: %s\n", secret)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Name, "id.name", "", "enrollment ID of the new identity")
	f.StringVar(&req.Secret, "id.secret", "", "its enrollment secret (default: generated by the CA)")
	f.StringVar(&req.Type, "id.type", "client", "identity type, stamped as an OU: client, peer, admin, orderer, ...")
	f.StringVar(&req.Affiliation, "id.affiliation", "", "affiliation, e.g. org1.department1 (default: the registrar's)")
	f.StringVar(&attrs, "id.attrs", "", "attributes: name=value[:ecert],... (ecert: put in certificates by default)")
	f.IntVar(&req.MaxEnrollments, "id.maxenrollments", 0, "how often the secret may be used (0: CA default, -1: unlimited)")
	o.outputFlag(cmd)
	return cmd
}

// parseIDAttrs reads --id.attrs: name=value[:ecert], comma-separated; as
// with fabric-ca-client, an item in double quotes may contain commas
// ("hf.Registrar.Roles=peer,client").
func parseIDAttrs(s string) ([]caclient.Attribute, error) {
	items, err := splitQuoted(s)
	if err != nil {
		return nil, fmt.Errorf("--id.attrs: %w", err)
	}
	var out []caclient.Attribute
	for _, item := range items {
		name, value, ok := strings.Cut(item, "=")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("--id.attrs %q: want name=value[:ecert]", item)
		}
		a := caclient.Attribute{Name: strings.TrimSpace(name), Value: value}
		if v, ok := strings.CutSuffix(value, ":ecert"); ok {
			a.Value, a.ECert = v, true
		}
		out = append(out, a)
	}
	return out, nil
}

// parseAttrReqs reads --enrollment.attrs: name[:opt].
func parseAttrReqs(items []string) ([]caclient.AttrReq, error) {
	var out []caclient.AttrReq
	for _, item := range items {
		name, flag, _ := strings.Cut(strings.TrimSpace(item), ":")
		if name == "" || (flag != "" && flag != "opt") {
			return nil, fmt.Errorf("--enrollment.attrs %q: want name or name:opt", item)
		}
		out = append(out, caclient.AttrReq{Name: name, Optional: flag == "opt"})
	}
	return out, nil
}

// parseCSRNames reads --csr.names: C=..,ST=..,L=..,O=..,OU=.. into one name.
func parseCSRNames(s string) ([]caclient.Name, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var n caclient.Name
	for _, item := range splitList(s) {
		k, v, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("--csr.names %q: want KEY=value", item)
		}
		switch strings.ToUpper(strings.TrimSpace(k)) {
		case "C":
			n.C = v
		case "ST":
			n.ST = v
		case "L":
			n.L = v
		case "O":
			n.O = v
		case "OU":
			n.OU = v
		default:
			return nil, fmt.Errorf("--csr.names %q: key must be C, ST, L, O or OU", item)
		}
	}
	return []caclient.Name{n}, nil
}

// splitQuoted splits on commas outside double quotes and drops the quotes.
func splitQuoted(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	quoted := false
	flush := func() {
		if item := strings.TrimSpace(cur.String()); item != "" {
			out = append(out, item)
		}
		cur.Reset()
	}
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
		case r == ',' && !quoted:
			flush()
		default:
			cur.WriteRune(r)
		}
	}
	if quoted {
		return nil, fmt.Errorf("%q: unbalanced double quote", s)
	}
	flush()
	return out, nil
}
