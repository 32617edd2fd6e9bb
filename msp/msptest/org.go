package msptest

import (
	"crypto/ecdsa"
	"crypto/x509"
	"fmt"

	"weft/fabcrypto"
	mspproto "weft/wire/msp"

	"google.golang.org/protobuf/proto"
)

// NodeOU strings used by Org, the ones cryptogen and fabric-ca use.
const (
	OUClient  = "client"
	OUPeer    = "peer"
	OUAdmin   = "admin"
	OUOrderer = "orderer"
)

// Org is a test organisation: a root CA, optionally an intermediate CA that
// issues its members, and the knobs of its MSP config.
type Org struct {
	MSPID        string
	Root         *CA
	Intermediate *CA
	// NodeOUs enables client/peer/admin/orderer classification.
	NodeOUs bool
	// NodeOUCert, when set, is placed in every NodeOU identifier's
	// certificate field (binding the OUs to that CA's chain).
	NodeOUCert []byte
	// Admins are PEM certificates for FabricMSPConfig.admins.
	Admins [][]byte
	// CRLs are PEM CRLs for FabricMSPConfig.revocation_list.
	CRLs [][]byte
}

// NewOrg creates an organisation with NodeOUs enabled; with intermediate
// set, members are issued by an intermediate CA under the root.
func NewOrg(mspID string, intermediate bool) (*Org, error) {
	root, err := NewRootCA("ca." + mspID)
	if err != nil {
		return nil, err
	}
	o := &Org{MSPID: mspID, Root: root, NodeOUs: true}
	if intermediate {
		if o.Intermediate, err = root.NewIntermediateCA("ica." + mspID); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// Issuer is the CA that issues the organisation's members.
func (o *Org) Issuer() *CA {
	if o.Intermediate != nil {
		return o.Intermediate
	}
	return o.Root
}

// FabricConfig returns the FabricMSPConfig for the organisation.
func (o *Org) FabricConfig() *mspproto.FabricMSPConfig {
	c := &mspproto.FabricMSPConfig{
		Name:           o.MSPID,
		RootCerts:      [][]byte{o.Root.PEM},
		Admins:         o.Admins,
		RevocationList: o.CRLs,
		CryptoConfig:   &mspproto.FabricCryptoConfig{SignatureHashFamily: "SHA2", IdentityIdentifierHashFunction: "SHA256"},
	}
	if o.Intermediate != nil {
		c.IntermediateCerts = [][]byte{o.Intermediate.PEM}
	}
	if o.NodeOUs {
		id := func(ou string) *mspproto.FabricOUIdentifier {
			return &mspproto.FabricOUIdentifier{OrganizationalUnitIdentifier: ou, Certificate: o.NodeOUCert}
		}
		c.FabricNodeOus = &mspproto.FabricNodeOUs{
			Enable:              true,
			ClientOuIdentifier:  id(OUClient),
			PeerOuIdentifier:    id(OUPeer),
			AdminOuIdentifier:   id(OUAdmin),
			OrdererOuIdentifier: id(OUOrderer),
		}
	}
	return c
}

// Config returns the channel-form MSPConfig for the organisation.
func (o *Org) Config() (*mspproto.MSPConfig, error) {
	raw, err := proto.Marshal(o.FabricConfig())
	if err != nil {
		return nil, fmt.Errorf("org %q: marshal msp config: %w", o.MSPID, err)
	}
	return &mspproto.MSPConfig{Type: 0, Config: raw}, nil
}

// Member is an issued identity with its key.
type Member struct {
	MSPID      string
	Cert       *x509.Certificate
	Key        *ecdsa.PrivateKey
	PEM        []byte
	Serialized []byte
}

// NewMember issues a member certificate from the organisation's issuer.
func (o *Org) NewMember(opts CertOpts) (*Member, error) {
	return o.NewMemberFrom(o.Issuer(), opts)
}

// NewMemberFrom issues a member certificate from an arbitrary CA, e.g. one
// the MSP does not trust.
func (o *Org) NewMemberFrom(ca *CA, opts CertOpts) (*Member, error) {
	cert, key, err := ca.Issue(opts)
	if err != nil {
		return nil, err
	}
	return NewMember(o.MSPID, cert, key)
}

// NewMember wraps an existing certificate and key as a Member of mspID.
func NewMember(mspID string, cert *x509.Certificate, key *ecdsa.PrivateKey) (*Member, error) {
	p := EncodePEM(cert)
	ser, err := proto.Marshal(&mspproto.SerializedIdentity{Mspid: mspID, IdBytes: p})
	if err != nil {
		return nil, err
	}
	return &Member{MSPID: mspID, Cert: cert, Key: key, PEM: p, Serialized: ser}, nil
}

// Sign signs msg the Fabric way (SHA-256, low-S).
func (m *Member) Sign(msg []byte) ([]byte, error) {
	return fabcrypto.Sign(m.Key, msg)
}

// Role issues a member whose only OU is role ("client", "peer", ...).
func (o *Org) Role(cn, role string) (*Member, error) {
	return o.NewMember(CertOpts{CN: cn, OUs: []string{role}})
}
