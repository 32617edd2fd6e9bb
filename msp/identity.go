package msp

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"

	"weft/fabcrypto"
	mspproto "weft/wire/msp"

	"google.golang.org/protobuf/proto"
)

// Identity is an X.509 identity of one MSP.
type Identity struct {
	MSPID string
	// Cert is the certificate with its issuer signature in low-S form, the
	// form Fabric compares and hashes.
	Cert *x509.Certificate
	// Serialized is the marshaled SerializedIdentity exactly as received;
	// transaction IDs and signatures cover these bytes, so they are kept.
	Serialized []byte
	// ID is hex(SHA-256(Cert.Raw)); with MSPID it identifies the signer when
	// signature sets are deduplicated.
	ID string

	msp *MSP

	// The chain does not depend on the clock (it is built as of NotBefore,
	// as Fabric does), so it is computed once per identity.
	chainOnce sync.Once
	chain     []*x509.Certificate
	chainErr  error

	// static memoises MSP.staticChecks, for the same reason.
	staticOnce sync.Once
	static     staticResult
}

func newIdentity(mspID string, cert *x509.Certificate, serialized []byte, m *MSP) *Identity {
	sum := sha256.Sum256(cert.Raw)
	return &Identity{MSPID: mspID, Cert: cert, Serialized: serialized, ID: hex.EncodeToString(sum[:]), msp: m}
}

// Verify checks sig over msg: ECDSA over SHA-256(msg) with low-S enforced,
// or Ed25519 over msg itself (Fabric v3).
func (id *Identity) Verify(msg, sig []byte) error {
	if id == nil || id.Cert == nil {
		return errors.New("verify: identity has no certificate")
	}
	switch pub := id.Cert.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if err := fabcrypto.Verify(pub, msg, sig); err != nil {
			return fmt.Errorf("verify signature of %s: %w", id, err)
		}
		return nil
	case ed25519.PublicKey:
		if !ed25519.Verify(pub, msg, sig) {
			return fmt.Errorf("verify signature of %s: Ed25519 signature does not verify", id)
		}
		return nil
	}
	return fmt.Errorf("verify signature of %s: unsupported public key type %T", id, id.Cert.PublicKey)
}

// String names the identity for error messages.
func (id *Identity) String() string {
	if id == nil || id.Cert == nil {
		return "<nil identity>"
	}
	return fmt.Sprintf("%s identity %q", id.MSPID, id.Cert.Subject.CommonName)
}

// Serialize marshals a SerializedIdentity carrying certPEM, the form every
// Fabric client sends as creator.
func Serialize(mspID string, certPEM []byte) ([]byte, error) {
	b, err := proto.Marshal(&mspproto.SerializedIdentity{Mspid: mspID, IdBytes: certPEM})
	if err != nil {
		return nil, fmt.Errorf("serialize identity of %q: %w", mspID, err)
	}
	return b, nil
}

// ParseSerialized splits a marshaled SerializedIdentity into its MSP ID and
// parsed certificate without validating anything.
func ParseSerialized(serialized []byte) (string, *x509.Certificate, error) {
	var sid mspproto.SerializedIdentity
	if err := proto.Unmarshal(serialized, &sid); err != nil {
		return "", nil, fmt.Errorf("serialized identity: %w", err)
	}
	cert, err := parseCertPEM(sid.GetIdBytes())
	if err != nil {
		return sid.GetMspid(), nil, fmt.Errorf("serialized identity of %q: id_bytes: %w", sid.GetMspid(), err)
	}
	return sid.GetMspid(), cert, nil
}
