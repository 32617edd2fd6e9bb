package fabcrypto

import (
	"crypto"
	"crypto/ecdsa"
	"errors"
	"io"
)

// Signer signs messages the Fabric way (SHA-256, low-S DER). Keeping the
// interface this small lets an HSM- or remote-backed signer slot in later.
type Signer interface {
	// Sign hashes msg with SHA-256 and returns a low-S DER signature.
	Sign(msg []byte) ([]byte, error)
	// Public returns the verifying key (an *ecdsa.PublicKey for KeySigner).
	Public() crypto.PublicKey
}

// KeySigner is a Signer backed by an in-memory private key.
type KeySigner struct {
	key *ecdsa.PrivateKey
}

// NewSigner wraps key; it fails on a nil key rather than panicking later.
func NewSigner(key *ecdsa.PrivateKey) (*KeySigner, error) {
	if key == nil {
		return nil, errors.New("new signer: private key is nil")
	}
	return &KeySigner{key: key}, nil
}

// Sign implements Signer.
func (s *KeySigner) Sign(msg []byte) ([]byte, error) { return Sign(s.key, msg) }

// Public implements Signer.
func (s *KeySigner) Public() crypto.PublicKey { return &s.key.PublicKey }

// CryptoSigner adapts the key to crypto.Signer so that certificates issued
// through crypto/x509 carry low-S signatures, as cryptogen's do.
func (s *KeySigner) CryptoSigner() crypto.Signer { return lowSSigner{s.key} }

type lowSSigner struct{ key *ecdsa.PrivateKey }

func (l lowSSigner) Public() crypto.PublicKey { return &l.key.PublicKey }

// Sign receives a digest already computed by crypto/x509, so it must not
// hash again; the rand argument is ignored in favour of crypto/rand.
func (l lowSSigner) Sign(_ io.Reader, digest []byte, _ crypto.SignerOpts) ([]byte, error) {
	return SignDigest(l.key, digest)
}
