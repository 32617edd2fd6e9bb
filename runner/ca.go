package runner

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"weft/fabcrypto"
	"weft/gen/network"
	"weft/internal/atomicfile"
	nodeca "weft/node/ca"
	"weft/spec"
)

// Files in an org CA's folder (nodes/ca.<domain>/).
const (
	caSecretFile  = "admin-secret"
	caTLSCertFile = "tls/server.crt"
	caTLSKeyFile  = "tls/server.key"
	caDBFile      = "fabric-ca-server.db"
	caAdmin       = "admin"
)

// caOrgs are the spec indexes of the orgs that run a CA.
func caOrgs(n *spec.Network) []int {
	var out []int
	for k := range n.Orgs {
		if n.Orgs[k].HasCA() {
			out = append(out, k)
		}
	}
	return out
}

// orgCAFiles are the cryptogen files of an org's signing and TLS CAs.
func orgCAFiles(l network.Layout, o *spec.Org) (signCert, signKey, tlsCert, tlsKey string) {
	org := l.PeerOrgDir(o)
	return filepath.Join(org, "ca", "ca."+o.Domain+"-cert.pem"), filepath.Join(org, "ca", "priv_sk"),
		filepath.Join(org, "tlsca", "tlsca."+o.Domain+"-cert.pem"), filepath.Join(org, "tlsca", "priv_sk")
}

// caConfig is the CA server configuration of org k: its two CAs sign with
// the org's cryptogen CA keys (so the channel configs, which hold those
// certificates, stay as they are), paths relative to the config file.
func caConfig(n *spec.Network, l network.Layout, ep network.Endpoints, k int) ([]byte, error) {
	o := &n.Orgs[k]
	dir := l.CADir(o)
	rel := func(p string) string {
		r, err := filepath.Rel(dir, p)
		if err != nil {
			return p
		}
		return filepath.ToSlash(r)
	}
	signCert, signKey, tlsCert, tlsKey := orgCAFiles(l, o)
	unlimited := -1
	affs := map[string]any{strings.ToLower(o.Name): []string{"department1", "department2"}}
	f := nodeca.Config{
		Port: ep.CA(k), Address: "127.0.0.1",
		TLS:        nodeca.TLS{Enabled: true, CertFile: caTLSCertFile, KeyFile: caTLSKeyFile},
		DB:         nodeca.DB{Type: "sqlite", Datasource: caDBFile},
		Registry:   nodeca.Registry{MaxEnrollments: &unlimited, Identities: []nodeca.Identity{{Name: caAdmin, PassFile: caSecretFile, Type: "client"}}},
		Operations: nodeca.Operations{ListenAddress: fmt.Sprintf("127.0.0.1:%d", ep.CAOps(k))},
	}
	f.CAs = []nodeca.CA{
		{Name: network.CAName(o), KeyFile: rel(signKey), CertFile: rel(signCert), Affiliations: affs},
		{Name: network.TLSCAName(o), KeyFile: rel(tlsKey), CertFile: rel(tlsCert), Affiliations: affs},
	}
	var buf bytes.Buffer
	buf.WriteString("# Written by weft up: the CA of " + o.Name + ". Edits are overwritten.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&f); err != nil {
		return nil, fmt.Errorf("org %q: CA config: %w", o.Name, err)
	}
	return buf.Bytes(), enc.Close()
}

// writeCAConfigs prepares the folder of every org CA: the configuration,
// the bootstrap admin's secret and the server's TLS key pair, each created
// once and kept afterwards (the config is rewritten only when it changes).
func writeCAConfigs(n *spec.Network, l network.Layout, ep network.Endpoints) error {
	for _, k := range caOrgs(n) {
		o := &n.Orgs[k]
		dir := l.CADir(o)
		// The folder holds the database and the admin secret.
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("org %q: CA folder: %w", o.Name, err)
		}
		if err := ensureCASecret(filepath.Join(dir, caSecretFile)); err != nil {
			return fmt.Errorf("org %q: CA admin secret: %w", o.Name, err)
		}
		if err := ensureCATLS(l, o); err != nil {
			return fmt.Errorf("org %q: CA TLS certificate: %w", o.Name, err)
		}
		data, err := caConfig(n, l, ep, k)
		if err != nil {
			return err
		}
		path := l.CAConfigPath(o)
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
			continue
		}
		if err := atomicfile.Write(path, data, 0o644); err != nil {
			return fmt.Errorf("org %q: CA config: %w", o.Name, err)
		}
	}
	return nil
}

// ensureCASecret writes a random secret to path (mode 0600) unless a
// secret is there already.
func ensureCASecret(path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	buf := make([]byte, 18)
	if _, err := rand.Read(buf); err != nil {
		return err
	}
	return atomicfile.Write(path, []byte(base64.RawURLEncoding.EncodeToString(buf)+"\n"), 0o600)
}

// readCASecret returns the bootstrap admin's secret of org o's CA.
func readCASecret(l network.Layout, o *spec.Org) (string, error) {
	b, err := os.ReadFile(filepath.Join(l.CADir(o), caSecretFile))
	if err != nil {
		return "", fmt.Errorf("org %q: CA admin secret: %w", o.Name, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("org %q: CA admin secret file is empty", o.Name)
	}
	return s, nil
}

// ensureCATLS issues the CA server's TLS certificate from the org's TLS
// CA, offline, for the names apps dial it by; an existing pair is kept.
func ensureCATLS(l network.Layout, o *spec.Org) error {
	dir := l.CADir(o)
	certPath, keyPath := filepath.Join(dir, caTLSCertFile), filepath.Join(dir, caTLSKeyFile)
	_, certErr := os.Stat(certPath)
	_, keyErr := os.Stat(keyPath)
	if certErr == nil && keyErr == nil {
		return nil
	}
	_, _, tlsCertFile, tlsKeyFile := orgCAFiles(l, o)
	caCert, err := fabcrypto.ReadCertFile(tlsCertFile)
	if err != nil {
		return err
	}
	caKey, err := fabcrypto.ReadPrivateKeyFile(tlsKeyFile)
	if err != nil {
		return err
	}
	key, err := fabcrypto.GenerateKey()
	if err != nil {
		return err
	}
	host := network.CAHost(o)
	cert, err := (&fabcrypto.CA{Cert: caCert, Key: caKey}).Issue(fabcrypto.CertSpec{
		CommonName: host, SANs: []string{host, "localhost", "127.0.0.1"}, PublicKey: &key.PublicKey,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(certPath), 0o755); err != nil {
		return err
	}
	if err := fabcrypto.WritePrivateKeyFile(keyPath, key); err != nil {
		return err
	}
	return fabcrypto.WriteCertFile(certPath, cert)
}

// caProcs are the CA servers of a spec, one per org with ca: true.
func caProcs(n *spec.Network, dir, binary string, ep network.Endpoints) []proc {
	l := network.Layout{Dir: dir}
	var out []proc
	for _, k := range caOrgs(n) {
		o := &n.Orgs[k]
		out = append(out, proc{name: network.CAHost(o), kind: kindCA, path: binary,
			args:    []string{"node", "ca", "--config", l.CAConfigPath(o)},
			health:  fmt.Sprintf("http://127.0.0.1:%d/healthz", ep.CAOps(k)),
			listens: []string{fmt.Sprintf("127.0.0.1:%d", ep.CA(k)), fmt.Sprintf("127.0.0.1:%d", ep.CAOps(k))}})
	}
	return out
}

// caURL is where apps reach org k's CA (its certificate names localhost).
func caURL(ep network.Endpoints, k int) string { return fmt.Sprintf("https://localhost:%d", ep.CA(k)) }
