package server

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"weft/ca/store"
	"weft/fabcrypto"
)

// callerInfo is who an authenticated request comes from.
type callerInfo struct {
	id   *store.Identity
	cert *x509.Certificate // nil after basic authentication
}

// basicAuth checks an enrollment id and secret the way Fabric CA's login
// does: lock-out after too many wrong secrets, revoked identities and
// exhausted enrollment allowances refused. It does not count the
// enrollment; enrollDone does, once a certificate was issued.
func (rq *request) basicAuth() (*store.Identity, error) {
	if rq.r.Header.Get("Authorization") == "" {
		return nil, newHTTPErr(http.StatusUnauthorized, ErrNoAuthHdr, "No authorization header")
	}
	name, secret, ok := rq.r.BasicAuth()
	if !ok {
		return nil, authnErr(ErrNoUserPass, "No user/pass in authorization header")
	}
	ca, err := rq.getCA()
	if err != nil {
		return nil, err
	}
	if ca.cfg.MaxEnrollments == 0 {
		return nil, authnErr(ErrEnrollDisabled, "Enroll is disabled")
	}
	id, err := ca.store.GetIdentity(rq.ctx, ca.name, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, authnErr(ErrInvalidUser, "Failed to get user %q: not registered", name)
	}
	if err != nil {
		return nil, fmt.Errorf("get identity %q: %w", name, err)
	}
	if limit := ca.cfg.PasswordAttempts; limit > 0 && id.IncorrectAttempts >= limit {
		return nil, newHTTPErr(http.StatusUnauthorized, ErrPasswordAttempts,
			"Incorrect password entered %d times, max incorrect password limit of %d reached", id.IncorrectAttempts, limit)
	}
	if !store.CheckSecret(id.SecretHash, secret) {
		if _, err := ca.updateIdentity(rq.ctx, name, func(u *store.Identity) error {
			u.IncorrectAttempts++
			return nil
		}); err != nil {
			return nil, fmt.Errorf("count incorrect password of %q: %w", name, err)
		}
		return nil, authnErr(ErrInvalidPass, "Login failure: password mismatch for %q", name)
	}
	if id.MaxEnrollments == 0 {
		return nil, authnErr(ErrInvalidPass, "Login failure: zero is an invalid value for maximum enrollments on identity %q", name)
	}
	if id.Revoked {
		return nil, authnErr(ErrInvalidPass, "Login failure: identity %q is revoked", name)
	}
	if max := ca.effectiveMax(id); max != -1 && id.Enrollments >= max {
		return nil, authnErr(ErrInvalidPass,
			"Login failure: identity %q has already enrolled %d times, its maximum enrollment allowance", name, max)
	}
	if id.IncorrectAttempts != 0 {
		if id, err = ca.updateIdentity(rq.ctx, name, func(u *store.Identity) error {
			u.IncorrectAttempts = 0
			return nil
		}); err != nil {
			return nil, fmt.Errorf("reset incorrect password count of %q: %w", name, err)
		}
	}
	rq.caller = callerInfo{id: id}
	return id, nil
}

// effectiveMax caps an identity's limit by the CA's.
func (ca *caInstance) effectiveMax(id *store.Identity) int {
	max := id.MaxEnrollments
	if caMax := ca.cfg.MaxEnrollments; caMax != -1 && (max == -1 || max > caMax) {
		max = caMax
	}
	return max
}

// enrollDone counts a successful enrollment, refusing it if concurrent
// logins used up the allowance meanwhile.
func (rq *request) enrollDone(name string) error {
	_, err := rq.ca.updateIdentity(rq.ctx, name, func(u *store.Identity) error {
		if max := rq.ca.effectiveMax(u); max != -1 && u.Enrollments >= max {
			return authnErr(ErrInvalidPass, "identity %q reached its maximum enrollment allowance", name)
		}
		u.Enrollments++
		return nil
	})
	return err
}

