package client

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net"

	"weft/fabcrypto"
)

// CAInfo describes the CA a server runs.
type CAInfo struct {
	CAName string
	// CAChain is the PEM chain of the CA's signing certificate, issuing
	// CA first as the server sends it.
	CAChain []byte
	Version string
}

// Name is one subject entry of the certificate request.
type Name struct {
	C, ST, L, O, OU string
}

// AttrReq asks for an attribute in the enrollment certificate; a
// non-optional one the identity lacks makes the enrollment fail.
type AttrReq struct {
	Name     string `json:"name"`
	Optional bool   `json:"optional,omitempty"`
}

// EnrollRequest shapes the certificate to be issued.
type EnrollRequest struct {
	// Profile selects the CA's signing profile, e.g. "tls".
	Profile string
	// Hosts become the certificate's SANs (DNS names or IPs).
	Hosts []string
	// CN defaults to the enrollment ID; the CA insists they match.
	CN       string
	Names    []Name
	AttrReqs []AttrReq
}

// Enrollment is what a successful enroll or reenroll returns.
type Enrollment struct {
	Key     *ecdsa.PrivateKey
	Cert    []byte
	CAChain []byte
	CAName  string
	Version string
}

// Signer returns the enrollment as an identity that can call the CA.
func (e *Enrollment) Signer() *Signer { return &Signer{Cert: e.Cert, Key: e.Key} }

type caInfoNet struct {
	CAName                    string
	CAChain                   string
	IssuerPublicKey           string
	IssuerRevocationPublicKey string
	Version                   string
}

func (n caInfoNet) decode() (*CAInfo, error) {
	chain, err := base64.StdEncoding.DecodeString(n.CAChain)
	if err != nil {
		return nil, fmt.Errorf("CAChain: %w", err)
	}
	return &CAInfo{CAName: n.CAName, CAChain: chain, Version: n.Version}, nil
}

type enrollNet struct {
	Hosts    []string  `json:"hosts,omitempty"`
	CSR      string    `json:"certificate_request"`
	Profile  string    `json:"profile,omitempty"`
	AttrReqs []AttrReq `json:"attr_reqs,omitempty"`
	CAName   string    `json:"caname,omitempty"`
}

type enrollResultNet struct {
	Cert       string
	ServerInfo caInfoNet
}

// CAInfo asks the server about its CA; no credentials are needed.
func (c *Client) CAInfo(ctx context.Context) (*CAInfo, error) {
	var res caInfoNet
	body := struct {
		CAName string `json:"caname,omitempty"`
	}{c.CAName}
	if err := c.do(ctx, "POST", "cainfo", nil, body, nil, &res); err != nil {
		return nil, err
	}
	info, err := res.decode()
	if err != nil {
		return nil, fmt.Errorf("CA cainfo: %w", err)
	}
	return info, nil
}

// Enroll exchanges an enrollment ID and secret for a certificate. The key
// pair is generated here and never leaves the process.
func (c *Client) Enroll(ctx context.Context, id, secret string, req EnrollRequest) (*Enrollment, error) {
	if id == "" {
		return nil, errors.New("enroll: enrollment ID is empty")
	}
	if secret == "" {
		return nil, fmt.Errorf("enroll %q: secret is empty", id)
	}
	return c.enroll(ctx, "enroll", id, req, basicAuth(id, secret))
}

// Reenroll renews signer's certificate with a fresh key; the subject CN
// defaults to the one in the current certificate.
func (c *Client) Reenroll(ctx context.Context, signer *Signer, req EnrollRequest) (*Enrollment, error) {
	cert, err := signer.certificate()
	if err != nil {
		return nil, fmt.Errorf("reenroll: %w", err)
	}
	return c.enroll(ctx, "reenroll", cert.Subject.CommonName, req, signer.auth())
}

func (c *Client) enroll(ctx context.Context, endpoint, id string, req EnrollRequest, auth authFunc) (*Enrollment, error) {
	key, err := fabcrypto.GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", endpoint, id, err)
	}
	csr, err := makeCSR(key, id, req)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", endpoint, id, err)
	}
	body := enrollNet{Hosts: req.Hosts, CSR: string(csr), Profile: req.Profile, AttrReqs: req.AttrReqs, CAName: c.CAName}
	var res enrollResultNet
	if err := c.do(ctx, "POST", endpoint, nil, body, auth, &res); err != nil {
		return nil, err
	}
	certPEM, err := base64.StdEncoding.DecodeString(res.Cert)
	if err != nil {
		return nil, fmt.Errorf("CA %s: Cert: %w", endpoint, err)
	}
	cert, err := fabcrypto.ParseCertPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("CA %s: Cert: %w", endpoint, err)
	}
	if pub, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || !pub.Equal(&key.PublicKey) {
		return nil, fmt.Errorf("CA %s: issued certificate is not for the requested key", endpoint)
	}
	info, err := res.ServerInfo.decode()
	if err != nil {
		return nil, fmt.Errorf("CA %s: ServerInfo: %w", endpoint, err)
	}
	return &Enrollment{Key: key, Cert: certPEM, CAChain: info.CAChain, CAName: info.CAName, Version: info.Version}, nil
}

// makeCSR builds a PEM PKCS#10 request signed (low-S) with key.
func makeCSR(key *ecdsa.PrivateKey, id string, req EnrollRequest) ([]byte, error) {
	cn := req.CN
	if cn == "" {
		cn = id
	}
	subject := pkix.Name{CommonName: cn}
	add := func(dst *[]string, v string) {
		if v != "" {
			*dst = append(*dst, v)
		}
	}
	for _, n := range req.Names {
		add(&subject.Country, n.C)
		add(&subject.Province, n.ST)
		add(&subject.Locality, n.L)
		add(&subject.Organization, n.O)
		add(&subject.OrganizationalUnit, n.OU)
	}
	tmpl := &x509.CertificateRequest{Subject: subject, SignatureAlgorithm: x509.ECDSAWithSHA256}
	for _, h := range req.Hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	signer, err := fabcrypto.NewSigner(key)
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, signer.CryptoSigner())
	if err != nil {
		return nil, fmt.Errorf("certificate request: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}
