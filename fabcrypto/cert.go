package fabcrypto

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// EncodeCertPEM returns cert as a "CERTIFICATE" PEM block.
func EncodeCertPEM(cert *x509.Certificate) []byte {
	if cert == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}

// WriteCertFile writes cert as PEM to path with mode 0644; certificates are
// public, and Fabric tools expect to read them without privileges.
func WriteCertFile(path string, cert *x509.Certificate) error {
	if cert == nil {
		return fmt.Errorf("write certificate %s: certificate is nil", path)
	}
	if err := os.WriteFile(path, EncodeCertPEM(cert), 0o644); err != nil {
		return fmt.Errorf("write certificate: %w", err)
	}
	return nil
}

// ParseCertPEM parses exactly one certificate; extra PEM blocks are an error
// so that a bundle passed where a single identity is expected is noticed.
func ParseCertPEM(data []byte) (*x509.Certificate, error) {
	certs, err := ParseCertsPEM(data)
	if err != nil {
		return nil, err
	}
	if len(certs) != 1 {
		return nil, fmt.Errorf("parse certificate: found %d certificates, want exactly 1", len(certs))
	}
	return certs[0], nil
}

// ParseCertsPEM parses a bundle of one or more "CERTIFICATE" PEM blocks.
// Non-certificate blocks and trailing non-whitespace are errors.
func ParseCertsPEM(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	rest := data
	for i := 0; ; i++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("parse certificates: PEM block %d has type %q, want \"CERTIFICATE\"", i, block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse certificates: block %d: %w", i, err)
		}
		certs = append(certs, c)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("parse certificates: trailing data that is not a PEM block")
	}
	if len(certs) == 0 {
		return nil, errors.New("parse certificates: no PEM certificate found")
	}
	return certs, nil
}

// ReadCertFile loads a single PEM certificate from path.
func ReadCertFile(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read certificate: %w", err)
	}
	c, err := ParseCertPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
