package client

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"weft/fabcrypto"
	"weft/msp"
)

// MSPOptions adds the optional parts of an MSP folder.
type MSPOptions struct {
	// NodeOUs writes config.yaml mapping the client, peer, admin and
	// orderer OUs (the identity types the CA stamps) to the issuing CA.
	NodeOUs bool
	// TLSCAChain, when set, fills tlscacerts/ (and tlsintermediatecerts/).
	TLSCAChain []byte
	// AdminCerts (PEM) go to admincerts/; Fabric needs admins listed
	// there when NodeOUs are off.
	AdminCerts [][]byte
	// CACertName is the file name used in cacerts/ and intermediatecerts/;
	// empty means the root CA's common name plus ".pem".
	CACertName string
}

// signCertFile is the name fabric-ca-client gives the enrolled certificate.
const signCertFile = "cert.pem"

// WriteMSP writes e as a Fabric local MSP folder in dir: signcerts,
// keystore (0600), cacerts, intermediatecerts when the chain has any, and
// the optional parts of opts. Existing files of the same names are
// replaced; other files are left alone.
func WriteMSP(dir string, e *Enrollment, opts MSPOptions) error {
	if e == nil || e.Key == nil {
		return fmt.Errorf("msp dir %s: enrollment or its key is missing", dir)
	}
	cert, err := fabcrypto.ParseCertPEM(e.Cert)
	if err != nil {
		return fmt.Errorf("msp dir %s: enrollment certificate: %w", dir, err)
	}
	if pub, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || !pub.Equal(&e.Key.PublicKey) {
		return fmt.Errorf("msp dir %s: enrollment certificate does not belong to its key", dir)
	}
	// Check the optional inputs before writing anything, so bad input does
	// not leave a half-written folder behind.
	for i, a := range opts.AdminCerts {
		if _, err := fabcrypto.ParseCertPEM(a); err != nil {
			return fmt.Errorf("msp dir %s: admin certificate %d: %w", dir, i, err)
		}
	}
	if len(opts.TLSCAChain) > 0 {
		if _, err := fabcrypto.ParseCertsPEM(opts.TLSCAChain); err != nil {
			return fmt.Errorf("msp dir %s: TLS CA chain: %w", dir, err)
		}
	}
	issuer, err := writeChain(dir, msp.DirCACerts, msp.DirIntermediateCerts, e.CAChain, opts.CACertName, cert)
	if err != nil {
		return fmt.Errorf("msp dir %s: CA chain: %w", dir, err)
	}
	if len(opts.TLSCAChain) > 0 {
		if _, err := writeChain(dir, msp.DirTLSCACerts, msp.DirTLSIntermediateCerts, opts.TLSCAChain, opts.CACertName, nil); err != nil {
			return fmt.Errorf("msp dir %s: TLS CA chain: %w", dir, err)
		}
	}
	if err := writeFile(filepath.Join(dir, msp.DirSignCerts), signCertFile, e.Cert); err != nil {
		return fmt.Errorf("msp dir %s: %w", dir, err)
	}
	keyName, err := fabcrypto.KeyFileName(&e.Key.PublicKey)
	if err != nil {
		return fmt.Errorf("msp dir %s: %w", dir, err)
	}
	if err := os.MkdirAll(filepath.Join(dir, msp.DirKeystore), 0o700); err != nil {
		return fmt.Errorf("msp dir %s: %w", dir, err)
	}
	if err := fabcrypto.WritePrivateKeyFile(filepath.Join(dir, msp.DirKeystore, keyName), e.Key); err != nil {
		return fmt.Errorf("msp dir %s: %w", dir, err)
	}
	for i, a := range opts.AdminCerts {
		if err := writeFile(filepath.Join(dir, msp.DirAdminCerts), fmt.Sprintf("admin-%d.pem", i), a); err != nil {
			return fmt.Errorf("msp dir %s: %w", dir, err)
		}
	}
	if opts.NodeOUs {
		if err := writeNodeOUs(dir, issuer); err != nil {
			return fmt.Errorf("msp dir %s: %w", dir, err)
		}
	}
	return nil
}

// WriteCAChain writes the roots of a PEM chain to dir/cacerts and the
// other certificates to dir/intermediatecerts, one certificate per file as
// the MSP loader reads only the first of each. name is as in MSPOptions.
func WriteCAChain(dir string, chainPEM []byte, name string) error {
	if _, err := writeChain(dir, msp.DirCACerts, msp.DirIntermediateCerts, chainPEM, name, nil); err != nil {
		return fmt.Errorf("msp dir %s: CA chain: %w", dir, err)
	}
	return nil
}

