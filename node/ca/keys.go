package ca

import (
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"weft/ca/server"
	"weft/ca/store"
	"weft/fabcrypto"
)

// defaultRootValidity is Fabric CA's default root lifetime (131400h).
const defaultRootValidity = 131400 * time.Hour

// defaultAffiliations are those of Fabric CA's sample configuration, used
// when a CA's file has no affiliations key.
var defaultAffiliations = []string{"org1", "org1.department1", "org1.department2", "org2", "org2.department1"}

// caConfig builds the server's view of cas[i].
func (c *Config) caConfig(i int, st store.Store, lookupEnv func(string) (string, bool), log *slog.Logger) (server.CAConfig, error) {
	ca := c.CAs[i]
	key := fmt.Sprintf("cas[%d]", i)
	cert, priv, err := c.loadOrGenerate(ca, key, log)
	if err != nil {
		return server.CAConfig{}, err
	}
	var chain []*x509.Certificate
	if ca.ChainFile != "" {
		data, err := os.ReadFile(c.path(ca.ChainFile))
		if err != nil {
			return server.CAConfig{}, fmt.Errorf("%s.chainfile: %w", key, err)
		}
		if chain, err = fabcrypto.ParseCertsPEM(data); err != nil {
			return server.CAConfig{}, fmt.Errorf("%s.chainfile: %w", key, err)
		}
	}
	reg := c.registryOf(i)
	maxEnroll := -1
	if reg.MaxEnrollments != nil {
		maxEnroll = *reg.MaxEnrollments
	}
	var boot []server.BootstrapIdentity
	for j, id := range reg.Identities {
		ik := fmt.Sprintf("%s.registry.identities[%d]", key, j)
		secret, err := c.secretOf(id, ik, lookupEnv)
		if err != nil {
			return server.CAConfig{}, err
		}
		b := server.AdminIdentity(id.Name, secret)
		if id.Type != "" {
			b.Type = id.Type
		}
		b.Affiliation = id.Affiliation
		if id.MaxEnrollments != nil {
			b.MaxEnrollments = *id.MaxEnrollments
		}
		if len(id.Attrs) > 0 {
			b.Attributes = nil
			for name, v := range id.Attrs {
				b.Attributes = append(b.Attributes, store.Attribute{Name: name, Value: v})
			}
		}
		boot = append(boot, b)
	}
	affs := defaultAffiliations
	if ca.Affiliations != nil {
		affs, _ = affiliationNames(ca.Affiliations) // checked by Validate
	}
	return server.CAConfig{
		Name: ca.Name, Cert: cert, Key: priv, Chain: chain, Store: st,
		MaxEnrollments: maxEnroll, PasswordAttempts: c.Cfg.Identities.PasswordAttempts,
		Bootstrap: boot, Affiliations: affs,
		AllowIdentityRemoval: c.Cfg.Identities.AllowRemove, AllowAffiliationRemoval: c.Cfg.Affiliations.AllowRemove,
		CRLExpiry: c.CRL.Expiry,
	}, nil
}

func (c *Config) secretOf(id Identity, key string, lookupEnv func(string) (string, bool)) (string, error) {
	switch {
	case id.Pass != "":
		return id.Pass, nil
	case id.PassEnv != "":
		v, ok := lookupEnv(id.PassEnv)
		if !ok || v == "" {
			return "", fmt.Errorf("%s.passenv: environment variable %s is not set", key, id.PassEnv)
		}
		return v, nil
	default:
		data, err := os.ReadFile(c.path(id.PassFile))
		if err != nil {
			return "", fmt.Errorf("%s.passfile: %w", key, err)
		}
		line, _, _ := strings.Cut(string(data), "\n")
		if line = strings.TrimSpace(line); line == "" {
			return "", fmt.Errorf("%s.passfile: %s is empty", key, id.PassFile)
		}
		return line, nil
	}
}

func mkdirs(paths ...string) error {
	for _, p := range paths {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
	}
	return nil
}

func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return false, err
}

