package server

import (
	"crypto/ecdsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"net/http"
	"strings"

	"weft/ca/store"
)

// enrollRequest is cfssl's SignRequest plus Fabric CA's fields.
type enrollRequest struct {
	Hosts    []string      `json:"hosts"`
	Request  string        `json:"certificate_request"`
	Profile  string        `json:"profile"`
	Label    string        `json:"label"`
	CAName   string        `json:"caname"`
	AttrReqs []attrRequest `json:"attr_reqs"`
	Subject  *struct {
		CN string `json:"CN"`
	} `json:"subject"`
}

type attrRequest struct {
	Name     string `json:"name"`
	Optional bool   `json:"optional"`
}

type enrollResponse struct {
	Cert       string
	ServerInfo caInfo
}

// POST /enroll: basic authentication with the enrollment secret.
func (s *Server) enroll(rq *request) (any, error) {
	id, err := rq.basicAuth()
	if err != nil {
		return nil, err
	}
	return s.issueFor(rq, id, true)
}

// POST /reenroll: token authentication with a current certificate.
func (s *Server) reenroll(rq *request) (any, error) {
	id, err := rq.tokenAuth(true)
	if err != nil {
		return nil, err
	}
	return s.issueFor(rq, id, false)
}

func (s *Server) issueFor(rq *request, id *store.Identity, countEnrollment bool) (any, error) {
	var req enrollRequest
	if err := rq.readBody(&req); err != nil {
		return nil, err
	}
	ca := rq.ca
	profile, ok := profiles[req.Profile]
	if !ok {
		return nil, newHTTPErr(http.StatusBadRequest, ErrBadReqBody, "profile: %q is not one of \"\", \"tls\", \"ca\"", req.Profile)
	}
	csr, err := parseCSR(req.Request)
	if err != nil {
		return nil, err
	}
	if csr.Subject.CommonName != id.Name || (req.Subject != nil && req.Subject.CN != "" && req.Subject.CN != id.Name) {
		return nil, newHTTPErr(http.StatusForbidden, ErrCNInvalidEnroll, "The CSR subject common name must equal the enrollment ID")
	}
	wantsCA, err := csrRequestsCA(csr)
	if err != nil {
		return nil, err
	}
	if (profile.isCA || wantsCA) && !attrTrue(id, attrIntermediateCA) {
		return nil, authzErr(ErrInvokerMissAttr, "Enrollment of %q for a CA certificate failed: %s is not true", id.Name, attrIntermediateCA)
	}
	if err := checkSubjectLengths(csr.Subject); err != nil {
		return nil, err
	}
	attrExt, err := attributeExtension(req.AttrReqs, id)
	if err != nil {
		return nil, err
	}
	if countEnrollment {
		if err := rq.enrollDone(id.Name); err != nil {
			return nil, err
		}
	}
	certPEM, err := ca.issue(rq, id, csr, req.Hosts, profile, attrExt)
	if err != nil {
		return nil, err
	}
	rq.status = http.StatusCreated
	return enrollResponse{Cert: b64(certPEM), ServerInfo: ca.info(s.opts.Version)}, nil
}

