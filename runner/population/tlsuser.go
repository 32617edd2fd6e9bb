package population

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"weft/comm"
	"weft/msp"
)

// TLSUser is an identity that talks to orderers: it signs with its MSP
// identity and presents its TLS client certificate, since orderers require
// mutual TLS on their client and admin ports.
type TLSUser struct {
	Signer          *msp.SigningIdentity
	TLSCert, TLSKey []byte
}

// LoadTLSUser reads the MSP and TLS material of a user folder
// (…/users/<name>@<domain>) as cryptogen lays it out.
func LoadTLSUser(userDir, mspID string) (*TLSUser, error) {
	s, err := msp.LoadSigningIdentity(filepath.Join(userDir, "msp"), mspID)
	if err != nil {
		return nil, err
	}
	cert, err := os.ReadFile(filepath.Join(userDir, "tls", "client.crt"))
	if err != nil {
		return nil, fmt.Errorf("user %s: TLS client certificate: %w", filepath.Base(userDir), err)
	}
	key, err := os.ReadFile(filepath.Join(userDir, "tls", "client.key"))
	if err != nil {
		return nil, fmt.Errorf("user %s: TLS client key: %w", filepath.Base(userDir), err)
	}
	return &TLSUser{Signer: s, TLSCert: cert, TLSKey: key}, nil
}

// CertHash binds a deliver request to the TLS session it travels on.
func (t *TLSUser) CertHash() []byte { return comm.CertHash(t.TLSCert) }

// AdminHTTPClient is an HTTP client for an orderer's channel participation
// API: it presents user's TLS client certificate and trusts only tlsCA,
// expecting serverName in the orderer's certificate.
func AdminHTTPClient(user *TLSUser, tlsCA []byte, serverName string) (*http.Client, error) {
	if user == nil {
		return nil, errors.New("admin HTTP client: user is nil")
	}
	pair, err := tls.X509KeyPair(user.TLSCert, user.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("admin TLS identity: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(tlsCA) {
		return nil, errors.New("admin HTTP client: TLS CA: no PEM certificate")
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		Certificates: []tls.Certificate{pair}, RootCAs: pool, ServerName: serverName, MinVersion: tls.VersionTLS12,
	}}}, nil
}
