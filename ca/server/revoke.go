package server

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"

	"weft/ca/store"
)

// RFC 5280 reason codes by the names Fabric CA clients send.
var reasonCodes = map[string]int{
	"unspecified":          0,
	"keycompromise":        1,
	"cacompromise":         2,
	"affiliationchanged":   3,
	"superseded":           4,
	"cessationofoperation": 5,
	"certificatehold":      6,
	"removefromcrl":        8,
	"privilegewithdrawn":   9,
	"aacompromise":         10,
}

const reasonCessationOfOperation = 5

type revocationRequest struct {
	Name   string `json:"id"`
	Serial string `json:"serial"`
	AKI    string `json:"aki"`
	Reason string `json:"reason"`
	GenCRL bool   `json:"gencrl"`
}

type revokedCert struct {
	Serial string
	AKI    string
}

// POST /revoke: by serial+AKI one certificate, by id the identity and all
// its certificates.
func (s *Server) revoke(rq *request) (any, error) {
	var req revocationRequest
	if err := rq.readBody(&req); err != nil {
		return nil, err
	}
	if _, err := rq.tokenAuth(true); err != nil {
		return nil, err
	}
	ca, caller := rq.ca, rq.caller
	reason := 0
	if req.Reason != "" {
		r, ok := reasonCodes[strings.ToLower(req.Reason)]
		if !ok {
			return nil, newHTTPErr(http.StatusBadRequest, ErrBadReqBody, "reason: %q is not a revocation reason", req.Reason)
		}
		reason = r
	}
	serial, aki := normHex(req.Serial), normHex(req.AKI)
	now := ca.now()
	result := struct {
		RevokedCerts []revokedCert
		CRL          string
	}{RevokedCerts: []revokedCert{}}
	switch {
	case serial != "" && aki != "":
		recs, err := ca.store.ListCertificates(rq.ctx, ca.name, store.CertFilter{Serial: serial, AKI: aki})
		if err != nil {
			return nil, fmt.Errorf("look up certificate %s: %w", serial, err)
		}
		if len(recs) == 0 {
			return nil, newHTTPErr(http.StatusNotFound, ErrRevCertNotFound, "Certificate with serial %s and AKI %s was not found", serial, aki)
		}
		owner := recs[0].ID
		if owner != caller.id.Name && !attrTrue(caller.id, attrRevoker) {
			return nil, authzErr(ErrNotRevoker, "Caller does not have authority to revoke")
		}
		if recs[0].Status == "revoked" {
			return nil, newHTTPErr(http.StatusNotFound, ErrCertAlreadyRevoked, "Certificate with serial %s and AKI %s was already revoked", serial, aki)
		}
		if req.Name != "" && req.Name != owner {
			return nil, newHTTPErr(http.StatusBadRequest, ErrCertWrongOwner, "Certificate with serial %s and AKI %s is not owned by %s", serial, aki, req.Name)
		}
		ownCert := false
		if caller.cert != nil {
			cs, ca := certKeys(caller.cert)
			ownCert = cs == serial && ca == aki
		}
		if !ownCert {
			target, err := ca.store.GetIdentity(rq.ctx, ca.name, owner)
			if err != nil {
				return nil, newHTTPErr(http.StatusNotFound, ErrRevokeIDNotFound, "Identity %s was not found: %s", owner, err)
			}
			if err := rq.canManage(target); err != nil {
				return nil, err
			}
		}
		done, err := ca.store.RevokeCertificates(rq.ctx, ca.name, store.CertFilter{Serial: serial, AKI: aki}, reason, now)
		if err != nil {
			return nil, newHTTPErr(http.StatusInternalServerError, ErrRevokeFailure, "Revoke of certificate <%s,%s> failed: %s", serial, aki, err)
		}
		for _, c := range done {
			result.RevokedCerts = append(result.RevokedCerts, revokedCert{Serial: c.Serial, AKI: c.AKI})
		}
	case req.Name != "":
		if req.Name != caller.id.Name && !attrTrue(caller.id, attrRevoker) {
			return nil, authzErr(ErrNotRevoker, "Caller does not have authority to revoke")
		}
		target, err := ca.store.GetIdentity(rq.ctx, ca.name, req.Name)
		if err != nil {
			return nil, newHTTPErr(http.StatusNotFound, ErrRevokeIDNotFound, "Identity %s was not found: %s", req.Name, err)
		}
		if target.Name != caller.id.Name {
			if err := rq.canManage(target); err != nil {
				return nil, err
			}
		}
		if _, err := ca.updateIdentity(rq.ctx, target.Name, func(u *store.Identity) error {
			u.Revoked = true
			return nil
		}); err != nil {
			return nil, newHTTPErr(http.StatusInternalServerError, ErrRevokeUpdateUser, "Failed to revoke user: %s", err)
		}
		done, err := ca.store.RevokeCertificates(rq.ctx, ca.name, store.CertFilter{ID: target.Name}, reason, now)
		if err != nil {
			return nil, newHTTPErr(http.StatusInternalServerError, ErrRevokeFailure, "Failed to revoke certificates for '%s': %s", target.Name, err)
		}
		for _, c := range done {
			result.RevokedCerts = append(result.RevokedCerts, revokedCert{Serial: c.Serial, AKI: c.AKI})
		}
	default:
		return nil, newHTTPErr(http.StatusBadRequest, ErrMissingRevokeArgs, "Either Name or Serial and AKI are required for a revoke request")
	}
	if req.GenCRL && len(result.RevokedCerts) > 0 {
		crl, err := ca.genCRL(rq, crlRequest{})
		if err != nil {
			return nil, err
		}
		result.CRL = b64(crl)
	}
	return result, nil
}

