package server

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"weft/ca/store"
	"weft/fabcrypto"
)

// profile is a signing profile of Fabric CA's default configuration.
type profile struct {
	keyUsage    x509.KeyUsage
	extKeyUsage []x509.ExtKeyUsage
	isCA        bool
}

var profiles = map[string]profile{
	// Enrollment certificates: signing only.
	"": {keyUsage: x509.KeyUsageDigitalSignature},
	"tls": {
		keyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageKeyAgreement,
		extKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	},
	// Intermediate CAs: may sign certificates and CRLs, not further CAs.
	"ca": {keyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, isCA: true},
}

// AttrOID is the extension Fabric CA puts identity attributes in, as JSON
// {"attrs":{"name":"value",...}}; chaincode reads it through the client
// identity library.
var AttrOID = asn1.ObjectIdentifier{1, 2, 3, 4, 5, 6, 7, 8, 1}

// attributeExtension builds the attribute extension. With no attr_reqs the
// identity's ecert attributes are included; a requested attribute the
// identity lacks is an error unless marked optional.
func attributeExtension(reqs []attrRequest, id *store.Identity) (*pkix.Extension, error) {
	if reqs == nil {
		for _, a := range id.Attributes {
			if a.ECert {
				reqs = append(reqs, attrRequest{Name: a.Name})
			}
		}
		if reqs == nil {
			return nil, nil
		}
	}
	attrs := map[string]string{}
	var missing []string
	for _, r := range reqs {
		v, ok := attrOf(id, r.Name)
		if !ok {
			if !r.Optional {
				missing = append(missing, r.Name)
			}
			continue
		}
		attrs[r.Name] = v
	}
	if len(missing) > 0 {
		return nil, newHTTPErr(http.StatusInternalServerError, ErrUnknown,
			"Failed to find requested attributes: the following required attributes are missing: %v", missing)
	}
	val, err := json.Marshal(struct {
		Attrs map[string]string `json:"attrs"`
	}{attrs})
	if err != nil {
		return nil, newHTTPErr(http.StatusInternalServerError, ErrAttrExt, "attribute extension: %s", err)
	}
	return &pkix.Extension{Id: AttrOID, Value: val}, nil
}

// issue signs a certificate for the CSR's key and records it.
func (ca *caInstance) issue(rq *request, id *store.Identity, csr *x509.CertificateRequest,
	hosts []string, p profile, attrExt *pkix.Extension) ([]byte, error) {
	pub := csr.PublicKey.(*ecdsa.PublicKey)
	ski, err := fabcrypto.SKI(pub)
	if err != nil {
		return nil, newHTTPErr(http.StatusBadRequest, ErrBadCSR, "certificate_request: public key: %s", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 159))
	if err != nil {
		return nil, fmt.Errorf("serial number: %w", err)
	}
	serial.Add(serial, big.NewInt(1)) // never zero
	validity := ca.cfg.EnrollmentValidity
	if p.isCA {
		validity = ca.cfg.CAValidity
	}
	now := ca.now()
	notBefore := fabcrypto.NotBefore(now)
	if notBefore.Before(ca.cert.NotBefore) {
		notBefore = ca.cert.NotBefore
	}
	notAfter := now.Round(time.Minute).Add(validity).UTC()
	if notAfter.After(ca.cert.NotAfter) {
		notAfter = ca.cert.NotAfter
	}
	rawSubject, err := subjectFor(csr.Subject, id)
	if err != nil {
		return nil, fmt.Errorf("encode subject: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		RawSubject:            rawSubject,
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              p.keyUsage,
		ExtKeyUsage:           p.extKeyUsage,
		BasicConstraintsValid: true,
		IsCA:                  p.isCA,
		MaxPathLenZero:        p.isCA,
		SubjectKeyId:          ski,
		DNSNames:              csr.DNSNames,
		IPAddresses:           csr.IPAddresses,
		EmailAddresses:        csr.EmailAddresses,
		URIs:                  csr.URIs,
	}
	if len(hosts) > 0 {
		// The request's hosts replace the CSR's names, as in cfssl.
		tmpl.DNSNames, tmpl.IPAddresses, tmpl.EmailAddresses, tmpl.URIs = nil, nil, nil, nil
		for _, h := range hosts {
			switch {
			case h == "":
			case net.ParseIP(h) != nil:
				tmpl.IPAddresses = append(tmpl.IPAddresses, net.ParseIP(h))
			case strings.Contains(h, "@"):
				tmpl.EmailAddresses = append(tmpl.EmailAddresses, h)
			case strings.Contains(h, "://"):
				u, err := url.Parse(h)
				if err != nil {
					return nil, newHTTPErr(http.StatusBadRequest, ErrBadReqBody, "hosts: %q is not a valid URI: %s", h, err)
				}
				tmpl.URIs = append(tmpl.URIs, u)
			default:
				tmpl.DNSNames = append(tmpl.DNSNames, h)
			}
		}
	}
	if attrExt != nil {
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, *attrExt)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.signer)
	if err != nil {
		return nil, fmt.Errorf("Certificate signing failure: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse issued certificate: %w", err)
	}
	certPEM := fabcrypto.EncodeCertPEM(cert)
	s, aki := certKeys(cert)
	rec := &store.Certificate{CAName: ca.name, ID: id.Name, Serial: s, AKI: aki, Status: "good",
		NotBefore: cert.NotBefore, Expiry: cert.NotAfter, PEM: certPEM}
	if err := ca.store.PutCertificate(rq.ctx, rec); err != nil {
		return nil, fmt.Errorf("record certificate %s: %w", s, err)
	}
	return certPEM, nil
}
