package comm

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"weft/fabcrypto"
)

// cipherSuites are the TLS 1.2 suites Fabric nodes offer: forward secret and
// AEAD only. TLS 1.3 suites are not configurable in Go and are all fine.
var cipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
}

// ServerTLSConfig returns a server configuration presenting certPEM/keyPEM.
//
// With requireClientCert the client must present a certificate chaining to
// one of clientRootCAs. Without it the server still asks for a certificate
// but does not verify its chain: the handshake proves the client holds the
// key, which is all that orderer cluster authentication needs (it compares
// the certificate with the consenter set), and Fabric orderers do the same.
func ServerTLSConfig(certPEM, keyPEM []byte, clientRootCAs [][]byte, requireClientCert bool) (*tls.Config, error) {
	cert, err := keyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("server TLS: %w", err)
	}
	conf := baseConfig()
	conf.Certificates = []tls.Certificate{cert}
	conf.ClientAuth = tls.RequestClientCert
	if len(clientRootCAs) > 0 {
		if conf.ClientCAs, err = certPool(clientRootCAs); err != nil {
			return nil, fmt.Errorf("server TLS: clientRootCAs: %w", err)
		}
	}
	if requireClientCert {
		if conf.ClientCAs == nil {
			return nil, errors.New("server TLS: clientRootCAs: empty, but client certificates are required")
		}
		conf.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return conf, nil
}

// ClientTLSConfig returns a client configuration that verifies the server
// against rootCAs and serverName (empty = the host of the dialled address).
// certPEM and keyPEM, when both set, are presented as the client certificate.
func ClientTLSConfig(certPEM, keyPEM []byte, rootCAs [][]byte, serverName string) (*tls.Config, error) {
	conf := baseConfig()
	if err := setClientCert(conf, certPEM, keyPEM); err != nil {
		return nil, fmt.Errorf("client TLS: %w", err)
	}
	if len(rootCAs) == 0 {
		return nil, errors.New("client TLS: rootCAs: empty")
	}
	pool, err := certPool(rootCAs)
	if err != nil {
		return nil, fmt.Errorf("client TLS: rootCAs: %w", err)
	}
	conf.RootCAs = pool
	conf.ServerName = serverName
	return conf, nil
}

// PinnedClientTLSConfig returns a client configuration that accepts exactly
// one server certificate, serverCertPEM, whatever host name was dialled.
// Orderer endpoints in channel configs often do not match the SANs of the
// consenter's TLS certificate, so host name verification cannot be used;
// the consenter set pins the certificate instead. certPEM and keyPEM, when
// both set, are presented as the client certificate.
func PinnedClientTLSConfig(certPEM, keyPEM []byte, serverCertPEM []byte) (*tls.Config, error) {
	conf := baseConfig()
	if err := setClientCert(conf, certPEM, keyPEM); err != nil {
		return nil, fmt.Errorf("pinned client TLS: %w", err)
	}
	pinned, err := fabcrypto.ParseCertPEM(serverCertPEM)
	if err != nil {
		return nil, fmt.Errorf("pinned client TLS: serverCertPEM: %w", err)
	}
	// Chain and host name checks are replaced by VerifyConnection, which
	// runs on every handshake, resumed ones included.
	conf.InsecureSkipVerify = true
	conf.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("server presented no certificate")
		}
		got := cs.PeerCertificates[0]
		if !bytes.Equal(got.Raw, pinned.Raw) {
			return fmt.Errorf("server certificate (subject %q) is not the pinned certificate (subject %q)",
				got.Subject.String(), pinned.Subject.String())
		}
		now := time.Now()
		if conf.Time != nil {
			now = conf.Time()
		}
		if now.Before(got.NotBefore) || now.After(got.NotAfter) {
			return fmt.Errorf("server certificate (subject %q) is not valid at %s (valid %s to %s)",
				got.Subject.String(), now.UTC().Format(time.RFC3339),
				got.NotBefore.UTC().Format(time.RFC3339), got.NotAfter.UTC().Format(time.RFC3339))
		}
		return nil
	}
	return conf, nil
}

func baseConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		CipherSuites: cipherSuites,
	}
}

// setClientCert installs the client certificate through GetClientCertificate
// so that it is sent even when the server's list of acceptable CAs does not
// name its issuer (Go would otherwise send no certificate at all, and the
// server's error would hide the cause).
func setClientCert(conf *tls.Config, certPEM, keyPEM []byte) error {
	if len(certPEM) == 0 && len(keyPEM) == 0 {
		return nil
	}
	cert, err := keyPair(certPEM, keyPEM)
	if err != nil {
		return fmt.Errorf("client certificate: %w", err)
	}
	conf.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		return &cert, nil
	}
	return nil
}

func keyPair(certPEM, keyPEM []byte) (tls.Certificate, error) {
	switch {
	case len(certPEM) == 0:
		return tls.Certificate{}, errors.New("certPEM: empty")
	case len(keyPEM) == 0:
		return tls.Certificate{}, errors.New("keyPEM: empty")
	}
	if _, err := fabcrypto.ParseCertsPEM(certPEM); err != nil {
		return tls.Certificate{}, fmt.Errorf("certPEM: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// The tls error never contains key material, only its kind.
		return tls.Certificate{}, fmt.Errorf("key pair: %w", err)
	}
	return cert, nil
}

func certPool(pems [][]byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	for i, p := range pems {
		certs, err := fabcrypto.ParseCertsPEM(p)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		for _, c := range certs {
			pool.AddCert(c)
		}
	}
	return pool, nil
}
