package client

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"

	"weft/fabcrypto"
)

// Signer is an enrolled identity that authenticates requests: the
// certificate the CA issued (PEM) and its private key.
type Signer struct {
	Cert []byte
	Key  *ecdsa.PrivateKey
}

// certificate parses the signer's certificate and checks that it belongs
// to its key, so a mismatched pair fails here rather than as an opaque 401.
func (s *Signer) certificate() (*x509.Certificate, error) {
	if s == nil {
		return nil, errors.New("signer is nil")
	}
	if s.Key == nil {
		return nil, errors.New("signer: private key is nil")
	}
	cert, err := fabcrypto.ParseCertPEM(s.Cert)
	if err != nil {
		return nil, fmt.Errorf("signer: certificate: %w", err)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || !pub.Equal(&s.Key.PublicKey) {
		return nil, errors.New("signer: certificate does not belong to the private key")
	}
	return cert, nil
}

// Token builds the Authorization value fabric-ca expects: base64 of the PEM
// certificate, a dot, and base64 of a low-S ECDSA signature over
// METHOD.b64(request URI).b64(body).b64(cert).
func (s *Signer) Token(method, requestURI string, body []byte) (string, error) {
	if _, err := s.certificate(); err != nil {
		return "", err
	}
	b64 := base64.StdEncoding.EncodeToString
	cert := b64(s.Cert)
	payload := method + "." + b64([]byte(requestURI)) + "." + b64(body) + "." + cert
	sig, err := fabcrypto.Sign(s.Key, []byte(payload))
	if err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	return cert + "." + b64(sig), nil
}

func (s *Signer) auth() authFunc {
	return func(req *http.Request, body []byte) error {
		tok, err := s.Token(req.Method, req.URL.RequestURI(), body)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", tok)
		return nil
	}
}

func basicAuth(id, secret string) authFunc {
	return func(req *http.Request, _ []byte) error {
		req.SetBasicAuth(id, secret)
		return nil
	}
}
