package msp

import (
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	mspproto "weft/wire/msp"

	"google.golang.org/protobuf/proto"
)

// TypeFabric is the MSPConfig.type of X.509 MSPs; 1 (Idemix) is unsupported.
const TypeFabric = 0

// ouIdentifier is an OU string optionally bound to the chain hash of the CA
// that must have certified it.
type ouIdentifier struct {
	ou         string
	certifiers []byte
}

// MSP validates identities of one organisation. It is immutable after New
// apart from Now, which must be set before concurrent use.
type MSP struct {
	// Now is the clock certificate validity is checked against; nil means
	// time.Now.
	Now func() time.Time

	name          string
	conf          *mspproto.FabricMSPConfig
	roots         []*x509.Certificate
	intermediates []*x509.Certificate
	rootPool      *x509.CertPool
	interPool     *x509.CertPool
	// internal holds CAs that issued another configured CA: Fabric only
	// accepts identities issued by a leaf of the CA tree.
	internal map[string]bool
	admins   []*x509.Certificate
	crls     []*x509.RevocationList
	ous      map[string][][]byte
	nodeOUs  bool
	client   *ouIdentifier
	peer     *ouIdentifier
	admin    *ouIdentifier
	orderer  *ouIdentifier
	// ids remembers deserialized identities; nil disables the cache.
	ids *identityCache
}

// New builds and checks an MSP from its channel-config form.
func New(cfg *mspproto.MSPConfig) (*MSP, error) {
	if cfg == nil {
		return nil, errors.New("msp config is nil")
	}
	if cfg.GetType() != TypeFabric {
		return nil, fmt.Errorf("msp config: type %d is not supported, want %d (FABRIC)", cfg.GetType(), TypeFabric)
	}
	conf := &mspproto.FabricMSPConfig{}
	if err := proto.Unmarshal(cfg.GetConfig(), conf); err != nil {
		return nil, fmt.Errorf("msp config: unmarshal FabricMSPConfig: %w", err)
	}
	if conf.GetName() == "" {
		return nil, errors.New("msp config: name (MSP ID) is empty")
	}
	m := &MSP{name: conf.GetName(), conf: conf, ids: newIdentityCache(DefaultIdentityCacheSize)}
	steps := []struct {
		what string
		fn   func() error
	}{
		{"crypto_config", m.setupCrypto},
		{"root_certs/intermediate_certs", m.setupCAs},
		{"revocation_list", m.setupCRLs},
		{"CA tree", m.finalizeCAs},
		{"tls_root_certs/tls_intermediate_certs", m.setupTLSCAs},
		{"organizational_unit_identifiers", m.setupOUs},
		{"fabric_node_ous", m.setupNodeOUs},
		{"admins", m.setupAdmins},
	}
	for _, s := range steps {
		if err := s.fn(); err != nil {
			return nil, fmt.Errorf("msp %q: %s: %w", m.name, s.what, err)
		}
	}
	return m, nil
}

// ID returns the MSP ID.
func (m *MSP) ID() string { return m.name }

// Config returns the FabricMSPConfig the MSP was built from; callers must
// not modify it.
func (m *MSP) Config() *mspproto.FabricMSPConfig { return m.conf }

// TLSRootCerts returns the PEM TLS root certificates of the organisation.
func (m *MSP) TLSRootCerts() [][]byte { return m.conf.GetTlsRootCerts() }

// TLSIntermediateCerts returns the PEM TLS intermediate certificates.
func (m *MSP) TLSIntermediateCerts() [][]byte { return m.conf.GetTlsIntermediateCerts() }

// NodeOUsEnabled reports whether identities are classified by NodeOUs.
func (m *MSP) NodeOUsEnabled() bool { return m.nodeOUs }

func (m *MSP) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// DeserializeIdentity parses a marshaled SerializedIdentity of this MSP. Like
// Fabric it already needs the certificate to chain to the MSP's CAs (to
// sanitize it); full validation is Validate's job.
//
// Outcomes are cached by the serialized bytes, so a repeated identity costs
// a map lookup; the returned Identity is shared and must not be modified.
func (m *MSP) DeserializeIdentity(serialized []byte) (*Identity, error) {
	if m.ids == nil {
		return m.deserialize(serialized)
	}
	if e, ok := m.ids.get(serialized); ok {
		return e.id, e.err
	}
	// The identity keeps its serialized form, so it gets its own copy: the
	// caller's buffer may be reused after this call.
	own := append([]byte(nil), serialized...)
	id, err := m.deserialize(own)
	m.ids.put(own, cachedIdentity{id: id, err: err})
	return id, err
}

func (m *MSP) deserialize(serialized []byte) (*Identity, error) {
	mspID, cert, err := ParseSerialized(serialized)
	if err != nil {
		return nil, err
	}
	if mspID != m.name {
		return nil, fmt.Errorf("serialized identity: mspid %q does not match MSP %q", mspID, m.name)
	}
	clean, err := m.sanitizeIdentityCert(cert)
	if err != nil {
		return nil, fmt.Errorf("serialized identity of %q (subject %q): %w", mspID, cert.Subject.CommonName, err)
	}
	return newIdentity(m.name, clean, serialized, m), nil
}

func (m *MSP) sanitizeIdentityCert(cert *x509.Certificate) (*x509.Certificate, error) {
	if !isECDSASigned(cert) {
		return cert, nil
	}
	chain, err := m.verifyChain(cert, m.rootPool, m.interPool)
	if err != nil {
		return nil, err
	}
	if len(chain) < 2 {
		return nil, errors.New("certificate is itself a root CA of the MSP, not an identity")
	}
	return sanitize(cert, chain[1])
}

// verifyChain builds the single chain from cert to a root. Validity is
// checked as of cert.NotBefore+1s, as Fabric does: CA expiry must not make
// old signatures unverifiable, and the identity's own clock check is
// separate (see Validate).
func (m *MSP) verifyChain(cert *x509.Certificate, roots, inters *x509.CertPool) ([]*x509.Certificate, error) {
	opts := x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inters,
		CurrentTime:   cert.NotBefore.Add(time.Second),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}
	chains, err := cert.Verify(opts)
	if err != nil {
		return nil, fmt.Errorf("certificate does not chain to a CA of MSP %q: %w", m.name, err)
	}
	if len(chains) != 1 {
		return nil, fmt.Errorf("certificate has %d validation chains in MSP %q, exactly one is supported", len(chains), m.name)
	}
	return chains[0], nil
}

// chainID is the certifiers identifier of a chain: SHA-256 over the raw DER
// of its certificates in order.
func chainID(chain []*x509.Certificate) []byte {
	h := sha256.New()
	for _, c := range chain {
		h.Write(c.Raw)
	}
	return h.Sum(nil)
}