func parseCSR(p string) (*x509.CertificateRequest, error) {
	block, _ := pem.Decode([]byte(p))
	if block == nil {
		return nil, newHTTPErr(http.StatusBadRequest, ErrBadCSR, "CSR Decode failed: certificate_request is not PEM")
	}
	if block.Type != "CERTIFICATE REQUEST" && block.Type != "NEW CERTIFICATE REQUEST" {
		return nil, newHTTPErr(http.StatusBadRequest, ErrBadCSR, "certificate_request: PEM block %q is not a certificate request", block.Type)
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, newHTTPErr(http.StatusBadRequest, ErrBadCSR, "certificate_request: %s", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, newHTTPErr(http.StatusBadRequest, ErrBadCSR, "certificate_request: signature: %s", err)
	}
	if _, ok := csr.PublicKey.(*ecdsa.PublicKey); !ok {
		return nil, newHTTPErr(http.StatusBadRequest, ErrBadCSR, "certificate_request: public key is not ECDSA")
	}
	return csr, nil
}

var oidBasicConstraints = asn1.ObjectIdentifier{2, 5, 29, 19}

// csrRequestsCA reports a basic-constraints extension asking for CA:true.
func csrRequestsCA(csr *x509.CertificateRequest) (bool, error) {
	for _, ext := range csr.Extensions {
		if !ext.Id.Equal(oidBasicConstraints) {
			continue
		}
		var bc struct {
			IsCA       bool `asn1:"optional"`
			MaxPathLen int  `asn1:"optional,default:-1"`
		}
		rest, err := asn1.Unmarshal(ext.Value, &bc)
		if err != nil {
			return false, newHTTPErr(http.StatusBadRequest, ErrBadCSR, "Failed parsing CSR constraints: %s", err)
		}
		if len(rest) != 0 {
			return false, newHTTPErr(http.StatusBadRequest, ErrBadCSR, "Trailing data after X.509 BasicConstraints")
		}
		return bc.IsCA, nil
	}
	return false, nil
}

// Fabric CA's upper bounds for subject fields.
var subjectLimits = []struct {
	oid  asn1.ObjectIdentifier
	name string
	max  int
}{
	{asn1.ObjectIdentifier{2, 5, 4, 3}, "CN", 64},
	{asn1.ObjectIdentifier{2, 5, 4, 5}, "serial number", 64},
	{asn1.ObjectIdentifier{2, 5, 4, 6}, "country name", 2},
	{asn1.ObjectIdentifier{2, 5, 4, 7}, "locality name", 128},
	{asn1.ObjectIdentifier{2, 5, 4, 8}, "state name", 128},
	{asn1.ObjectIdentifier{2, 5, 4, 10}, "organization name", 64},
	{asn1.ObjectIdentifier{2, 5, 4, 11}, "organizational unit name", 64},
}

func checkSubjectLengths(subj pkix.Name) error {
	for _, n := range subj.Names {
		v, _ := n.Value.(string)
		for _, l := range subjectLimits {
			if n.Type.Equal(l.oid) && len(v) > l.max {
				return newHTTPErr(http.StatusBadRequest, ErrInputValidCSR,
					"CSR input validation failed: the %s '%s' exceeds the maximum character limit of %d", l.name, v, l.max)
			}
		}
	}
	return nil
}

// subjectFor keeps the CSR's CN and location/organization fields and
// replaces its OUs with the identity's type and affiliation path, which is
// what Fabric's NodeOU classification reads. Every value is its own RDN,
// in Fabric CA's order (C, ST, L, O, OUs, CN): Go's encoder would fold the
// OUs into one DER-sorted set and lose their order.
func subjectFor(csr pkix.Name, id *store.Identity) ([]byte, error) {
	var seq pkix.RDNSequence
	add := func(oid asn1.ObjectIdentifier, values ...string) {
		for _, v := range values {
			if v != "" {
				seq = append(seq, pkix.RelativeDistinguishedNameSET{{Type: oid, Value: v}})
			}
		}
	}
	add(asn1.ObjectIdentifier{2, 5, 4, 6}, csr.Country...)
	add(asn1.ObjectIdentifier{2, 5, 4, 8}, csr.Province...)
	add(asn1.ObjectIdentifier{2, 5, 4, 7}, csr.Locality...)
	add(asn1.ObjectIdentifier{2, 5, 4, 9}, csr.StreetAddress...)
	add(asn1.ObjectIdentifier{2, 5, 4, 17}, csr.PostalCode...)
	add(asn1.ObjectIdentifier{2, 5, 4, 10}, csr.Organization...)
	add(asn1.ObjectIdentifier{2, 5, 4, 11}, id.Type)
	add(asn1.ObjectIdentifier{2, 5, 4, 11}, strings.Split(id.Affiliation, ".")...)
	add(asn1.ObjectIdentifier{2, 5, 4, 3}, id.Name)
	add(asn1.ObjectIdentifier{2, 5, 4, 5}, csr.SerialNumber)
	return asn1.Marshal(seq)
}
