package cryptogen

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"weft/fabcrypto"
)

// Options tune Generate.
type Options struct {
	// Progress receives one line per organization and one indented line per
	// node or user written; nil discards it.
	Progress io.Writer
	// Extend keeps existing organizations (reusing their CAs on disk) and
	// only adds nodes and users that are missing, like `cryptogen extend`.
	// Without it an organization directory that already exists is an error,
	// because overwriting CAs would orphan every certificate issued before.
	Extend bool
}

// Generate writes the full cryptogen tree for cfg under outDir.
func Generate(cfg Config, outDir string) error {
	return GenerateWith(cfg, outDir, Options{})
}

// GenerateWith is Generate with options.
func GenerateWith(cfg Config, outDir string, opts Options) error {
	if outDir == "" {
		return errors.New("output directory is empty")
	}
	plan, err := cfg.Resolve()
	if err != nil {
		return err
	}
	return plan.Write(outDir, opts)
}

// Write materialises a resolved plan under outDir.
func (p *Plan) Write(outDir string, opts Options) error {
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	if !opts.Extend {
		// Check every org before writing anything so a clash does not
		// leave a half-written tree behind.
		for _, org := range p.Orgs {
			dir := filepath.Join(outDir, org.Dir())
			if _, err := os.Stat(dir); err == nil {
				return fmt.Errorf("org %q: %s already exists; remove it or use extend", org.Domain, dir)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("org %q: %w", org.Domain, err)
			}
		}
	}
	for _, org := range p.Orgs {
		if err := writeOrg(outDir, org, progress); err != nil {
			return fmt.Errorf("org %q: %w", org.Domain, err)
		}
	}
	return nil
}

func writeOrg(root string, org Org, progress io.Writer) error {
	orgDir := filepath.Join(root, org.Dir())
	fmt.Fprintln(progress, org.Domain)

	signCA, tlsCA, err := loadCAs(orgDir, org)
	if errors.Is(err, fs.ErrNotExist) {
		signCA, tlsCA, err = createCAs(orgDir, org)
	}
	if err != nil {
		return err
	}
	if org.CAOnly {
		return nil
	}

	var newNodes []string
	for _, n := range org.Nodes {
		dir := filepath.Join(root, org.NodesDir(), n.CommonName)
		created, err := writeIdentity(dir, identity{name: n.CommonName, sans: n.SANs, role: org.NodeRole()}, signCA, tlsCA, org.EnableNodeOUs)
		if err != nil {
			return fmt.Errorf("node %q: %w", n.CommonName, err)
		}
		if created {
			newNodes = append(newNodes, dir)
			fmt.Fprintf(progress, "  %s\n", n.CommonName)
		}
	}
	for _, u := range org.Users {
		id := identity{name: u, role: RoleClient, client: true, selfAdmin: true}
		if u == org.AdminName() {
			id.role = RoleAdmin
		}
		created, err := writeIdentity(filepath.Join(orgDir, "users", u), id, signCA, tlsCA, org.EnableNodeOUs)
		if err != nil {
			return fmt.Errorf("user %q: %w", u, err)
		}
		if created {
			fmt.Fprintf(progress, "  %s\n", u)
		}
	}
	if org.EnableNodeOUs {
		return nil
	}
	// Without NodeOUs the admin is recognised only by certificate, so the
	// org MSP and every node MSP carry a copy of the admin's cert.
	admin := org.AdminName()
	adminCert, err := fabcrypto.ReadCertFile(filepath.Join(orgDir, "users", admin, "msp", "signcerts", certFileName(admin)))
	if err != nil {
		return fmt.Errorf("admin certificate: %w", err)
	}
	for _, d := range append([]string{orgDir}, newNodes...) {
		if err := fabcrypto.WriteCertFile(filepath.Join(d, "msp", "admincerts", certFileName(admin)), adminCert); err != nil {
			return err
		}
	}
	return nil
}

// writeIdentity creates dir unless it already exists (extend mode).
func writeIdentity(dir string, id identity, signCA, tlsCA *fabcrypto.CA, nodeOUs bool) (bool, error) {
	if _, err := os.Stat(dir); err == nil {
		return false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	return true, writeLocalMSP(dir, id, signCA, tlsCA, nodeOUs)
}

func createCAs(orgDir string, org Org) (signCA, tlsCA *fabcrypto.CA, err error) {
	subjects := []fabcrypto.Subject{org.CA, org.CA}
	subjects[1].CommonName = org.TLSCAName()
	var cas [2]*fabcrypto.CA
	for i, dir := range []string{"ca", "tlsca"} {
		d := filepath.Join(orgDir, dir)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", dir, err)
		}
		ca, err := fabcrypto.NewRootCA(fabcrypto.RootSpec{Subject: subjects[i]})
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", dir, err)
		}
		if err := fabcrypto.WritePrivateKeyFile(filepath.Join(d, keyFileName), ca.Key); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", dir, err)
		}
		if err := fabcrypto.WriteCertFile(filepath.Join(d, certFileName(subjects[i].CommonName)), ca.Cert); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", dir, err)
		}
		cas[i] = ca
	}
	if err := writeVerifyingMSP(filepath.Join(orgDir, "msp"), cas[0], cas[1], org.EnableNodeOUs); err != nil {
		return nil, nil, fmt.Errorf("org msp: %w", err)
	}
	return cas[0], cas[1], nil
}

// loadCAs reads both CAs of an existing organization; fs.ErrNotExist means
// the organization has not been generated yet.
func loadCAs(orgDir string, org Org) (signCA, tlsCA *fabcrypto.CA, err error) {
	if _, err := os.Stat(orgDir); err != nil {
		return nil, nil, err
	}
	signCA, err = loadCA(filepath.Join(orgDir, "ca"), org.CA.CommonName)
	if err != nil {
		return nil, nil, fmt.Errorf("existing signing CA: %w", err)
	}
	tlsCA, err = loadCA(filepath.Join(orgDir, "tlsca"), org.TLSCAName())
	if err != nil {
		return nil, nil, fmt.Errorf("existing TLS CA: %w", err)
	}
	return signCA, tlsCA, nil
}

func loadCA(dir, name string) (*fabcrypto.CA, error) {
	cert, err := fabcrypto.ReadCertFile(filepath.Join(dir, certFileName(name)))
	if err != nil {
		// A plain not-exist here must not be mistaken for a missing org.
		return nil, fmt.Errorf("%s: CA certificate for %q: %v", dir, name, err)
	}
	key, err := fabcrypto.ReadPrivateKeyFile(filepath.Join(dir, keyFileName))
	if err != nil {
		return nil, fmt.Errorf("%s: CA key: %v", dir, err)
	}
	if pub, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || !pub.Equal(&key.PublicKey) {
		return nil, fmt.Errorf("%s: %s does not match the certificate %s", dir, keyFileName, certFileName(name))
	}
	return &fabcrypto.CA{Cert: cert, Key: key}, nil
}
