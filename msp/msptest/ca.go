// Package msptest builds throw-away certificate authorities, MSP configs and
// signing members for tests of msp, policy and the packages above them.
// Everything it creates is generated in memory per call.
package msptest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"

	"weft/fabcrypto"
)

// Year is a rough year, enough for validity windows in tests.
const Year = 365 * 24 * time.Hour

// CA is a test certificate authority.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	PEM  []byte
}

// CertOpts describes a certificate to issue. Zero NotBefore/NotAfter mean
// "one hour ago" and "in one year".
type CertOpts struct {
	CN        string
	OUs       []string
	NotBefore time.Time
	NotAfter  time.Time
	IsCA      bool
	// HighS makes the issuer's signature use the high-S form, which Fabric
	// MSPs sanitize away.
	HighS bool
}

// NewRootCA creates a self-signed CA valid from ten years ago to ten years
// ahead, so that back-dated test certificates still chain.
func NewRootCA(cn string) (*CA, error) {
	key, err := fabcrypto.GenerateKey()
	if err != nil {
		return nil, err
	}
	tmpl, err := template(CertOpts{CN: cn, IsCA: true, NotBefore: time.Now().Add(-10 * Year), NotAfter: time.Now().Add(10 * Year)}, &key.PublicKey)
	if err != nil {
		return nil, err
	}
	return finishCA(tmpl, tmpl, key, key, false)
}

// NewIntermediateCA issues a CA certificate under ca.
func (ca *CA) NewIntermediateCA(cn string) (*CA, error) {
	key, err := fabcrypto.GenerateKey()
	if err != nil {
		return nil, err
	}
	tmpl, err := template(CertOpts{CN: cn, IsCA: true, NotBefore: time.Now().Add(-9 * Year), NotAfter: time.Now().Add(9 * Year)}, &key.PublicKey)
	if err != nil {
		return nil, err
	}
	return finishCA(tmpl, ca.Cert, key, ca.Key, false)
}

func finishCA(tmpl, parent *x509.Certificate, key, signKey *ecdsa.PrivateKey, highS bool) (*CA, error) {
	cert, err := create(tmpl, parent, &key.PublicKey, signKey, highS)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key, PEM: EncodePEM(cert)}, nil
}

// Issue creates a certificate for a fresh P-256 key.
func (ca *CA) Issue(o CertOpts) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	if ca == nil {
		return nil, nil, errors.New("issue: CA is nil")
	}
	key, err := fabcrypto.GenerateKey()
	if err != nil {
		return nil, nil, err
	}
	tmpl, err := template(o, &key.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	cert, err := create(tmpl, ca.Cert, &key.PublicKey, ca.Key, o.HighS)
	if err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

// CRL returns a PEM CRL signed by ca revoking the given serials.
func (ca *CA) CRL(serials ...*big.Int) ([]byte, error) {
	var entries []x509.RevocationListEntry
	for _, s := range serials {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: s, RevocationTime: time.Now().Add(-time.Minute)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    big.NewInt(1),
		ThisUpdate:                time.Now().Add(-time.Hour),
		NextUpdate:                time.Now().Add(Year),
		RevokedCertificateEntries: entries,
	}, ca.Cert, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("create CRL: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), nil
}

// EncodePEM encodes cert as a CERTIFICATE PEM block.
func EncodePEM(cert *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}

func template(o CertOpts, pub *ecdsa.PublicKey) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	nb, na := o.NotBefore, o.NotAfter
	if nb.IsZero() {
		nb = time.Now().Add(-time.Hour)
	}
	if na.IsZero() {
		na = time.Now().Add(Year)
	}
	t := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: o.CN, OrganizationalUnit: o.OUs},
		NotBefore:             nb,
		NotAfter:              na,
		BasicConstraintsValid: true,
		IsCA:                  o.IsCA,
		KeyUsage:              x509.KeyUsageDigitalSignature,
	}
	if o.IsCA {
		t.KeyUsage |= x509.KeyUsageCertSign | x509.KeyUsageCRLSign
		if t.SubjectKeyId, err = fabcrypto.SKI(pub); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func create(tmpl, parent *x509.Certificate, pub *ecdsa.PublicKey, signKey *ecdsa.PrivateKey, highS bool) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, sSigner{key: signKey, high: highS})
	if err != nil {
		return nil, fmt.Errorf("create certificate %q: %w", tmpl.Subject.CommonName, err)
	}
	return x509.ParseCertificate(der)
}

// sSigner produces signatures with a chosen S half, so tests get both the
// canonical and the malleated form.
type sSigner struct {
	key  *ecdsa.PrivateKey
	high bool
}

func (s sSigner) Public() crypto.PublicKey { return &s.key.PublicKey }

func (s sSigner) Sign(_ io.Reader, digest []byte, _ crypto.SignerOpts) ([]byte, error) {
	sig, err := fabcrypto.SignDigest(s.key, digest)
	if err != nil || !s.high {
		return sig, err
	}
	return HighS(&s.key.PublicKey, sig)
}

// HighS returns the malleated (r, N-s) form of a low-S signature.
func HighS(pub *ecdsa.PublicKey, sig []byte) ([]byte, error) {
	var v struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(sig, &v); err != nil {
		return nil, err
	}
	n := pub.Curve.Params().N
	if v.S.Cmp(new(big.Int).Rsh(n, 1)) <= 0 {
		v.S = new(big.Int).Sub(n, v.S)
	}
	return asn1.Marshal(v)
}