// writeChain returns the file, relative to dir, of the CA that issued leaf
// (or of the first CA written when leaf is nil): the one NodeOUs must name.
func writeChain(dir, rootDir, interDir string, chainPEM []byte, name string, leaf *x509.Certificate) (string, error) {
	certs, err := fabcrypto.ParseCertsPEM(chainPEM)
	if err != nil {
		return "", err
	}
	var roots, inters []*x509.Certificate
	for _, c := range certs {
		if bytes.Equal(c.RawSubject, c.RawIssuer) && c.CheckSignatureFrom(c) == nil {
			roots = append(roots, c)
		} else {
			inters = append(inters, c)
		}
	}
	if len(roots) == 0 {
		return "", errors.New("no self-signed root certificate in the chain")
	}
	if name == "" {
		name = fileSafe(roots[0].Subject.CommonName) + ".pem"
	}
	if name != filepath.Base(name) || name == "." || name == ".." {
		return "", fmt.Errorf("CA file name %q must not contain a path", name)
	}
	var issuer string
	write := func(sub string, list []*x509.Certificate) error {
		for i, c := range list {
			fn := name
			if i > 0 {
				ext := filepath.Ext(name)
				fn = fmt.Sprintf("%s-%d%s", strings.TrimSuffix(name, ext), i, ext)
			}
			if err := writeFile(filepath.Join(dir, sub), fn, fabcrypto.EncodeCertPEM(c)); err != nil {
				return err
			}
			rel := filepath.ToSlash(filepath.Join(sub, fn))
			if issuer == "" && (leaf == nil || leaf.CheckSignatureFrom(c) == nil) {
				issuer = rel
			}
		}
		return nil
	}
	// Intermediates first: with a chain, the leaf's issuer is one of them.
	if err := write(interDir, inters); err != nil {
		return "", err
	}
	if err := write(rootDir, roots); err != nil {
		return "", err
	}
	if issuer == "" {
		return "", errors.New("no certificate in the chain issued the enrollment certificate")
	}
	return issuer, nil
}

// fileSafe keeps a common name usable as a file name.
func fileSafe(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '-'
	}, s)
	s = strings.Trim(s, ".")
	if s == "" {
		return "ca"
	}
	return s
}

func writeFile(dir, name string, data []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

func writeNodeOUs(dir, issuer string) error {
	ou := func(name string) *msp.OUConfig {
		return &msp.OUConfig{Certificate: issuer, OrganizationalUnitIdentifier: name}
	}
	conf := msp.DirConfig{NodeOUs: &msp.NodeOUsConfig{
		Enable:              true,
		ClientOUIdentifier:  ou("client"),
		PeerOUIdentifier:    ou("peer"),
		AdminOUIdentifier:   ou("admin"),
		OrdererOUIdentifier: ou("orderer"),
	}}
	data, err := yaml.Marshal(&conf)
	if err != nil {
		return fmt.Errorf("%s: %w", msp.ConfigFileName, err)
	}
	return writeFile(dir, msp.ConfigFileName, data)
}

// LoadSigner reads an MSP folder's enrolled identity back: the first
// certificate in signcerts and the keystore key that matches it.
func LoadSigner(mspDir string) (*Signer, error) {
	certDir := filepath.Join(mspDir, msp.DirSignCerts)
	entries, err := os.ReadDir(certDir)
	if err != nil {
		return nil, fmt.Errorf("msp dir %s: %w", mspDir, err)
	}
	var certPEM []byte
	var cert *x509.Certificate
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(certDir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("msp dir %s: %w", mspDir, err)
		}
		if c, err := fabcrypto.ParseCertPEM(data); err == nil {
			certPEM, cert = data, c
			break
		}
	}
	if cert == nil {
		return nil, fmt.Errorf("msp dir %s: %s: no certificate found", mspDir, msp.DirSignCerts)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("msp dir %s: %s: certificate key is %T, want ECDSA", mspDir, msp.DirSignCerts, cert.PublicKey)
	}
	keyDir := filepath.Join(mspDir, msp.DirKeystore)
	keys, err := os.ReadDir(keyDir)
	if err != nil {
		return nil, fmt.Errorf("msp dir %s: %w", mspDir, err)
	}
	for _, e := range keys {
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(keyDir, e.Name()))
		if err != nil {
			continue
		}
		if b, _ := pem.Decode(data); b == nil {
			continue
		}
		key, err := fabcrypto.ParsePrivateKeyPEM(data)
		if err == nil && key.PublicKey.Equal(pub) {
			return &Signer{Cert: certPEM, Key: key}, nil
		}
	}
	return nil, fmt.Errorf("msp dir %s: %s: no private key matches the certificate in %s", mspDir, msp.DirKeystore, msp.DirSignCerts)
}
