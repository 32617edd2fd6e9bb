package msp

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	common "weft/wire/common"
)

// Validate checks that id is a currently valid identity of this MSP: issued
// by a leaf CA of the MSP's tree, not a CA itself, within its validity
// period per m.Now, not revoked, and (with NodeOUs) carrying exactly one
// NodeOU role.
func (m *MSP) Validate(id *Identity) error {
	if err := m.validate(id, true); err != nil {
		return fmt.Errorf("%s is not valid: %w", id, err)
	}
	return nil
}

func (m *MSP) validate(id *Identity, checkTime bool) error {
	if id == nil || id.Cert == nil {
		return errors.New("identity has no certificate")
	}
	chk := m.staticChecks(id)
	if chk.beforeTime != nil {
		return chk.beforeTime
	}
	if checkTime {
		if err := m.checkValidityPeriod(id); err != nil {
			return err
		}
	}
	return chk.afterTime
}

// staticResult is the part of validation that does not depend on the clock,
// split where the clock check sits so that errors come out in the same order
// whether or not the result was memoised.
type staticResult struct {
	beforeTime error
	afterTime  error
}

// staticChecks memoises the clock-independent checks on identities of this
// MSP: they depend only on the certificate and the MSP's immutable config
// (CAs, CRLs, OUs), and the chain verification among them dominates the cost
// of validating an identity.
func (m *MSP) staticChecks(id *Identity) staticResult {
	if id.msp != m {
		return m.computeStatic(id)
	}
	id.staticOnce.Do(func() { id.static = m.computeStatic(id) })
	return id.static
}

func (m *MSP) computeStatic(id *Identity) staticResult {
	if id.MSPID != m.name {
		return staticResult{beforeTime: fmt.Errorf("identity belongs to MSP %q, not %q", id.MSPID, m.name)}
	}
	switch id.Cert.PublicKeyAlgorithm {
	case x509.ECDSA, x509.Ed25519:
	default:
		return staticResult{beforeTime: fmt.Errorf("public key algorithm %s is not supported", id.Cert.PublicKeyAlgorithm)}
	}
	chain, err := m.identityChain(id)
	if err != nil {
		return staticResult{beforeTime: err}
	}
	if err := m.checkRevoked(id.Cert, chain); err != nil {
		return staticResult{afterTime: err}
	}
	return staticResult{afterTime: m.validateOUs(id, chainID(chain[1:]))}
}

// checkValidityPeriod is the one check that must run on every use: a cached
// identity expires like any other.
func (m *MSP) checkValidityPeriod(id *Identity) error {
	now := m.now()
	if now.Before(id.Cert.NotBefore) {
		return fmt.Errorf("certificate is not valid before %s (now %s)", id.Cert.NotBefore.UTC().Format("2006-01-02T15:04:05Z"), now.UTC().Format("2006-01-02T15:04:05Z"))
	}
	if now.After(id.Cert.NotAfter) {
		return fmt.Errorf("certificate expired at %s (now %s)", id.Cert.NotAfter.UTC().Format("2006-01-02T15:04:05Z"), now.UTC().Format("2006-01-02T15:04:05Z"))
	}
	return nil
}

// identityChain returns the validation chain of an identity certificate,
// cached on identities of this MSP.
func (m *MSP) identityChain(id *Identity) ([]*x509.Certificate, error) {
	compute := func() ([]*x509.Certificate, error) {
		if id.Cert.IsCA {
			return nil, errors.New("certificate is a CA (basic constraints CA=true) and cannot be used as an identity")
		}
		chain, err := m.verifyChain(id.Cert, m.rootPool, m.interPool)
		if err != nil {
			return nil, err
		}
		if len(chain) < 2 {
			return nil, fmt.Errorf("validation chain has length %d, want at least 2", len(chain))
		}
		if m.internal[string(chain[1].Raw)] {
			return nil, fmt.Errorf("issuer %q issued another CA of the MSP; identities must come from a leaf CA", chain[1].Subject.CommonName)
		}
		return chain, nil
	}
	if id.msp != m {
		return compute()
	}
	id.chainOnce.Do(func() { id.chain, id.chainErr = compute() })
	return id.chain, id.chainErr
}

