package server

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"weft/ca/store"
	"weft/fabcrypto"
)

// Defaults from Fabric CA's server configuration.
const (
	DefaultPasswordAttempts   = 10
	DefaultCRLExpiry          = 24 * time.Hour
	DefaultEnrollmentValidity = 8760 * time.Hour
	DefaultCAValidity         = 43800 * time.Hour
)

// CAConfig describes one hosted CA.
type CAConfig struct {
	// Name selects the CA ("caname"); it also scopes its store records.
	Name string
	// Cert and Key sign everything the CA issues. Cert may be a root or
	// an intermediate; Chain then holds its issuers, nearest first.
	Cert  *x509.Certificate
	Key   *ecdsa.PrivateKey
	Chain []*x509.Certificate
	Store store.Store
	// MaxEnrollments is Fabric CA's registry.maxenrollments: -1 means no
	// limit and 0 disables enrollment; a positive value caps every
	// identity's own limit.
	MaxEnrollments int
	// PasswordAttempts locks an identity after that many wrong secrets;
	// 0 means DefaultPasswordAttempts, negative means never lock.
	PasswordAttempts int
	// Bootstrap identities are registered when they do not exist yet.
	Bootstrap []BootstrapIdentity
	// Affiliations are added on the CA's first start (empty store).
	Affiliations []string
	// AllowIdentityRemoval and AllowAffiliationRemoval are Fabric CA's
	// cfg.identities.allowremove and cfg.affiliations.allowremove.
	AllowIdentityRemoval    bool
	AllowAffiliationRemoval bool
	// Zero durations take the Default* values above.
	CRLExpiry          time.Duration
	EnrollmentValidity time.Duration
	CAValidity         time.Duration
}

// BootstrapIdentity is an identity registered at start-up.
type BootstrapIdentity struct {
	Name, Secret, Type, Affiliation string
	Attributes                      []store.Attribute
	// MaxEnrollments: -1 unlimited (the usual value for an admin).
	MaxEnrollments int
}

// AdminIdentity is the bootstrap registrar Fabric CA creates from
// "-b name:secret": every hf.* right, all roles, root affiliation.
func AdminIdentity(name, secret string) BootstrapIdentity {
	return BootstrapIdentity{
		Name: name, Secret: secret, Type: "client", MaxEnrollments: -1,
		Attributes: []store.Attribute{
			{Name: attrRoles, Value: "*"},
			{Name: attrDelegateRoles, Value: "*"},
			{Name: attrRegistrarAttrs, Value: "*"},
			{Name: attrRevoker, Value: "true"},
			{Name: attrIntermediateCA, Value: "true"},
			{Name: attrGenCRL, Value: "true"},
			{Name: attrAffiliationMgr, Value: "true"},
		},
	}
}

type caInstance struct {
	cfg      CAConfig
	name     string
	cert     *x509.Certificate
	signer   crypto.Signer
	chainPEM []byte
	store    store.Store
	now      func() time.Time
}

func newCAInstance(ctx context.Context, cfg CAConfig, now func() time.Time) (*caInstance, error) {
	if cfg.Cert == nil || cfg.Key == nil {
		return nil, fmt.Errorf("CA %q: Cert and Key are required", cfg.Name)
	}
	if cfg.Store == nil {
		return nil, fmt.Errorf("CA %q: Store is required", cfg.Name)
	}
	if !cfg.Cert.IsCA {
		return nil, fmt.Errorf("CA %q: certificate %q is not a CA certificate", cfg.Name, cfg.Cert.Subject.CommonName)
	}
	pub, ok := cfg.Cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || !pub.Equal(&cfg.Key.PublicKey) {
		return nil, fmt.Errorf("CA %q: Key does not match the certificate's public key", cfg.Name)
	}
	if len(cfg.Cert.SubjectKeyId) == 0 {
		return nil, fmt.Errorf("CA %q: certificate has no subject key identifier", cfg.Name)
	}
	issuer := cfg.Cert
	for i, parent := range cfg.Chain {
		if err := issuer.CheckSignatureFrom(parent); err != nil {
			return nil, fmt.Errorf("CA %q: Chain[%d] did not sign the certificate before it: %w", cfg.Name, i, err)
		}
		issuer = parent
	}
	if cfg.MaxEnrollments < -1 {
		return nil, fmt.Errorf("CA %q: MaxEnrollments %d is below -1", cfg.Name, cfg.MaxEnrollments)
	}
	if cfg.PasswordAttempts == 0 {
		cfg.PasswordAttempts = DefaultPasswordAttempts
	}
	if cfg.CRLExpiry <= 0 {
		cfg.CRLExpiry = DefaultCRLExpiry
	}
	if cfg.EnrollmentValidity <= 0 {
		cfg.EnrollmentValidity = DefaultEnrollmentValidity
	}
	if cfg.CAValidity <= 0 {
		cfg.CAValidity = DefaultCAValidity
	}
	signer, err := fabcrypto.NewSigner(cfg.Key)
	if err != nil {
		return nil, fmt.Errorf("CA %q: %w", cfg.Name, err)
	}
	var chain bytes.Buffer
	chain.Write(fabcrypto.EncodeCertPEM(cfg.Cert))
	for _, c := range cfg.Chain {
		chain.Write(fabcrypto.EncodeCertPEM(c))
	}
	ca := &caInstance{cfg: cfg, name: cfg.Name, cert: cfg.Cert, signer: signer.CryptoSigner(),
		chainPEM: chain.Bytes(), store: cfg.Store, now: now}
	if err := ca.bootstrap(ctx); err != nil {
		return nil, fmt.Errorf("CA %q: %w", cfg.Name, err)
	}
	return ca, nil
}