// loadOrGenerate reads the CA's key pair, or creates a self-signed root
// from csr when neither file exists (a first start).
func (c *Config) loadOrGenerate(ca CA, key string, log *slog.Logger) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	certPath, keyPath := c.path(ca.CertFile), c.path(ca.KeyFile)
	certOK, err := exists(certPath)
	if err != nil {
		return nil, nil, fmt.Errorf("%s.certfile: %w", key, err)
	}
	keyOK, err := exists(keyPath)
	if err != nil {
		return nil, nil, fmt.Errorf("%s.keyfile: %w", key, err)
	}
	switch {
	case certOK && keyOK:
		cert, err := fabcrypto.ReadCertFile(certPath)
		if err != nil {
			return nil, nil, fmt.Errorf("%s.certfile: %w", key, err)
		}
		priv, err := fabcrypto.ReadPrivateKeyFile(keyPath)
		if err != nil {
			return nil, nil, fmt.Errorf("%s.keyfile: %w", key, err)
		}
		return cert, priv, nil
	case certOK:
		return nil, nil, fmt.Errorf("%s.keyfile: %s does not exist but certfile %s does", key, keyPath, certPath)
	case keyOK:
		return nil, nil, fmt.Errorf("%s.certfile: %s does not exist but keyfile %s does", key, certPath, keyPath)
	}
	if ca.ChainFile != "" {
		return nil, nil, fmt.Errorf("%s.certfile: an intermediate CA (chainfile set) needs its certificate and key; they are not generated", key)
	}
	subj := fabcrypto.Subject{CommonName: ca.CSR.CN}
	if subj.CommonName == "" {
		subj.CommonName = ca.Name
	}
	if len(ca.CSR.Names) > 0 {
		n := ca.CSR.Names[0]
		subj.Country, subj.Province, subj.Locality, subj.Organization, subj.OrganizationalUnit = n.C, n.ST, n.L, n.O, n.OU
	}
	validity := ca.CSR.Expiry
	if validity == 0 {
		validity = defaultRootValidity
	}
	root, err := fabcrypto.NewRootCA(fabcrypto.RootSpec{Subject: subj, Validity: validity})
	if err != nil {
		return nil, nil, fmt.Errorf("%s.csr: %w", key, err)
	}
	if err := mkdirs(keyPath, certPath); err != nil {
		return nil, nil, fmt.Errorf("%s.keyfile: %w", key, err)
	}
	if err := fabcrypto.WritePrivateKeyFile(keyPath, root.Key); err != nil {
		return nil, nil, fmt.Errorf("%s.keyfile: %w", key, err)
	}
	if err := fabcrypto.WriteCertFile(certPath, root.Cert); err != nil {
		return nil, nil, fmt.Errorf("%s.certfile: %w", key, err)
	}
	log.Info("generated CA root", "ca", ca.Name, "cert", certPath)
	return root.Cert, root.Key, nil
}

var clientAuthTypes = map[string]tls.ClientAuthType{
	"":                           tls.NoClientCert,
	"NoClientCert":               tls.NoClientCert,
	"RequestClientCert":          tls.RequestClientCert,
	"RequireAnyClientCert":       tls.RequireAnyClientCert,
	"VerifyClientCertIfGiven":    tls.VerifyClientCertIfGiven,
	"RequireAndVerifyClientCert": tls.RequireAndVerifyClientCert,
}

// tlsConfig loads the listener's key pair, issuing one from the first CA
// when neither file exists.
func (c *Config) tlsConfig(first server.CAConfig, log *slog.Logger) (*tls.Config, error) {
	certPath, keyPath := c.path(c.TLS.CertFile), c.path(c.TLS.KeyFile)
	certOK, err := exists(certPath)
	if err != nil {
		return nil, fmt.Errorf("tls.certfile: %w", err)
	}
	keyOK, err := exists(keyPath)
	if err != nil {
		return nil, fmt.Errorf("tls.keyfile: %w", err)
	}
	if certOK != keyOK {
		return nil, fmt.Errorf("tls.certfile/tls.keyfile: only one of %s and %s exists", certPath, keyPath)
	}
	if !certOK {
		priv, err := fabcrypto.GenerateKey()
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		issuer := &fabcrypto.CA{Cert: first.Cert, Key: first.Key}
		cert, err := issuer.Issue(fabcrypto.CertSpec{
			CommonName: c.TLS.Hosts[0], SANs: c.TLS.Hosts, PublicKey: &priv.PublicKey,
			KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
			Validity:    time.Until(first.Cert.NotAfter),
		})
		if err != nil {
			return nil, fmt.Errorf("tls: issue server certificate: %w", err)
		}
		if err := mkdirs(keyPath, certPath); err != nil {
			return nil, fmt.Errorf("tls.keyfile: %w", err)
		}
		if err := fabcrypto.WritePrivateKeyFile(keyPath, priv); err != nil {
			return nil, fmt.Errorf("tls.keyfile: %w", err)
		}
		if err := fabcrypto.WriteCertFile(certPath, cert); err != nil {
			return nil, fmt.Errorf("tls.certfile: %w", err)
		}
		log.Info("generated TLS certificate", "cert", certPath, "hosts", c.TLS.Hosts)
	}
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return nil, fmt.Errorf("tls.certfile/tls.keyfile: %w", err)
	}
	conf := &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12,
		ClientAuth: clientAuthTypes[c.TLS.ClientAuth.Type]}
	if len(c.TLS.ClientAuth.CertFiles) > 0 {
		conf.ClientCAs = x509.NewCertPool()
		for i, f := range c.TLS.ClientAuth.CertFiles {
			data, err := os.ReadFile(c.path(f))
			if err != nil {
				return nil, fmt.Errorf("tls.clientauth.certfiles[%d]: %w", i, err)
			}
			if !conf.ClientCAs.AppendCertsFromPEM(data) {
				return nil, fmt.Errorf("tls.clientauth.certfiles[%d]: %s holds no PEM certificate", i, f)
			}
		}
	}
	return conf, nil
}
