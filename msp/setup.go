package msp

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"

	common "weft/wire/common"
	mspproto "weft/wire/msp"
)

func (m *MSP) setupCrypto() error {
	cc := m.conf.GetCryptoConfig()
	if f := cc.GetSignatureHashFamily(); f != "" && f != "SHA2" {
		return fmt.Errorf("signature_hash_family %q is not supported, want SHA2", f)
	}
	if f := cc.GetIdentityIdentifierHashFunction(); f != "" && f != "SHA256" {
		return fmt.Errorf("identity_identifier_hash_function %q is not supported, want SHA256", f)
	}
	return nil
}

func parseCertList(field string, pems [][]byte) ([]*x509.Certificate, error) {
	out := make([]*x509.Certificate, 0, len(pems))
	for i, p := range pems {
		c, err := parseCertPEM(p)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", field, i, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// setupCAs loads the CA certificates and replaces each by its sanitized
// form, chaining through the unsanitized pools first as Fabric does.
func (m *MSP) setupCAs() error {
	if len(m.conf.GetRootCerts()) == 0 {
		return errors.New("root_certs is empty, at least one CA certificate is required")
	}
	roots, err := parseCertList("root_certs", m.conf.GetRootCerts())
	if err != nil {
		return err
	}
	inters, err := parseCertList("intermediate_certs", m.conf.GetIntermediateCerts())
	if err != nil {
		return err
	}
	rawRoots, rawInters := x509.NewCertPool(), x509.NewCertPool()
	for _, c := range roots {
		rawRoots.AddCert(c)
	}
	for _, c := range inters {
		rawInters.AddCert(c)
	}
	clean := func(field string, i int, c *x509.Certificate) (*x509.Certificate, error) {
		if !isECDSASigned(c) {
			return c, nil
		}
		if c.IsCA && c.CheckSignatureFrom(c) == nil {
			return sanitize(c, c)
		}
		if field == "root_certs" {
			return nil, fmt.Errorf("%s[%d] (subject %q) is not a self-signed CA certificate", field, i, c.Subject.CommonName)
		}
		chain, err := m.verifyChain(c, rawRoots, rawInters)
		if err != nil {
			return nil, fmt.Errorf("%s[%d] (subject %q): %w", field, i, c.Subject.CommonName, err)
		}
		if len(chain) < 2 {
			return nil, fmt.Errorf("%s[%d] (subject %q): no issuer found", field, i, c.Subject.CommonName)
		}
		return sanitize(c, chain[1])
	}
	m.rootPool, m.interPool = x509.NewCertPool(), x509.NewCertPool()
	for i, c := range roots {
		s, err := clean("root_certs", i, c)
		if err != nil {
			return err
		}
		m.roots = append(m.roots, s)
		m.rootPool.AddCert(s)
	}
	for i, c := range inters {
		s, err := clean("intermediate_certs", i, c)
		if err != nil {
			return err
		}
		m.intermediates = append(m.intermediates, s)
		m.interPool.AddCert(s)
	}
	return nil
}

func (m *MSP) setupCRLs() error {
	for i, raw := range m.conf.GetRevocationList() {
		rl, err := parseCRL(raw)
		if err != nil {
			return fmt.Errorf("revocation_list[%d]: %w", i, err)
		}
		m.crls = append(m.crls, rl)
	}
	return nil
}

// finalizeCAs checks every CA and records which CAs are inner nodes of the
// CA tree.
func (m *MSP) finalizeCAs() error {
	all := append(append([]*x509.Certificate{}, m.roots...), m.intermediates...)
	for _, c := range all {
		if !c.IsCA {
			return fmt.Errorf("certificate %q (serial %x) is not a CA (basic constraints CA=false)", c.Subject.CommonName, c.SerialNumber)
		}
		if _, err := subjectKeyID(c); err != nil {
			return fmt.Errorf("CA %q (serial %x): %w", c.Subject.CommonName, c.SerialNumber, err)
		}
	}
	m.internal = map[string]bool{}
	for _, c := range m.intermediates {
		chain, err := m.verifyChain(c, m.rootPool, m.interPool)
		if err != nil {
			return fmt.Errorf("intermediate CA %q: %w", c.Subject.CommonName, err)
		}
		if err := m.checkRevoked(c, chain); err != nil {
			return fmt.Errorf("intermediate CA %q: %w", c.Subject.CommonName, err)
		}
		for _, p := range chain[1:] {
			m.internal[string(p.Raw)] = true
		}
	}
	return nil
}

func (m *MSP) setupTLSCAs() error {
	roots, err := parseCertList("tls_root_certs", m.conf.GetTlsRootCerts())
	if err != nil {
		return err
	}
	inters, err := parseCertList("tls_intermediate_certs", m.conf.GetTlsIntermediateCerts())
	if err != nil {
		return err
	}
	rp, ip := x509.NewCertPool(), x509.NewCertPool()
	for _, c := range roots {
		rp.AddCert(c)
	}
	for _, c := range inters {
		ip.AddCert(c)
	}
	for _, c := range append(roots, inters...) {
		if !c.IsCA {
			return fmt.Errorf("TLS certificate %q is not a CA", c.Subject.CommonName)
		}
		if _, err := subjectKeyID(c); err != nil {
			return fmt.Errorf("TLS CA %q: %w", c.Subject.CommonName, err)
		}
	}
	for _, c := range inters {
		if _, err := m.verifyChain(c, rp, ip); err != nil {
			return fmt.Errorf("TLS intermediate CA %q: %w", c.Subject.CommonName, err)
		}
	}
	return nil
}

// certifiersID computes the identifier of a CA named by an OU entry: the
// chain hash from that CA up to its root.
func (m *MSP) certifiersID(certPEM []byte) ([]byte, error) {
	c, err := parseCertPEM(certPEM)
	if err != nil {
		return nil, err
	}
	for _, r := range m.roots {
		if sameCert(r, c) {
			return chainID([]*x509.Certificate{r}), nil
		}
	}
	for _, in := range m.intermediates {
		if !sameCert(in, c) {
			continue
		}
		chain, err := m.verifyChain(in, m.rootPool, m.interPool)
		if err != nil {
			return nil, err
		}
		if m.internal[string(in.Raw)] {
			return nil, fmt.Errorf("CA %q issued another configured CA, only leaf CAs can certify OUs", in.Subject.CommonName)
		}
		return chainID(chain), nil
	}
	return nil, fmt.Errorf("certificate %q is not one of the MSP's root or intermediate CAs", c.Subject.CommonName)
}

// sameCert compares a sanitized CA with a certificate as configured, which
// may still carry its high-S signature.
func sameCert(clean, c *x509.Certificate) bool {
	return bytes.Equal(clean.Raw, c.Raw) ||
		(bytes.Equal(clean.RawTBSCertificate, c.RawTBSCertificate) && clean.SignatureAlgorithm == c.SignatureAlgorithm)
}

func (m *MSP) setupOUs() error {
	m.ous = map[string][][]byte{}
	for i, ou := range m.conf.GetOrganizationalUnitIdentifiers() {
		id, err := m.certifiersID(ou.GetCertificate())
		if err != nil {
			return fmt.Errorf("[%d] (OU %q): certificate: %w", i, ou.GetOrganizationalUnitIdentifier(), err)
		}
		dup := false
		for _, have := range m.ous[ou.GetOrganizationalUnitIdentifier()] {
			dup = dup || bytes.Equal(have, id)
		}
		if !dup {
			m.ous[ou.GetOrganizationalUnitIdentifier()] = append(m.ous[ou.GetOrganizationalUnitIdentifier()], id)
		}
	}
	return nil
}

func (m *MSP) setupNodeOUs() error {
	n := m.conf.GetFabricNodeOus()
	if n == nil {
		return nil
	}
	load := func(field string, f *mspproto.FabricOUIdentifier) (*ouIdentifier, error) {
		if f == nil {
			return nil, nil
		}
		oi := &ouIdentifier{ou: f.GetOrganizationalUnitIdentifier()}
		if len(f.GetCertificate()) > 0 {
			id, err := m.certifiersID(f.GetCertificate())
			if err != nil {
				return nil, fmt.Errorf("%s.certificate: %w", field, err)
			}
			oi.certifiers = id
		}
		return oi, nil
	}
	var err error
	if m.client, err = load("client_ou_identifier", n.GetClientOuIdentifier()); err != nil {
		return err
	}
	if m.peer, err = load("peer_ou_identifier", n.GetPeerOuIdentifier()); err != nil {
		return err
	}
	if m.admin, err = load("admin_ou_identifier", n.GetAdminOuIdentifier()); err != nil {
		return err
	}
	if m.orderer, err = load("orderer_ou_identifier", n.GetOrdererOuIdentifier()); err != nil {
		return err
	}
	m.nodeOUs = n.GetEnable() && (m.client != nil || m.peer != nil || m.admin != nil || m.orderer != nil)
	return nil
}

func (m *MSP) setupAdmins() error {
	for i, p := range m.conf.GetAdmins() {
		c, err := parseCertPEM(p)
		if err != nil {
			return fmt.Errorf("[%d]: %w", i, err)
		}
		clean, err := m.sanitizeIdentityCert(c)
		if err != nil {
			return fmt.Errorf("[%d] (subject %q): %w", i, c.Subject.CommonName, err)
		}
		m.admins = append(m.admins, clean)
	}
	if len(m.admins) == 0 && (!m.nodeOUs || m.admin == nil) {
		return errors.New("no admins listed and no admin OU classification enabled; one of them is required")
	}
	for i, c := range m.admins {
		id := newIdentity(m.name, c, nil, m)
		if !m.nodeOUs {
			if err := m.validate(id, false); err != nil {
				return fmt.Errorf("[%d] (subject %q) is invalid: %w", i, c.Subject.CommonName, err)
			}
			continue
		}
		errClient := m.hasOURole(id, common.MSPRole_CLIENT)
		errAdmin := m.hasOURole(id, common.MSPRole_ADMIN)
		if errClient != nil && errAdmin != nil {
			return fmt.Errorf("[%d] (subject %q) carries neither the client nor the admin OU: %v; %v", i, c.Subject.CommonName, errClient, errAdmin)
		}
	}
	return nil
}