// bootstrap registers the configured identities that do not exist and, on
// a first start, the configured affiliations.
func (ca *caInstance) bootstrap(ctx context.Context) error {
	affs, err := ca.store.ListAffiliations(ctx, ca.name)
	if err != nil {
		return fmt.Errorf("list affiliations: %w", err)
	}
	ids, err := ca.store.ListIdentities(ctx, ca.name, "")
	if err != nil {
		return fmt.Errorf("list identities: %w", err)
	}
	if len(affs) == 0 && len(ids) == 0 {
		for _, a := range ca.cfg.Affiliations {
			if err := ca.addAffiliationPath(ctx, a); err != nil {
				return fmt.Errorf("affiliation %q: %w", a, err)
			}
		}
	}
	for i, b := range ca.cfg.Bootstrap {
		if b.Name == "" || b.Secret == "" {
			return fmt.Errorf("Bootstrap[%d]: name and secret are required", i)
		}
		_, err := ca.store.GetIdentity(ctx, ca.name, b.Name)
		if err == nil {
			continue
		}
		if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("bootstrap identity %q: %w", b.Name, err)
		}
		hash, err := store.HashSecret(b.Secret)
		if err != nil {
			return fmt.Errorf("bootstrap identity %q: %w", b.Name, err)
		}
		typ := b.Type
		if typ == "" {
			typ = "client"
		}
		id := &store.Identity{CAName: ca.name, Name: b.Name, SecretHash: hash, Type: typ,
			Affiliation: b.Affiliation, MaxEnrollments: b.MaxEnrollments,
			Attributes: withFixedAttrs(b.Attributes, b.Name, typ, b.Affiliation)}
		if err := ca.store.CreateIdentity(ctx, id); err != nil && !errors.Is(err, store.ErrExists) {
			return fmt.Errorf("bootstrap identity %q: %w", b.Name, err)
		}
	}
	return nil
}

// addAffiliationPath adds a dotted affiliation and any missing parents.
func (ca *caInstance) addAffiliationPath(ctx context.Context, name string) error {
	parts := strings.Split(name, ".")
	for i := range parts {
		if parts[i] == "" {
			return fmt.Errorf("affiliation %q has an empty element", name)
		}
		err := ca.store.AddAffiliation(ctx, ca.name, strings.Join(parts[:i+1], "."))
		if err != nil && !errors.Is(err, store.ErrExists) {
			return err
		}
	}
	return nil
}

// withFixedAttrs adds the hf.EnrollmentID, hf.Type and hf.Affiliation
// attributes Fabric CA gives every identity, marked for enrollment certs.
func withFixedAttrs(attrs []store.Attribute, name, typ, aff string) []store.Attribute {
	out := make([]store.Attribute, 0, len(attrs)+3)
	for _, a := range attrs {
		switch a.Name {
		case attrEnrollmentID, attrType, attrAffiliation:
			continue
		}
		out = append(out, a)
	}
	return append(out,
		store.Attribute{Name: attrEnrollmentID, Value: name, ECert: true},
		store.Attribute{Name: attrType, Value: typ, ECert: true},
		store.Attribute{Name: attrAffiliation, Value: aff, ECert: true})
}

// info is the cainfo result, also embedded in enrollment responses.
type caInfo struct {
	CAName                    string
	CAChain                   string
	IssuerPublicKey           string
	IssuerRevocationPublicKey string
	Version                   string
}

func (ca *caInstance) info(version string) caInfo {
	return caInfo{CAName: ca.name, CAChain: b64(ca.chainPEM), Version: version}
}

func (s *Server) cainfo(rq *request) (any, error) {
	ca, err := rq.getCA()
	if err != nil {
		return nil, err
	}
	return ca.info(s.opts.Version), nil
}
