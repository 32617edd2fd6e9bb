package msp

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"

	"weft/fabcrypto"
)

// parseCertPEM decodes the first PEM block of data as an X.509 certificate.
// A missing type is tolerated because Fabric tolerates it.
func parseCertPEM(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	if block.Type != "CERTIFICATE" && block.Type != "" {
		return nil, fmt.Errorf("PEM block type %q, want CERTIFICATE", block.Type)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse certificate: %w", err)
	}
	return cert, nil
}

func encodeCertPEM(cert *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}

func isECDSASigned(cert *x509.Certificate) bool {
	switch cert.SignatureAlgorithm {
	case x509.ECDSAWithSHA1, x509.ECDSAWithSHA256, x509.ECDSAWithSHA384, x509.ECDSAWithSHA512:
		return true
	}
	return false
}

// rawCert mirrors the outer Certificate SEQUENCE so that only the signature
// is replaced and the signed TBS bytes are kept verbatim.
type rawCert struct {
	TBS       asn1.RawValue
	Algorithm pkix.AlgorithmIdentifier
	Signature asn1.BitString
}

// sanitize rewrites an ECDSA issuer signature into low-S form. Fabric does
// this so that the two valid encodings of one certificate compare equal
// (admin lists, IDENTITY principals, certifiers identifiers).
func sanitize(cert, parent *x509.Certificate) (*x509.Certificate, error) {
	if !isECDSASigned(cert) {
		return cert, nil
	}
	pub, ok := parent.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("issuer %q of an ECDSA-signed certificate has a %T key", parent.Subject.CommonName, parent.PublicKey)
	}
	low, err := fabcrypto.ToLowS(pub, cert.Signature)
	if err != nil {
		return nil, fmt.Errorf("certificate %q: issuer signature: %w", cert.Subject.CommonName, err)
	}
	if bytes.Equal(low, cert.Signature) {
		return cert, nil
	}
	var rc rawCert
	if rest, err := asn1.Unmarshal(cert.Raw, &rc); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("certificate %q: re-encode: malformed outer structure", cert.Subject.CommonName)
	}
	rc.Signature = asn1.BitString{Bytes: low, BitLength: 8 * len(low)}
	der, err := asn1.Marshal(rc)
	if err != nil {
		return nil, fmt.Errorf("certificate %q: re-encode: %w", cert.Subject.CommonName, err)
	}
	out, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("certificate %q: re-parse sanitized: %w", cert.Subject.CommonName, err)
	}
	return out, nil
}

var (
	oidSKI = asn1.ObjectIdentifier{2, 5, 29, 14}
	oidAKI = asn1.ObjectIdentifier{2, 5, 29, 35}
)

func subjectKeyID(cert *x509.Certificate) ([]byte, error) {
	for _, ext := range cert.Extensions {
		if ext.Id.Equal(oidSKI) {
			var ski []byte
			if _, err := asn1.Unmarshal(ext.Value, &ski); err != nil {
				return nil, fmt.Errorf("malformed subject key identifier: %w", err)
			}
			return ski, nil
		}
	}
	return nil, errors.New("subject key identifier extension missing")
}

// parseCRL accepts PEM or DER, as Fabric's crls folder may hold either.
func parseCRL(data []byte) (*x509.RevocationList, error) {
	der := data
	if block, _ := pem.Decode(data); block != nil {
		der = block.Bytes
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, err
	}
	return rl, nil
}