// tokenAuth authenticates "<base64 PEM cert>.<base64 signature>": the
// signature must verify, the certificate must be one this CA issued and
// still good, and its identity must exist unrevoked. With noReplay, a token
// seen before is refused: used for requests that change state, since the
// npm client signs deterministically and so repeats tokens for identical
// reads.
func (rq *request) tokenAuth(noReplay bool) (*store.Identity, error) {
	hdr := rq.r.Header.Get("Authorization")
	if hdr == "" {
		return nil, newHTTPErr(http.StatusUnauthorized, ErrNoAuthHdr, "No authorization header")
	}
	ca, err := rq.getCA()
	if err != nil {
		return nil, err
	}
	body, err := rq.rawBody()
	if err != nil {
		return nil, err
	}
	cert, err := verifyToken(hdr, rq.r.Method, rq.requestURIs(), body)
	if err != nil {
		return nil, authnErr(ErrInvalidToken, "Invalid token in authorization header: %s", err)
	}
	if err := cert.CheckSignatureFrom(ca.cert); err != nil {
		return nil, authnErr(ErrUntrustedCertificate, "Untrusted certificate: not issued by CA %q: %s", ca.name, err)
	}
	now := ca.now()
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return nil, authnErr(ErrCertExpired, "The certificate in the authorization header is expired or not yet valid")
	}
	serial, aki := certKeys(cert)
	recs, err := ca.store.ListCertificates(rq.ctx, ca.name, store.CertFilter{Serial: serial, AKI: aki})
	if err != nil {
		return nil, fmt.Errorf("look up certificate %s: %w", serial, err)
	}
	if len(recs) == 0 {
		return nil, authnErr(ErrCertNotFound, "Certificate %s/%s was not issued by this CA", serial, aki)
	}
	if recs[0].Status == "revoked" {
		return nil, authnErr(ErrCertRevoked, "The certificate in the authorization header is a revoked certificate")
	}
	id, err := ca.store.GetIdentity(rq.ctx, ca.name, recs[0].ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, authnErr(ErrGettingUser, "Identity %q of the token's certificate does not exist", recs[0].ID)
	}
	if err != nil {
		return nil, fmt.Errorf("get identity %q: %w", recs[0].ID, err)
	}
	if id.Revoked {
		return nil, authnErr(ErrRevokedID, "Identity %q is revoked", id.Name)
	}
	if noReplay {
		sum := sha256.Sum256([]byte(hdr))
		if err := ca.store.UseToken(rq.ctx, ca.name, sum[:], now); errors.Is(err, store.ErrReplay) {
			return nil, authnErr(ErrInvalidToken, "Invalid token in authorization header: already used")
		} else if err != nil {
			return nil, fmt.Errorf("record token: %w", err)
		}
	}
	rq.caller = callerInfo{id: id, cert: cert}
	return id, nil
}

// requestURIs is the request target as received and as Go re-encodes it;
// the client signed one of them.
func (rq *request) requestURIs() []string {
	uris := []string{}
	if rq.r.RequestURI != "" {
		uris = append(uris, rq.r.RequestURI)
	}
	if u := rq.r.URL.RequestURI(); len(uris) == 0 || u != uris[0] {
		uris = append(uris, u)
	}
	return uris
}

// verifyToken checks the token's signature over
// "METHOD.b64(uri).b64(body).b64cert", what current clients sign. The older
// "b64(body).b64cert" form is refused: it binds neither method nor path, so
// one token would authorize any endpoint taking the same body.
func verifyToken(token, method string, uris []string, body []byte) (*x509.Certificate, error) {
	b64Cert, b64Sig, ok := strings.Cut(token, ".")
	if !ok || strings.Contains(b64Sig, ".") {
		return nil, errors.New("expecting 2 parts separated by '.'")
	}
	pemCert, err := base64.StdEncoding.DecodeString(b64Cert)
	if err != nil {
		return nil, fmt.Errorf("certificate is not valid base64: %w", err)
	}
	cert, err := fabcrypto.ParseCertPEM(pemCert)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	sig, err := base64.StdEncoding.DecodeString(b64Sig)
	if err != nil {
		return nil, fmt.Errorf("signature is not valid base64: %w", err)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return nil, errors.New("certificate key is not ECDSA")
	}
	b64Body := base64.StdEncoding.EncodeToString(body)
	var candidates []string
	for _, uri := range uris {
		candidates = append(candidates, method+"."+base64.StdEncoding.EncodeToString([]byte(uri))+"."+b64Body+"."+b64Cert)
	}
	var lastErr error
	for _, msg := range candidates {
		if lastErr = fabcrypto.Verify(pub, []byte(msg), sig); lastErr == nil {
			return cert, nil
		}
	}
	return nil, fmt.Errorf("signature does not verify: %w", lastErr)
}

// certKeys are the store's keys of a certificate: lower-case hex serial
// and AKI without leading zeros, as Fabric CA compares them.
func certKeys(cert *x509.Certificate) (serial, aki string) {
	return normHex(cert.SerialNumber.Text(16)), normHex(hex.EncodeToString(cert.AuthorityKeyId))
}

// normHex normalises a user-given serial or AKI: lower case, no colons, no
// leading zeros.
func normHex(s string) string {
	return strings.TrimLeft(strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), ":", ""), "0")
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
