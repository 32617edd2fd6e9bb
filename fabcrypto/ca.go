package fabcrypto

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

const (
	// Backdate is subtracted from "now" for every certificate's NotBefore so
	// that a client whose clock is slightly behind, or that enrols within the
	// same second the CA was created, never sees a "not yet valid" cert.
	Backdate = 5 * time.Minute
	// DefaultValidity matches cryptogen's ten years (3650 days).
	DefaultValidity = 3650 * 24 * time.Hour
)

// Subject holds the distinguished-name fields weft sets; empty fields are
// left out of the certificate.
type Subject struct {
	CommonName         string
	Organization       string
	OrganizationalUnit string
	Country            string
	Province           string
	Locality           string
	StreetAddress      string
	PostalCode         string
}

func (s Subject) pkix() pkix.Name {
	var n pkix.Name
	n.CommonName = s.CommonName
	add := func(dst *[]string, v string) {
		if v != "" {
			*dst = []string{v}
		}
	}
	add(&n.Organization, s.Organization)
	add(&n.OrganizationalUnit, s.OrganizationalUnit)
	add(&n.Country, s.Country)
	add(&n.Province, s.Province)
	add(&n.Locality, s.Locality)
	add(&n.StreetAddress, s.StreetAddress)
	add(&n.PostalCode, s.PostalCode)
	return n
}

// CA is a certificate authority able to issue Fabric MSP and TLS certs.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// RootSpec describes a self-signed root CA.
type RootSpec struct {
	Subject
	// Key is used when set; otherwise a fresh P-256 key is generated.
	Key *ecdsa.PrivateKey
	// Validity defaults to DefaultValidity.
	Validity time.Duration
}

// CertSpec describes a certificate to issue.
type CertSpec struct {
	CommonName string
	// Organization is left empty by cryptogen on node and user certs.
	Organization string
	// OrganizationalUnits are added to the CA's own OU, if any; NodeOU
	// roles ("peer", "client", ...) go here.
	OrganizationalUnits []string
	// SANs entries that parse as IP addresses become IP SANs, the rest DNS.
	SANs        []string
	KeyUsage    x509.KeyUsage
	ExtKeyUsage []x509.ExtKeyUsage
	IsCA        bool
	PublicKey   *ecdsa.PublicKey
	Validity    time.Duration
}

// NewRootCA creates a self-signed CA with cryptogen's CA profile: key usages
// digitalSignature, keyEncipherment, certSign and cRLSign, extended usages
// clientAuth and serverAuth, and SKI = SHA-256 of the public point.
func NewRootCA(spec RootSpec) (*CA, error) {
	if spec.CommonName == "" {
		return nil, errors.New("new root CA: CommonName is empty")
	}
	key := spec.Key
	if key == nil {
		var err error
		if key, err = GenerateKey(); err != nil {
			return nil, fmt.Errorf("new root CA %q: %w", spec.CommonName, err)
		}
	}
	ski, err := SKI(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("new root CA %q: %w", spec.CommonName, err)
	}
	tmpl, err := baseTemplate(spec.Validity)
	if err != nil {
		return nil, fmt.Errorf("new root CA %q: %w", spec.CommonName, err)
	}
	tmpl.Subject = spec.Subject.pkix()
	tmpl.IsCA = true
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment |
		x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth}
	tmpl.SubjectKeyId = ski
	cert, err := create(tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("new root CA %q: %w", spec.CommonName, err)
	}
	return &CA{Cert: cert, Key: key}, nil
}

// Issue signs a certificate for spec.PublicKey. The subject inherits the
// CA's country, province, locality, street, postal code and OU, which is
// how cryptogen derives node and user subjects.
func (ca *CA) Issue(spec CertSpec) (*x509.Certificate, error) {
	if ca == nil || ca.Cert == nil || ca.Key == nil {
		return nil, errors.New("issue: CA certificate or key is missing")
	}
	if spec.CommonName == "" {
		return nil, errors.New("issue: CommonName is empty")
	}
	if spec.PublicKey == nil {
		return nil, fmt.Errorf("issue %q: PublicKey is nil", spec.CommonName)
	}
	tmpl, err := baseTemplate(spec.Validity)
	if err != nil {
		return nil, fmt.Errorf("issue %q: %w", spec.CommonName, err)
	}
	parent := ca.Cert.Subject
	tmpl.Subject = pkix.Name{
		CommonName:         spec.CommonName,
		Country:            parent.Country,
		Province:           parent.Province,
		Locality:           parent.Locality,
		StreetAddress:      parent.StreetAddress,
		PostalCode:         parent.PostalCode,
		OrganizationalUnit: append(append([]string(nil), parent.OrganizationalUnit...), spec.OrganizationalUnits...),
	}
	if spec.Organization != "" {
		tmpl.Subject.Organization = []string{spec.Organization}
	}
	for _, san := range spec.SANs {
		if ip := net.ParseIP(san); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if san != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, san)
		}
	}
	tmpl.KeyUsage = spec.KeyUsage
	tmpl.ExtKeyUsage = spec.ExtKeyUsage
	tmpl.IsCA = spec.IsCA
	if spec.IsCA {
		// Without this Go would derive a SHA-1 SKI; Fabric uses SHA-256.
		if tmpl.SubjectKeyId, err = SKI(spec.PublicKey); err != nil {
			return nil, fmt.Errorf("issue %q: %w", spec.CommonName, err)
		}
	}
	cert, err := create(tmpl, ca.Cert, spec.PublicKey, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("issue %q: %w", spec.CommonName, err)
	}
	return cert, nil
}

// NotBefore returns the start of validity for a certificate created now:
// rounded to the minute, as cryptogen does, then backdated.
func NotBefore(now time.Time) time.Time {
	return now.Round(time.Minute).Add(-Backdate).UTC()
}

func baseTemplate(validity time.Duration) (*x509.Certificate, error) {
	if validity < 0 {
		return nil, fmt.Errorf("validity %s is negative", validity)
	}
	if validity == 0 {
		validity = DefaultValidity
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("serial number: %w", err)
	}
	nb := NotBefore(time.Now())
	return &x509.Certificate{
		SerialNumber:          serial,
		NotBefore:             nb,
		NotAfter:              nb.Add(validity),
		BasicConstraintsValid: true,
	}, nil
}

func create(tmpl, parent *x509.Certificate, pub *ecdsa.PublicKey, signKey *ecdsa.PrivateKey) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, lowSSigner{signKey})
	if err != nil {
		return nil, fmt.Errorf("create certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse created certificate: %w", err)
	}
	return cert, nil
}