type crlRequest struct {
	RevokedAfter  time.Time `json:"revokedafter"`
	RevokedBefore time.Time `json:"revokedbefore"`
	ExpireAfter   time.Time `json:"expireafter"`
	ExpireBefore  time.Time `json:"expirebefore"`
}

// POST /gencrl (hf.GenCRL required).
func (s *Server) gencrl(rq *request) (any, error) {
	var req crlRequest
	if err := rq.readBody(&req); err != nil {
		return nil, err
	}
	if _, err := rq.tokenAuth(false); err != nil {
		return nil, err
	}
	if !attrTrue(rq.caller.id, attrGenCRL) {
		return nil, authzErr(ErrNoGenCRLAuth, "The identity '%s' does not have authority to generate a CRL", rq.caller.id.Name)
	}
	crl, err := rq.ca.genCRL(rq, req)
	if err != nil {
		return nil, err
	}
	return struct{ CRL string }{b64(crl)}, nil
}

// genCRL signs a PEM CRL of the revoked certificates in the windows asked.
func (ca *caInstance) genCRL(rq *request, req crlRequest) ([]byte, error) {
	if !req.RevokedBefore.IsZero() && req.RevokedAfter.After(req.RevokedBefore) {
		return nil, newHTTPErr(http.StatusBadRequest, ErrInvalidRevokedAfter,
			"Invalid 'revokedafter' value. It must not be a timestamp greater than 'revokedbefore'")
	}
	if !req.ExpireBefore.IsZero() && req.ExpireAfter.After(req.ExpireBefore) {
		return nil, newHTTPErr(http.StatusBadRequest, ErrInvalidExpiredAfter,
			"Invalid 'expireafter' value. It must not be a timestamp greater than 'expirebefore'")
	}
	if ca.cert.KeyUsage&x509.KeyUsageCRLSign == 0 {
		return nil, newHTTPErr(http.StatusInternalServerError, ErrNoCrlSignAuth,
			"The CA does not have authority to generate a CRL. Its certificate does not have 'crl sign' key usage")
	}
	revoked := true
	recs, err := ca.store.ListCertificates(rq.ctx, ca.name, store.CertFilter{
		Revoked: &revoked, RevokedAfter: req.RevokedAfter, RevokedBefore: req.RevokedBefore})
	if err != nil {
		return nil, newHTTPErr(http.StatusInternalServerError, ErrRevokedCertsFromDB, "Failed to get revoked certificates: %s", err)
	}
	now := ca.now().UTC()
	var entries []x509.RevocationListEntry
	for _, c := range recs {
		if (!req.ExpireAfter.IsZero() && c.Expiry.Before(req.ExpireAfter)) ||
			(!req.ExpireBefore.IsZero() && c.Expiry.After(req.ExpireBefore)) {
			continue
		}
		sn, ok := new(big.Int).SetString(c.Serial, 16)
		if !ok {
			return nil, fmt.Errorf("stored serial %q is not hex", c.Serial)
		}
		entries = append(entries, x509.RevocationListEntry{SerialNumber: sn, RevocationTime: c.RevokedAt.UTC(), ReasonCode: c.Reason})
	}
	// A time-based number keeps successive CRLs increasing across restarts.
	tmpl := &x509.RevocationList{
		Number:                    big.NewInt(now.UnixNano()),
		ThisUpdate:                now,
		NextUpdate:                now.Add(ca.cfg.CRLExpiry),
		RevokedCertificateEntries: entries,
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.cert, ca.signer)
	if err != nil {
		return nil, newHTTPErr(http.StatusInternalServerError, ErrGenCRL, "Failed to generate CRL for CA '%s': %s", ca.name, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), nil
}