// checkRevoked looks for cert's serial in the CRLs issued by its direct
// issuer (matched by key identifier and verified signature).
func (m *MSP) checkRevoked(cert *x509.Certificate, chain []*x509.Certificate) error {
	if len(chain) < 2 || len(m.crls) == 0 {
		return nil
	}
	issuer := chain[1]
	ski, err := subjectKeyID(issuer)
	if err != nil {
		return fmt.Errorf("issuer %q: %w", issuer.Subject.CommonName, err)
	}
	for _, rl := range m.crls {
		if !bytes.Equal(rl.AuthorityKeyId, ski) {
			continue
		}
		for _, rc := range rl.RevokedCertificateEntries {
			if rc.SerialNumber == nil || rc.SerialNumber.Cmp(cert.SerialNumber) != 0 {
				continue
			}
			// A CRL whose signature does not verify is ignored, not fatal,
			// so a bogus CRL cannot revoke anyone.
			if issuer.CheckSignature(rl.SignatureAlgorithm, rl.RawTBSRevocationList, rl.Signature) != nil {
				continue
			}
			return fmt.Errorf("certificate serial %x has been revoked by %q", cert.SerialNumber, issuer.Subject.CommonName)
		}
	}
	return nil
}

func (m *MSP) validateOUs(id *Identity, certifiers []byte) error {
	ous := id.Cert.Subject.OrganizationalUnit
	if len(m.ous) > 0 {
		found := false
		for _, ou := range ous {
			for _, want := range m.ous[ou] {
				found = found || bytes.Equal(want, certifiers)
			}
		}
		if !found {
			if len(ous) == 0 {
				return errors.New("certificate has no Organizational Unit but the MSP requires one of its organizational_unit_identifiers")
			}
			return fmt.Errorf("none of the certificate's OUs [%s] is an organizational_unit_identifier of the MSP", strings.Join(ous, ", "))
		}
	}
	if !m.nodeOUs {
		return nil
	}
	byOU := map[string]*ouIdentifier{}
	for _, n := range []*ouIdentifier{m.client, m.peer, m.admin, m.orderer} {
		if n != nil {
			byOU[n.ou] = n
		}
	}
	count := 0
	for _, ou := range ous {
		n := byOU[ou]
		if n == nil {
			continue
		}
		if len(n.certifiers) != 0 && !bytes.Equal(n.certifiers, certifiers) {
			return fmt.Errorf("NodeOU %q was not certified by the CA the MSP config names for it", ou)
		}
		count++
	}
	switch {
	case count == 0:
		return fmt.Errorf("certificate OUs [%s] contain no NodeOU (client, peer, admin or orderer)", strings.Join(ous, ", "))
	case count > 1:
		return fmt.Errorf("certificate OUs [%s] contain %d NodeOUs; exactly one of client, peer, admin or orderer is allowed", strings.Join(ous, ", "), count)
	}
	return nil
}

func (m *MSP) nodeOU(role common.MSPRole_MSPRoleType) *ouIdentifier {
	switch role {
	case common.MSPRole_CLIENT:
		return m.client
	case common.MSPRole_PEER:
		return m.peer
	case common.MSPRole_ADMIN:
		return m.admin
	case common.MSPRole_ORDERER:
		return m.orderer
	}
	return nil
}

// hasOURole reports whether id carries the OU of a NodeOU role; the
// certifiers check is part of validation, not repeated here.
func (m *MSP) hasOURole(id *Identity, role common.MSPRole_MSPRoleType) error {
	if !m.nodeOUs {
		return fmt.Errorf("NodeOUs are not enabled in MSP %q, so identities cannot be told apart as %s", m.name, strings.ToLower(role.String()))
	}
	n := m.nodeOU(role)
	if n == nil {
		return fmt.Errorf("MSP %q defines no NodeOU for role %s", m.name, strings.ToLower(role.String()))
	}
	if _, err := m.identityChain(id); err != nil {
		return err
	}
	for _, ou := range id.Cert.Subject.OrganizationalUnit {
		if ou == n.ou {
			return nil
		}
	}
	return fmt.Errorf("certificate OUs [%s] do not include the %s OU %q", strings.Join(id.Cert.Subject.OrganizationalUnit, ", "), strings.ToLower(role.String()), n.ou)
}

func (m *MSP) isAdmin(id *Identity) bool {
	for _, a := range m.admins {
		if bytes.Equal(a.Raw, id.Cert.Raw) {
			return true
		}
	}
	return false
}
